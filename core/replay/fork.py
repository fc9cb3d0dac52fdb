"""Fork a run at a step with edited inputs: JSON-patch edits on the step's native span record.

An edit is an RFC 6902 operation (``add``, ``replace`` or ``remove``) whose ``path`` is a JSON
pointer into the forked step's *native span record*, e.g.
``/attributes/gen_ai.tool.call.result/discount_pct`` or
``/attributes/gen_ai.input.messages/2/content``. Only ``/attributes/...``, ``/status``,
``/error`` and ``/name`` may be edited: ids, kind and parent define the tree and stay.

:func:`plan_fork` checks everything before anything runs: the step exists, each edit applies,
the edited record is still a valid span, and the run is ready to replay from there
(:mod:`trace_tui.core.replay.readiness`). A fork that cannot replay is refused with the reason as a
:class:`ForkError`. :class:`ForkPlan` is what :class:`~trace_tui.core.replay.engine.Replay` runs.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jsonpointer import JsonPointer, JsonPointerException

from trace_tui.core.errors import BadValue
from trace_tui.core.io.standard_json import non_finite_name
from trace_tui.core.model.run import Run, Step
from trace_tui.core.model.times import iso_utc
from trace_tui.core.replay.exchange import RESPONSE_ATTRS, TOOL_OUTPUT_ATTRS, digest
from trace_tui.core.replay.fixtures import A_PENDING
from trace_tui.core.replay.readiness import Gap, readiness
from trace_tui.core.text.canonical import canonical_json

EDIT_OPS = ("add", "replace", "remove")
EDITABLE_ROOTS = ("attributes", "status", "error", "name")
#: Parts of a record that are the step's *outcome*: editing them replaces the answer.
OUTPUT_ROOTS = ("status", "error")
OUTPUT_ATTRIBUTES = frozenset(RESPONSE_ATTRS + TOOL_OUTPUT_ATTRS)
_JSON_START = tuple('{["-0123456789')


class ForkError(BadValue):
    """A fork that cannot be made or replayed; the message is the reason, one line."""


# --------------------------------------------------------------------------- records
def iso_time(value: float | None) -> str | None:
    """Seconds since the epoch as ISO 8601 UTC (milliseconds unless finer precision exists)."""
    return None if value is None else iso_utc(value, "auto")


def step_record(step: Step) -> dict[str, Any]:
    """The native record of a step as it stands (one ``span``; ``span_start`` if running)."""
    running = step.status == "running"
    record: dict[str, Any] = {
        "type": "span_start" if running else "span",
        "span_id": step.span_id,
        "parent_id": step.parent_id,
        "kind": step.kind,
        "name": step.name,
        "start_time": iso_time(step.start_time),
    }
    if not running:
        record["end_time"] = iso_time(step.end_time)
        record["status"] = step.status
        record["error"] = step.error
    record["attributes"] = copy.deepcopy(step.attributes)
    return {k: v for k, v in record.items() if v is not None or k in ("parent_id", "error")}


# --------------------------------------------------------------------------- edits
def check_edit(edit: Any) -> dict[str, Any]:
    """Validate one JSON-patch operation and return it normalised (``op``, ``path``, ``value``)."""
    if not isinstance(edit, dict):
        raise ForkError(f"an edit must be a JSON object with op and path, not {edit!r}")
    op, path = edit.get("op"), edit.get("path")
    if op not in EDIT_OPS:
        raise ForkError(f"edit op {op!r} is not supported (use {', '.join(EDIT_OPS)})")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ForkError(f"edit path {path!r} must be a JSON pointer starting with /")
    parts = pointer_parts(path)
    if parts[0] not in EDITABLE_ROOTS:
        raise ForkError(
            f"edit path {path}: only {', '.join('/' + r for r in EDITABLE_ROOTS)} can be edited"
        )
    if op != "remove" and "value" not in edit:
        raise ForkError(f"edit {op} {path} needs a value")
    if op == "remove" and len(parts) == 1 and parts[0] == "attributes":
        raise ForkError("remove /attributes would drop the whole payload; remove single keys")
    return {"op": op, "path": path, **({"value": edit["value"]} if op != "remove" else {})}


def pointer_parts(path: str) -> list[str]:
    """The unescaped tokens of a JSON pointer (``ForkError`` when malformed)."""
    try:
        parts = JsonPointer(path).parts
    except JsonPointerException as exc:
        raise ForkError(f"edit path {path!r}: {exc}") from None
    if not parts:
        raise ForkError("the edit path must not be the whole record")
    return [str(p) for p in parts]


def apply_edits(record: dict[str, Any], edits: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A deep copy of ``record`` with every edit applied in order (``ForkError`` on failure)."""
    doc = copy.deepcopy(record)
    for edit in edits:
        edit = check_edit(edit)
        _apply_one(doc, edit["op"], edit["path"], copy.deepcopy(edit.get("value")))
    _check_span(doc)
    return doc


