"""The native records a replay writes: the copied prefix, each replayed step, the header.

:class:`StepWriter` owns the branch's records. A replayed step starts from the recorded step it
replays (its id, parent, times and other attributes are kept) or, past a divergence, from a
generated template with an id and times derived from the fork (never the clock). Its request
or call and its answer replace the recorded ones; ``trace_tui.replay.*`` attributes say how
it was answered. :func:`normalised_steps` defines what "identical to the original" means.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from trace_tui.core.model.run import (
    A_TOOL_ARGUMENTS,
    A_TOOL_CALL_ID,
    A_TOOL_NAME,
    A_TOOL_RESULT,
    Run,
    Step,
)
from trace_tui.core.replay.exchange import (
    REQUEST_ATTRS,
    RESPONSE_ATTRS,
    TOOL_OUTPUT_ATTRS,
    ModelRequest,
    ModelResponse,
    ToolCallRequest,
    ToolResult,
)
from trace_tui.core.replay.fixtures import (
    A_FIXTURE_STEP,
    A_MATCH,
    A_PENDING,
    A_SOURCE,
    REPLAY_PREFIX,
    FixtureHit,
    has_response,
    has_result,
    is_tool_step,
    outcome_status,
)
from trace_tui.core.replay.fork import ForkPlan, iso_time, step_record

A_REQUEST_HASH = REPLAY_PREFIX + "request_hash"
A_FORKED = REPLAY_PREFIX + "forked"
#: Sources that are not "new answers" and so are not listed in the branch record's sources.
_PLAIN_SOURCES = ("fixtures", "edited", "recorded")


@dataclass(slots=True)
class WorkItem:
    """One step still to replay: ``llm``, ``tool``, ``copy`` (as recorded) or ``fork``.

    ``recorded`` is the parent's step it replays (``None`` past a divergence); ``template``
    is the record it starts from; ``request``/``call`` are filled in once computed, so a
    stopped step resumes with the same question.
    """

    kind: str
    template: dict[str, Any]
    recorded: Step | None = None
    call: ToolCallRequest | None = None
    request: ModelRequest | None = None
    forked: bool = False
    parent_id: str | None = None
    span_id: str | None = None


def script_item(step: Step) -> WorkItem:
    """The work item that replays a recorded step."""
    record = step_record(step)
    if step.kind == "llm":
        return WorkItem("llm", record, step)
    if is_tool_step(step):
        return WorkItem("tool", record, step)
    return WorkItem("copy", record, step)


class StepWriter:
    """Collects the branch's records (see module doc)."""

    def __init__(self, plan: ForkPlan) -> None:
        self.plan = plan
        self.records: list[dict[str, Any]] = [
            step_record(s) for s in plan.parent.steps[: plan.fork_index]
        ]
        self.prefix = len(self.records)
        self.labels: dict[str, list[str]] = {"model": ["fixtures"], "tools": ["fixtures"]}
        self._ids = {s.span_id for s in plan.parent.steps}

    @property
    def next_number(self) -> int:
        """The 1-based number of the next record's step."""
        return len(self.records) + 1

    def llm(
        self,
        item: WorkItem,
        request: ModelRequest,
        response: ModelResponse,
        hit: FixtureHit[ModelResponse],
    ) -> dict[str, Any]:
        """Write a model call: the request sent and the answer it got."""
        record = self._base(item, "llm")
        owned = REQUEST_ATTRS + RESPONSE_ATTRS
        attrs = merge_attributes(
            record.get("attributes", {}), {**request.attributes, **response.attributes}, owned
        )
        attrs.update(self._replay_attributes(item, hit))
        attrs[A_REQUEST_HASH] = request.key
        record["attributes"] = attrs
        if hit.source not in _PLAIN_SOURCES:
            record.update(status="ok", error=None)
        return self._append(record, "model", hit.source)

    def tool(
        self, item: WorkItem, call: ToolCallRequest, result: ToolResult, hit: FixtureHit[ToolResult]
    ) -> dict[str, Any]:
        """Write a tool call: the call made and the result it got."""
        record = self._base(item, "tool", call.name)
        new: dict[str, Any] = {A_TOOL_NAME: call.name, A_TOOL_ARGUMENTS: call.arguments}
        had = record.get("attributes", {})
        if A_TOOL_NAME not in had and call.name == record.get("name"):
            del new[A_TOOL_NAME]  # the recording named the tool by its span only: keep it so
        if A_TOOL_ARGUMENTS not in had and call.arguments is None:
            del new[A_TOOL_ARGUMENTS]
        joined_only = item.recorded is not None and A_TOOL_CALL_ID not in had
        if call.call_id is not None and not joined_only:
            new[A_TOOL_CALL_ID] = call.call_id
        if result.result is not None or result.status != "error":
            new[A_TOOL_RESULT] = result.result
        new.update(result.outputs)
        owned = (A_TOOL_NAME, A_TOOL_ARGUMENTS, A_TOOL_CALL_ID, *TOOL_OUTPUT_ATTRS)
        attrs = merge_attributes(record.get("attributes", {}), new, owned)
        attrs.update(self._replay_attributes(item, hit))
        record.update(attributes=attrs, status=result.status, error=result.error)
        return self._append(record, "tools", hit.source)

    def copy(self, item: WorkItem, match: str) -> dict[str, Any]:
        """Write a step that is not a model or tool call, as recorded (or as edited)."""
        record = self._base(item, str(item.template.get("kind", "other")))
        attrs = {
            k: v for k, v in record.get("attributes", {}).items() if not k.startswith(REPLAY_PREFIX)
        }
        attrs.update({A_MATCH: match, A_SOURCE: match})
        if item.forked:
            attrs[A_FORKED] = True
        record["attributes"] = attrs
        self.records.append(record)
        return record

    def unanswered(self, item: WorkItem) -> dict[str, Any]:
        """A recorded call whose answer was never recorded, copied as it stands (still
        running, or ended without a result), for a branch that has not left the recording:
        the unedited run replays identical instead of stopping for an answer it never had."""
        record = copy.deepcopy(item.template)
        attrs = {
            k: v for k, v in record.get("attributes", {}).items() if not k.startswith(REPLAY_PREFIX)
        }
        attrs.update({A_MATCH: "recorded-unanswered", A_SOURCE: "recorded"})
        if item.forked:
            attrs[A_FORKED] = True
        record["attributes"] = attrs
        self.records.append(record)
        return record

    def pending(self, item: WorkItem, needs: str) -> dict[str, Any]:
        """The record of a step replay stopped at: its question, no answer, status ``unset``.

        It is not kept in :attr:`records` (the step is written for real once answered) and
        fixture stores never take an answer from it.
        """
        record = self._base(item, "llm" if item.request is not None else "tool")
        if item.request is not None:
            new, owned = item.request.attributes, REQUEST_ATTRS + RESPONSE_ATTRS
        else:
            assert item.call is not None
            new = {A_TOOL_NAME: item.call.name, A_TOOL_ARGUMENTS: item.call.arguments}
            if item.call.call_id is not None:
                new[A_TOOL_CALL_ID] = item.call.call_id
            owned = (A_TOOL_NAME, A_TOOL_ARGUMENTS, A_TOOL_CALL_ID, *TOOL_OUTPUT_ATTRS)
        attrs = merge_attributes(record.get("attributes", {}), new, owned)
        attrs.update({A_MATCH: "none", A_SOURCE: "none", A_PENDING: needs})
        if item.request is not None:
            attrs[A_REQUEST_HASH] = item.request.key
        if item.forked:
            attrs[A_FORKED] = True
        record.update(attributes=attrs, status="unset", error=None)
        return record

    def header(
        self, status: str, note: str | None, parent_path: str | None
    ) -> list[dict[str, Any]]:
        """The ``run`` and ``branch`` records that open the branch file."""
        info, plan = self.plan.parent.info, self.plan
        run: dict[str, Any] = {
            "type": "run",
            "schema_version": 1,
            "run_id": f"{info.run_id or 'run'}~{plan.name}",
        }
        optional = {
            "session_id": info.session_id,
            "trace_id": info.trace_id,
            "name": f"{info.name or 'run'} [branch {plan.name}]",
            "started_at": iso_time(info.started_at),
            "environment": info.environment or None,
            "context_windows": info.context_windows or None,
        }
        run.update({k: v for k, v in optional.items() if v is not None})
        branch = {
            "type": "branch",
            "name": plan.name,
            "parent_run_id": info.run_id,
            "parent_path": parent_path,
            "fork_step": plan.fork_step,
            "edits": list(plan.edits),
            "sources": {k: "+".join(v) for k, v in self.labels.items()},
            "status": status,
            "note": note,
        }
        return [run, branch]

    # ----------------------------------------------------------------- internals
    def _append(self, record: dict[str, Any], kind: str, source: str) -> dict[str, Any]:
        if source not in _PLAIN_SOURCES and source not in self.labels[kind]:
            self.labels[kind].append(source)
        self.records.append(record)
        return record

    def _replay_attributes(
        self, item: WorkItem, hit: FixtureHit[ModelResponse] | FixtureHit[ToolResult]
    ) -> dict[str, Any]:
        if hit.replay_attributes:
            # A reused answer keeps how it was answered; "forked" and the request hash are
            # set again below, in the same order as the first time (byte-identical re-replays).
            attrs = {
                k: v
                for k, v in hit.replay_attributes.items()
                if k not in (A_FORKED, A_REQUEST_HASH)
            }
        else:
            attrs = {A_MATCH: hit.match, A_SOURCE: hit.source}
            if hit.fixture_step is not None:
                attrs[A_FIXTURE_STEP] = hit.fixture_step
        if item.forked:
            attrs[A_FORKED] = True
        return attrs

    def _base(self, item: WorkItem, kind: str, name: str | None = None) -> dict[str, Any]:
        if item.recorded is not None:
            replayed: dict[str, Any] = copy.deepcopy(item.template)
            if replayed.get("type") == "span_start":  # recorded while running: now it has ended
                replayed.update(type="span", status="unset", error=None)
            return replayed
        previous = self.records[-1] if self.records else {}
        moment = previous.get("end_time") or previous.get("start_time")
        record: dict[str, Any] = {
            "type": "span",
            "span_id": item.span_id or self._new_id(),
            "parent_id": item.parent_id,
            "kind": kind,
            "name": name or str(item.template.get("name") or kind),
        }
        item.span_id = record["span_id"]
        if moment:
            record.update(start_time=moment, end_time=moment)
        record.update(
            status="ok", error=None, attributes=copy.deepcopy(item.template.get("attributes", {}))
        )
        return record

    def _new_id(self) -> str:
        base = f"replay-{self.plan.key[:8]}-{self.next_number:04d}"
        span_id, n = base, 1
        while span_id in self._ids:
            span_id, n = f"{base}-{n}", n + 1
        self._ids.add(span_id)
        return span_id


