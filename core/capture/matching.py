"""How a replayed request finds its recorded answer, and what a miss says.

A model request is compared with the recorded ones the way ``fork`` compares them
(:mod:`trace_tui.core.replay.fixtures`): the canonical hash of its request attributes (system
prompt, messages, tool definitions, model and parameters), the n-th identical request
answered by the n-th recorded answer, past that a miss. Two things come first:

* **Masking.** A recording is normally redacted, a live request is not, so both sides are
  compared through the same redactor (:func:`~trace_tui.core.replay.redaction.matching_redactor`).
* **Normalisers.** Values an agent generates afresh on every run would make every request
  differ. Each normaliser rewrites both sides the same way before hashing. The built-in ones
  (all on by default; pass ``normalisers=()`` for none):

  ``timestamps``
      ISO 8601 dates and date-times in any string (``2026-11-02``, ``2026-11-02T10:00:02.1Z``)
      become ``<timestamp>``, so "Today is 2026-12-02" in a system prompt matches any day.
  ``uuids``
      UUIDs (``8-4-4-4-12`` hex) become ``<uuid>``.
  ``tool_call_ids``
      Tool-call ids (``tool_calls[].id`` and ``tool_call_id``) become ``<call-1>``,
      ``<call-2>``... in order of first appearance in the request.

  A normaliser is any function from request attributes to request attributes; pass your own
  in ``normalisers=[...]`` next to (or instead of) the names.

A miss raises :class:`ReplayMiss`, naming the call and showing how it differs from the
nearest recorded request.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from trace_tui.core.diff.payload import FieldChange, diff_values
from trace_tui.core.model.run import Run, Step
from trace_tui.core.replay.exchange import digest
from trace_tui.core.replay.fixtures import (
    MATCH_RECORDED_RESPONSE,
    has_response,
    request_of,
)
from trace_tui.core.text.canonical import canonical_json
from trace_tui.core.text.redact import Redactor
from trace_tui.core.text.sanitize import one_line

Normaliser = Callable[[dict[str, Any]], dict[str, Any]]

_TIMESTAMP = re.compile(
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b"
)
_UUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)


class ReplayMiss(BaseException):  # noqa: N818 - the name says what happened
    """A replayed call has no recorded answer. Replay stops here; nothing is sent anywhere.

    It derives from ``BaseException``, like ``KeyboardInterrupt``, so neither the SDK's
    retry logic (which wraps transport errors) nor an agent's ``except Exception`` can turn
    it into a guess. ``call`` names the call, ``nearest_step`` is the recorded step it was
    compared with (1-based, or ``None``), ``changes`` what differs from it.
    """

    def __init__(
        self, message: str, *, call: str, nearest_step: int | None, changes: Sequence[FieldChange]
    ) -> None:
        super().__init__(message)
        self.call = call
        self.nearest_step = nearest_step
        self.changes = list(changes)


def _strings(value: Any, rewrite: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return rewrite(value)
    if isinstance(value, list):
        return [_strings(v, rewrite) for v in value]
    if isinstance(value, dict):
        return {k: _strings(v, rewrite) for k, v in value.items()}
    return value


def normalise_timestamps(attrs: dict[str, Any]) -> dict[str, Any]:
    """ISO 8601 dates and date-times → ``<timestamp>``."""
    return _strings(attrs, lambda s: _TIMESTAMP.sub("<timestamp>", s) if "-" in s else s)


def normalise_uuids(attrs: dict[str, Any]) -> dict[str, Any]:
    """UUIDs → ``<uuid>``."""
    return _strings(attrs, lambda s: _UUID.sub("<uuid>", s) if "-" in s else s)


def normalise_tool_call_ids(attrs: dict[str, Any]) -> dict[str, Any]:
    """Tool-call ids → ``<call-N>`` by order of first appearance."""
    names: dict[str, str] = {}

    def alias(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return names.setdefault(value, f"<call-{len(names) + 1}>")

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            out = {k: walk(v) for k, v in value.items()}
            if "tool_call_id" in out:
                out["tool_call_id"] = alias(out["tool_call_id"])
            if isinstance(out.get("tool_calls"), list):
                out["tool_calls"] = [
                    {**c, "id": alias(c.get("id"))} if isinstance(c, dict) and "id" in c else c
                    for c in out["tool_calls"]
                ]
            return out
        return value

    return walk(attrs)


NORMALISERS: dict[str, Normaliser] = {
    "timestamps": normalise_timestamps,
    "uuids": normalise_uuids,
    "tool_call_ids": normalise_tool_call_ids,
}
DEFAULT_NORMALISERS: tuple[str, ...] = ("timestamps", "uuids", "tool_call_ids")


def resolve_normalisers(items: Iterable[str | Normaliser]) -> list[Normaliser]:
    """Names and functions → functions (an unknown name is a ``ValueError`` listing them)."""
    out: list[Normaliser] = []
    for item in items:
        if callable(item):
            out.append(item)
        elif item in NORMALISERS:
            out.append(NORMALISERS[item])
        else:
            known = ", ".join(NORMALISERS)
            raise ValueError(f"unknown normaliser {item!r}; known: {known}")
    return out


@dataclass(frozen=True, slots=True)
class ModelHit:
    """A recorded llm step answering a request, and how it matched."""

    step: Step
    match: str = MATCH_RECORDED_RESPONSE


class RequestMatcher:
    """Recorded model answers by normalised, masked request hash; answered in order."""

    def __init__(self, run: Run, redactor: Redactor, normalisers: Sequence[Normaliser]) -> None:
        self._redactor = redactor
        self._normalisers = list(normalisers)
        self.steps = [s for s in run.steps if has_response(s)]
        self._forms = [self.form(request_of(s).attributes) for s in self.steps]
        self._by_key: dict[str, list[int]] = {}
        for i, form in enumerate(self._forms):
            self._by_key.setdefault(digest(form), []).append(i)
        self._used: Counter[str] = Counter()

    def form(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """Request attributes as compared: masked, then normalised."""
        out = self._redactor.value(attrs)
        for normalise in self._normalisers:
            out = normalise(out)
        return out

    def take(self, attrs: dict[str, Any]) -> ModelHit | None:
        """The next recorded answer to this request, or ``None``."""
        key = digest(self.form(attrs))
        found = self._by_key.get(key, [])
        used = self._used[key]
        if used >= len(found):
            return None
        self._used[key] += 1
        return ModelHit(self.steps[found[used]])

    def miss(self, attrs: dict[str, Any], call: str, position: int) -> ReplayMiss:
        """The exception for a request nothing recorded answers (``position``: 0-based call)."""
        live = self.form(attrs)
        best: tuple[int, int, int] | None = None  # (changes, distance from position, index)
        for i, form in enumerate(self._forms):
            score = (len(diff_values(form, live)), abs(i - position), i)
            if best is None or score < best:
                best = score
        if best is None:
            message = f"{call}: no recorded answer (the recording has no model calls)"
            return ReplayMiss(message, call=call, nearest_step=None, changes=())
        step = self.steps[best[2]]
        changes = diff_values(self._forms[best[2]], live)
        if not changes:
            reason = f"the same request was answered {self._used[digest(live)]} time(s) already"
        else:
            reason = "it differs from the nearest recorded request, step " + str(step.number)
        lines = [f"{call}: no recorded answer; {reason}" + (":" if changes else ".")]
        lines += [describe_change(c) for c in changes[:8]]
        if len(changes) > 8:
            lines.append(f"  ... and {len(changes) - 8} more")
        return ReplayMiss("\n".join(lines), call=call, nearest_step=step.number, changes=changes)


def describe_change(change: FieldChange, limit: int = 100) -> str:
    """One line: pointer, recorded value → replayed value (sanitised, cut)."""

    def show(value: Any) -> str:
        text = value if isinstance(value, str) else canonical_json(value)
        return one_line(text, limit)

    if change.op == "added":
        return f"  + {change.pointer}: {show(change.new)}"
    if change.op == "removed":
        return f"  - {change.pointer}: {show(change.old)}"
    return f"  ~ {change.pointer}: recorded {show(change.old)} → now {show(change.new)}"