def _apply_one(doc: dict[str, Any], op: str, path: str, value: Any) -> None:
    parts = pointer_parts(path)
    container: Any = doc
    for depth, token in enumerate(parts[:-1]):
        container = _child(container, token, path, parts[: depth + 1])
    last = parts[-1]
    if isinstance(container, dict):
        if op != "add" and last not in container:
            raise ForkError(f"edit {op} {path}: there is nothing at that path")
        if op == "remove":
            del container[last]
        else:
            container[last] = value
        return
    if isinstance(container, list):
        _apply_list(container, op, path, last, value)
        return
    where = JsonPointer.from_parts(parts[:-1]).path
    raise ForkError(f"edit {op} {path}: {where} is a {_json_type(container)}{_hint(container)}")


def _apply_list(items: list[Any], op: str, path: str, token: str, value: Any) -> None:
    if token == "-" and op == "add":
        items.append(value)
        return
    index = _index(token, path)
    limit = len(items) if op == "add" else len(items) - 1
    if index > limit:
        raise ForkError(f"edit {op} {path}: index {index} is out of range (array of {len(items)})")
    if op == "add":
        items.insert(index, value)
    elif op == "replace":
        items[index] = value
    else:
        del items[index]


def _child(container: Any, token: str, path: str, prefix: list[str]) -> Any:
    where = JsonPointer.from_parts(prefix).path
    if isinstance(container, dict):
        if token not in container:
            raise ForkError(f"edit path {path}: {where} does not exist")
        return container[token]
    if isinstance(container, list):
        index = _index(token, path)
        if index >= len(container):
            raise ForkError(f"edit path {path}: {where} does not exist")
        return container[index]
    raise ForkError(f"edit path {path}: {where} is a {_json_type(container)}{_hint(container)}")


def _hint(container: Any) -> str:
    if isinstance(container, str):
        return ", not an object or array (if it is JSON text, set the whole value instead)"
    return ", not an object or array"


def _index(token: str, path: str) -> int:
    if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        raise ForkError(f"edit path {path}: {token!r} is not an array index")
    return int(token)


def _check_span(doc: dict[str, Any]) -> None:
    if not isinstance(doc.get("attributes"), dict):
        raise ForkError("after the edits, attributes is no longer an object")
    if doc.get("status", "ok") not in ("ok", "error", "unset"):
        raise ForkError("status must be ok, error or unset")
    error = doc.get("error")
    if error is not None and not isinstance(error, str | dict):
        raise ForkError("error must be null, text or an object")
    if not isinstance(doc.get("name", ""), str):
        raise ForkError("name must be text")