# --------------------------------------------------------------------------- helpers
def unanswered_in_recording(run: Run, step: Step | None, unchanged: bool) -> bool:
    """Whether replay may copy ``step`` as recorded although it has no recorded answer.

    Only an unchanged call (same request, same tool and arguments) that the recording itself
    left unanswered, and only when the run went on past it or it ended: a call still running at
    the end of a live trace is where a replay stops and asks.
    """
    if step is None or not unchanged or A_PENDING in step.attributes:
        return False
    answered = has_response(step) if step.kind == "llm" else has_result(step)
    if answered:
        return False
    return step.status != "running" or step.index < len(run) - 1


def pick(attrs: dict[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """A deep copy of the ``keys`` present in ``attrs``."""
    return {k: copy.deepcopy(attrs[k]) for k in keys if k in attrs}


def merge_attributes(
    template: dict[str, Any], new: dict[str, Any], owned: Iterable[str]
) -> dict[str, Any]:
    """``template`` with its ``owned`` keys replaced by ``new`` (or dropped), order kept."""
    owned = set(owned)
    out: dict[str, Any] = {}
    for key, value in template.items():
        if key.startswith(REPLAY_PREFIX):
            continue
        if key not in owned:
            out[key] = value
        elif key in new:
            out[key] = new[key]
    out.update({k: v for k, v in new.items() if k not in out})
    return out


def call_from_record(record: dict[str, Any], number: int) -> ToolCallRequest:
    """The tool call a (possibly edited) native record describes."""
    attrs = record.get("attributes", {})
    call_id = attrs.get(A_TOOL_CALL_ID)
    return ToolCallRequest(
        str(attrs.get(A_TOOL_NAME) or record.get("name") or ""),
        attrs.get(A_TOOL_ARGUMENTS),
        str(call_id) if call_id is not None else None,
        number,
    )


def result_from_record(record: dict[str, Any]) -> ToolResult:
    """The tool outcome a (possibly edited) native record describes."""
    attrs = record.get("attributes", {})
    error = record.get("error")
    if isinstance(error, dict):
        error = ": ".join(str(error[k]) for k in ("type", "message") if error.get(k)) or None
    status = outcome_status(record.get("status"), error)
    outputs = {k: attrs[k] for k in TOOL_OUTPUT_ATTRS if k in attrs and k != A_TOOL_RESULT}
    return ToolResult(attrs.get(A_TOOL_RESULT), status, error, outputs)


def tools_nest_under_llm(run: Run) -> bool:
    """True when the recording puts tool steps under the llm step that asked for them."""
    asked = {c.id: s.span_id for s in run.steps if s.kind == "llm" for c in s.output_tool_calls}
    return any(
        is_tool_step(s) and s.tool_call_id in asked and s.parent_id == asked[s.tool_call_id]
        for s in run.steps
    )


def normalised_steps(run: Run) -> list[dict[str, Any]]:
    """Steps as replay compares them: kind, name, status, error, parent step, payload.

    ``trace_tui.replay.*`` attributes, span ids and times are left out: this is what
    "a replay identical to the original" means (``docs/replay.md``).
    """
    out = []
    for step in run.steps:
        parent = run.parent_of(step)
        attrs = {k: v for k, v in step.attributes.items() if not k.startswith(REPLAY_PREFIX)}
        out.append(
            {
                "kind": step.kind,
                "name": step.name,
                "status": step.status,
                "error": step.error,
                "parent": parent.number if parent is not None else None,
                "attributes": attrs,
            }
        )
    return out
