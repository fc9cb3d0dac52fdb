"""The small query language behind search (``/``) and filter (``&``) in the step list.

``kind:tool,llm``  steps of these kinds (``k:`` for short)
``is:error``       failed steps (also ``is:running``, ``is:ok``)
``name:lookup``    the step's name contains the text
``text:refund``    the step's payload (attributes, error) contains the text
``refund``         a bare word: in the name *or* the payload

Words are ANDed and case-insensitive; quote to keep spaces (``"order id"``). Name, kind and
status checks read only the light :class:`~trace_tui.core.model.run.StepRow`; payload checks load
the step, so they run in a worker over big runs.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import orjson

from trace_tui.core.errors import BadValue
from trace_tui.core.model.run import STEP_KINDS, RunView, Step, StepRow

_STATUS_WORDS = {"error": "error", "errors": "error", "failed": "error", "ok": "ok",
                 "running": "running", "unset": "unset"}


class QueryError(BadValue):
    """The query text cannot be understood (the message says why)."""


@dataclass(frozen=True, slots=True)
class StepQuery:
    """A parsed query; empty fields do not constrain."""

    text: str
    kinds: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    names: tuple[str, ...] = ()
    payload: tuple[str, ...] = ()
    words: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> StepQuery:
        """Parse ``text``; raises :class:`QueryError` for unknown kinds or bad quoting."""
        try:
            tokens = shlex.split(text)
        except ValueError as exc:
            raise QueryError(f"cannot read the query: {exc}") from None
        kinds: set[str] = set()
        statuses: set[str] = set()
        names: list[str] = []
        payload: list[str] = []
        words: list[str] = []
        for token in tokens:
            field, sep, value = token.partition(":")
            field = field.lower()
            if sep and field in ("kind", "k"):
                for kind in filter(None, value.lower().split(",")):
                    if kind not in STEP_KINDS:
                        raise QueryError(f"unknown kind {kind!r}; kinds: {', '.join(STEP_KINDS)}")
                    kinds.add(kind)
            elif sep and field in ("is", "status"):
                status = _STATUS_WORDS.get(value.lower())
                if status is None:
                    raise QueryError(f"unknown status {value!r}; try is:error, is:ok, is:running")
                statuses.add(status)
            elif sep and field == "name":
                names.append(value.lower())
            elif sep and field == "text":
                payload.append(value.lower())
            else:
                words.append(token.lower())
        return cls(text, frozenset(kinds), frozenset(statuses), tuple(names), tuple(payload),
                   tuple(words))

    @property
    def empty(self) -> bool:
        """True when the query constrains nothing."""
        return not (self.kinds or self.statuses or self.names or self.payload or self.words)

    @property
    def needs_payload(self) -> bool:
        """True when some step may need its payload loaded to decide."""
        return bool(self.payload or self.words)

    def matches_row(self, row: StepRow) -> bool | None:
        """Decide from the light row: True, False, or ``None`` when the payload must be read."""
        if self.kinds and row.kind not in self.kinds:
            return False
        if self.statuses and row.status not in self.statuses:
            return False
        name = row.name.lower()
        if any(n not in name for n in self.names):
            return False
        if self.payload or any(w not in name and w != row.kind for w in self.words):
            return None
        return True

    def matches_step(self, step: Step) -> bool:
        """Decide with the whole step (payload included)."""
        row_like = StepRow(step.index, step.kind, step.name, 0, -1, step.status,
                           step.start_time, step.end_time, None, None)
        quick = self.matches_row(row_like)
        if quick is not None:
            return quick
        haystack = payload_text(step)
        name = step.name.lower()
        if any(p not in haystack for p in self.payload):
            return False
        return all(w in name or w == step.kind or w in haystack for w in self.words)


def payload_text(step: Step) -> str:
    """Lower-cased searchable text of a step's payload: attributes as JSON, and the error."""
    try:
        body = orjson.dumps(step.attributes, default=str).decode("utf-8", errors="replace")
    except (TypeError, orjson.JSONEncodeError):
        body = repr(step.attributes)
    return f"{body}\n{step.error or ''}".lower()


def iter_matches(
    run: RunView,
    query: StepQuery,
    indices: Iterable[int],
    cancelled: Callable[[], bool] = lambda: False,
) -> Iterator[int]:
    """The indices among ``indices`` whose step matches ``query`` (stops when cancelled)."""
    for index in indices:
        if cancelled():
            return
        verdict = query.matches_row(run.row(index))
        if verdict is None:
            verdict = query.matches_step(run.step(index))
        if verdict:
            yield index