def _json_type(value: Any) -> str:
    return {str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def diff_edits(original: dict[str, Any], edited: dict[str, Any]) -> list[dict[str, Any]]:
    """The edits that turn ``original`` into ``edited`` (a step record changed in an editor).

    Objects are compared key by key, arrays of equal length item by item; anything else that
    differs is one ``replace``. A change outside the editable parts (ids, kind, times) is
    refused with :class:`ForkError`. ``apply_edits(original, result) == edited``.
    """
    edits: list[dict[str, Any]] = []
    for key in sorted(set(original) | set(edited)):
        if _canonical(original.get(key, _ABSENT)) == _canonical(edited.get(key, _ABSENT)):
            continue
        if key not in EDITABLE_ROOTS:
            raise ForkError(f"{key} cannot be edited (only {', '.join(EDITABLE_ROOTS)})")
        _diff(original.get(key, _ABSENT), edited.get(key, _ABSENT), [key], edits)
    return edits


_ABSENT = object()


def _diff(before: Any, after: Any, parts: list[str], out: list[dict[str, Any]]) -> None:
    path = JsonPointer.from_parts(parts).path
    if after is _ABSENT:
        out.append({"op": "remove", "path": path})
    elif before is _ABSENT:
        out.append({"op": "add", "path": path, "value": after})
    elif isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            old, new = before.get(key, _ABSENT), after.get(key, _ABSENT)
            if _canonical(old) != _canonical(new):
                _diff(old, new, [*parts, key], out)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            if _canonical(old) != _canonical(new):
                _diff(old, new, [*parts, str(index)], out)
    else:
        out.append({"op": "replace", "path": path, "value": after})


def _canonical(value: Any) -> str:
    return "\x00absent" if value is _ABSENT else canonical_json(value)


def outputs_edited(edits: Sequence[dict[str, Any]]) -> bool:
    """True when an edit touches the step's outcome (response, result, status or error)."""
    for edit in edits:
        parts = pointer_parts(edit["path"])
        if parts[0] in OUTPUT_ROOTS:
            return True
        if parts[0] == "attributes" and len(parts) > 1 and parts[1] in OUTPUT_ATTRIBUTES:
            return True
    return False


# --------------------------------------------------------------------------- CLI edits
def non_finite_name_of(token: str) -> str:
    """``NaN``/``Infinity``/``-Infinity`` typed on the command line: kept as that name, a
    string, the way every file we write spells a non-finite number (JSON has none)."""
    return token


def _finite_float(token: str) -> float | str:
    value = float(token)
    return value if math.isfinite(value) else non_finite_name(value)


def parse_cli_value(raw: str) -> Any:
    """A ``--set`` value: JSON, or plain text when it does not look like JSON at all.

    ``15``, ``true``, ``"text"``, ``{"a": 1}`` are JSON. ``Never exceed 15%`` is taken as the
    string it is. A value that starts like JSON (``{ [ " - 0-9``) but does not parse is an
    error, so a typo never silently becomes a string (use ``--set-string`` for such text).
    """
    try:
        return json.loads(raw, parse_constant=non_finite_name_of, parse_float=_finite_float)
    except ValueError:
        stripped = raw.strip()
        if stripped.startswith(_JSON_START):
            raise ForkError(
                f"value {raw[:60]!r} is not valid JSON; use --set-string to set it as text"
            ) from None
        return raw


def assignment_edit(
    record: dict[str, Any], text: str, *, as_string: bool = False
) -> dict[str, Any]:
    """``/pointer=VALUE`` as an edit: ``replace`` when the target exists, else ``add``."""
    path, sep, raw = text.partition("=")
    if not sep or not path.startswith("/"):
        raise ForkError(f"{text[:80]!r}: expected /json/pointer=VALUE")
    value = raw if as_string else parse_cli_value(raw)
    return {"op": "replace" if _exists(record, path) else "add", "path": path, "value": value}


def _exists(record: dict[str, Any], path: str) -> bool:
    try:
        JsonPointer(path).resolve(record)
    except JsonPointerException:
        return False
    return True


def cli_edits(
    record: dict[str, Any],
    *,
    sets: Sequence[str] = (),
    set_strings: Sequence[str] = (),
    removes: Sequence[str] = (),
    patches: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Edits from the command line: ``--edit``, ``--set``, ``--set-string``, ``--remove``."""
    edits: list[dict[str, Any]] = []
    for text in patches:
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise ForkError(f"--edit {text[:60]!r} is not JSON: {exc}") from None
        edits += [check_edit(e) for e in (value if isinstance(value, list) else [value])]
    edits += [assignment_edit(record, t) for t in sets]
    edits += [assignment_edit(record, t, as_string=True) for t in set_strings]
    edits += [check_edit({"op": "remove", "path": p}) for p in removes]
    return edits


# --------------------------------------------------------------------------- plan
@dataclass(frozen=True, slots=True)
class ForkPlan:
    """A checked fork: the parent run, the step (0-based ``fork_index``) and its edits."""

    parent: Run
    fork_index: int
    edits: tuple[dict[str, Any], ...]
    original: dict[str, Any]
    edited: dict[str, Any]
    name: str
    warnings: tuple[str, ...] = ()

    @property
    def fork_step(self) -> int:
        """The 1-based number of the forked step."""
        return self.fork_index + 1

    @property
    def key(self) -> str:
        """A digest of parent run, step and edits: seeds derived names and ids."""
        return digest(self.parent.info.run_id, self.fork_step, list(self.edits))

    @property
    def outputs_edited(self) -> bool:
        """True when the edits replace the step's answer rather than its inputs."""
        return outputs_edited(self.edits)


def find_step(run: Run, at: int | str) -> int:
    """The 0-based index of step ``at`` (a 1-based number, or a span id)."""
    if isinstance(at, str) and not at.isdigit():
        step = run.step_by_id(at)
        if step is None:
            raise ForkError(f"no step with span id {at!r}")
        return step.index
    number = int(at)
    if not 1 <= number <= len(run):
        raise ForkError(f"step {number} does not exist (the run has {len(run)} steps)")
    return number - 1


def plan_fork(
    parent: Run,
    at: int | str,
    edits: Sequence[dict[str, Any]] = (),
    *,
    name: str | None = None,
    check_ready: bool = True,
) -> ForkPlan:
    """Check a fork of ``parent`` at step ``at`` with ``edits``; raises :class:`ForkError`."""
    if not len(parent):
        raise ForkError("the run has no steps to fork")
    index = find_step(parent, at)
    checked = tuple(check_edit(e) for e in edits)
    original = step_record(parent.step(index))
    edited = apply_edits(original, checked)
    warnings = _readiness_warnings(parent, index + 1) if check_ready else ()
    if parent.problems:
        warnings += (f"the parent trace has {len(parent.problems)} unreadable line(s)",)
    plan = ForkPlan(parent, index, checked, original, edited, name or "", warnings)
    return plan if name else _with_name(plan, f"step{plan.fork_step}-{plan.key[:8]}")


def _with_name(plan: ForkPlan, name: str) -> ForkPlan:
    return ForkPlan(
        plan.parent, plan.fork_index, plan.edits, plan.original, plan.edited, name, plan.warnings
    )


def _readiness_warnings(parent: Run, fork_step: int) -> tuple[str, ...]:
    """Refuse when replay from ``fork_step`` lacks something; return the softer gaps.

    Gaps before the fork do not matter (those steps are copied). In a branch that stopped,
    the step it stopped at (and the model call whose tool call it was) lacks its answer on
    purpose, as does a call still running in a live trace: replay stops there unless given
    an answer, so those gaps do not block.
    """
    ready = readiness(parent)
    limit = _stopped_at(parent)

    def blocks(gap: Gap) -> bool:
        return not gap.steps or any(fork_step <= s < limit for s in gap.steps)

    blocking = [g for g in ready.blocking if blocks(g)]
    if blocking:
        reasons = "; ".join(g.describe() for g in blocking)
        raise ForkError(f"cannot replay from step {fork_step}: {reasons}")
    return tuple(g.describe() for g in ready.warnings)


def _unanswered(step: Step) -> bool:
    """A step replay stopped at, or a call still running in a live trace."""
    running = step.status == "running" and (step.kind == "llm" or step.tool_name is not None)
    return running or A_PENDING in step.attributes


def _stopped_at(run: Run) -> int:
    """The first step number whose gaps are a replay's deliberate stop (or past the end)."""
    pending = next((s for s in run.steps if _unanswered(s)), None)
    if pending is None:
        return len(run) + 1
    if pending.kind == "llm":
        return pending.number
    asking = [s.number for s in run.steps[: pending.index] if s.kind == "llm"]
    return asking[-1] if asking else pending.number
