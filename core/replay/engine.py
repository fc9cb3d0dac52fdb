"""Replay a fork forward: a steppable, pausable tool-calling loop rebuilt from the recording.

:class:`Replay` runs a :class:`~trace_tui.core.replay.fork.ForkPlan`. Steps before the fork are
copied
from the parent. The forked step gets its edits. Every later step is *replayed*: each model call
is answered by, in order, a recorded response to the identical request, an answer an earlier
replay of this branch got (manual or live), the model source the user chose; each tool call by
a recorded result for the same tool and arguments, an earlier answer, the live tools the user
chose. When none answers, the replay **stops** with ``needs_model_response`` or
``needs_tool_result`` and :attr:`Replay.pending` says what is needed at which step; a caller
(the screen, a person) supplies it with :meth:`Replay.answer` and calls :meth:`Replay.run` again.
Nothing is ever invented.

While the branch makes the same tool calls as the recording it follows the recorded steps
(see :mod:`trace_tui.core.replay.rebuild`); once an answer calls different tools it *diverges* and
continues as a generic loop until the model answers without calling a tool.

Replayed steps carry ``trace_tui.replay.*`` attributes (match, source, fixture step, request
hash). Ids, times and generated call ids derive from the parent and the edits only, so the
same fork replayed twice gives byte-identical records. See ``docs/replay.md``.
"""

from __future__ import annotations

import copy
import logging
from collections import deque
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from trace_tui.core.model.builder import RunBuilder
from trace_tui.core.model.run import A_OUTPUT_MESSAGES, Run, Step
from trace_tui.core.model.tool_join import call_ids_of_tool_steps
from trace_tui.core.replay.exchange import (
    REQUEST_ATTRS,
    RESPONSE_ATTRS,
    ModelRequest,
    ModelResponse,
    ToolCallRequest,
    ToolResult,
)
from trace_tui.core.replay.fixtures import (
    FixtureHit,
    ModelFixtures,
    ToolFixtures,
    call_of,
    has_response,
    is_tool_step,
    request_of,
    result_of,
)
from trace_tui.core.replay.fork import ForkPlan
from trace_tui.core.replay.rebuild import Substitutions, ToolMessageFormat, next_request
from trace_tui.core.replay.records import (
    StepWriter,
    WorkItem,
    call_from_record,
    normalised_steps,
    pick,
    result_from_record,
    script_item,
    tools_nest_under_llm,
    unanswered_in_recording,
)
from trace_tui.core.replay.responders import SourceError
from trace_tui.core.replay.values import (
    Pending,
    ReplayedStep,
    Sources,
    describe_call,
    differing_fields,
    masked_message,
    with_call_ids,
)
from trace_tui.core.text.canonical import canonical_json

log = logging.getLogger(__name__)


RUNNING = "running"
COMPLETE = "complete"
NEEDS_MODEL = "needs_model_response"
NEEDS_TOOL = "needs_tool_result"
SOURCE_ERROR = "source_error"
STEP_LIMIT = "step_limit"
#: Statuses a caller can move past (with an answer, another source, or a higher limit).
STOPPED = (NEEDS_MODEL, NEEDS_TOOL, SOURCE_ERROR, STEP_LIMIT)
DEFAULT_MAX_STEPS = 200


class Replay:
    """Replays a fork step by step; stops when an answer is missing (see module doc)."""

    def __init__(
        self, plan: ForkPlan, sources: Sources | None = None, *, max_steps: int = DEFAULT_MAX_STEPS
    ) -> None:
        self.plan = plan
        self.sources = sources or Sources()
        self.max_steps = max_steps
        self.status = RUNNING
        self.note: str | None = None
        self.pending: Pending | None = None
        parent = plan.parent
        self._writer = StepWriter(plan)
        self._models = ModelFixtures(parent)
        self._tools = ToolFixtures(parent, position_fallback=self.sources.position_fallback)
        self._seed(parent.steps[: plan.fork_index])
        self._subst = Substitutions(ToolMessageFormat.learn(parent))
        fork = WorkItem("fork", plan.edited, parent.step(plan.fork_index), forked=True)
        self._queue: deque[WorkItem] = deque([fork])
        self._queue += (script_item(s) for s in parent.steps[plan.fork_index + 1 :])
        self._current: WorkItem | None = None
        self._calls: dict[str, dict[str, Any]] = {}
        self._last: dict[str, Any] = {}
        self._turn_tools: list[dict[str, Any]] = []
        self._diverged_at: int | None = None
        self._dropped_llm = 0
        self._nested_tools = tools_nest_under_llm(parent)
        self._joined = call_ids_of_tool_steps(parent)

    def _call_of(self, step: Step) -> ToolCallRequest:
        """The recorded call of a tool step, with the call id the join found if it has none."""
        call = call_of(step)
        joined = self._joined.get(step.index) if call.call_id is None else None
        return call if joined is None else replace(call, call_id=joined)

    # ----------------------------------------------------------------- reading
    @property
    def records(self) -> list[dict[str, Any]]:
        """Every span record of the branch so far: the copied prefix, then replayed steps."""
        return self._writer.records

    @property
    def replayed(self) -> list[dict[str, Any]]:
        """The records written from the fork step on."""
        return self._writer.records[self._writer.prefix :]

    @property
    def next_number(self) -> int:
        """The 1-based number of the next step the replay will write."""
        return self._writer.next_number

    def header(self, parent_path: str | None = None) -> list[dict[str, Any]]:
        """The ``run`` and ``branch`` records that open the branch file."""
        return self._writer.header(self.status, self.note, parent_path)

    def all_records(self, parent_path: str | None = None) -> list[dict[str, Any]]:
        """Every record of the branch file: header, steps, and the step it stopped at if any."""
        stopped = []
        if self.pending is not None and self._current is not None:
            stopped.append(self._writer.pending(self._current, self.pending.needs))
        return self.header(parent_path) + self.records + stopped

    def to_run(self, parent_path: str | None = None) -> Run:
        """The branch as a :class:`Run`, for a screen to show it before or without saving."""
        run = Run(path=None, format_name="native")
        builder = RunBuilder(run)
        for record in self.all_records(parent_path):
            builder.add(record)
        return run

    # ----------------------------------------------------------------- driving
    def run(self) -> str:
        """Step until the replay completes or stops; returns :attr:`status`."""
        while self.step() is not None:
            pass
        return self.status

    def step(self) -> ReplayedStep | None:
        """Replay one step; ``None`` when nothing more can be done now (see :attr:`status`)."""
        if self.status != RUNNING:
            return None
        work = self._current or (self._queue.popleft() if self._queue else None)
        if work is None:
            self._stop(
                COMPLETE, f"replayed {len(self.replayed)} step(s) from step {self.plan.fork_step}"
            )
            return None
        self._current = work
        if len(self.replayed) >= self.max_steps:
            self._stop(
                STEP_LIMIT, f"stopped after {self.max_steps} replayed steps (the step limit)"
            )
            return None
        done = self._do(work)
        if done is not None:
            self._current = None
        return done

    def resume(self, sources: Sources | None = None, *, max_steps: int | None = None) -> str:
        """Retry where the replay stopped (optionally with other sources or a higher limit)."""
        if sources is not None:
            self.sources = sources
        if max_steps is not None:
            self.max_steps = max_steps
        if self.status in STOPPED:
            self.status, self.pending, self.note = RUNNING, None, None
        return self.run()

    def answer(self, value: Any) -> ReplayedStep:
        """Answer the pending stop by hand, then call :meth:`run` to go on.

        For a model call: reply text, an assistant message ``{"content", "tool_calls"}`` or a
        :class:`~trace_tui.core.replay.exchange.ModelResponse`; for a tool call: any JSON result or
        a
        :class:`~trace_tui.core.replay.exchange.ToolResult`. ``ValueError`` when nothing is pending.
        """
        work, pending = self._current, self.pending
        if work is None or pending is None:
            raise ValueError("the replay is not waiting for an answer")
        if pending.kind == "model":
            assert work.request is not None
            done = self._emit_llm(
                work, work.request, FixtureHit(ModelResponse.coerce(value), "manual", "manual")
            )
        else:
            assert work.call is not None
            done = self._emit_tool(
                work, work.call, FixtureHit(ToolResult.coerce(value), "manual", "manual")
            )
        self._current, self.pending, self.status, self.note = None, None, RUNNING, None
        return done

    # ----------------------------------------------------------------- one step
    def _seed(self, steps: Iterable[Step]) -> None:
        for step in steps:
            if has_response(step):
                self._models.seed(request_of(step))
            elif is_tool_step(step):
                self._tools.seed(call_of(step))

    def _do(self, work: WorkItem) -> ReplayedStep | None:
        if work.kind == "fork":
            return self._do_fork(work)
        if work.kind == "llm":
            return self._do_llm(work)
        if work.kind == "tool":
            return self._do_tool(work)
        record = self._writer.copy(work, "recorded")
        return ReplayedStep(len(self.records), record, "recorded", "recorded")

    def _do_fork(self, work: WorkItem) -> ReplayedStep | None:
        plan, recorded = self.plan, work.recorded
        assert recorded is not None
        edited_attrs = plan.edited["attributes"]
        if recorded.kind == "llm":
            work.kind = "llm"
            original = pick(plan.original["attributes"], REQUEST_ATTRS)
            self._subst.request_edited(original, pick(edited_attrs, REQUEST_ATTRS), plan.fork_step)
            work.request = ModelRequest(pick(edited_attrs, REQUEST_ATTRS), self.next_number)
            if not plan.outputs_edited:
                return self._do_llm(work)
            self._models.seed(work.request)
            response = ModelResponse(pick(edited_attrs, RESPONSE_ATTRS))
            return self._emit_llm(work, work.request, FixtureHit(response, "edited", "edited"))
        if is_tool_step(recorded):
            work.kind = "tool"
            work.call = call_from_record(plan.edited, self.next_number)
            if work.call.call_id is None:
                work.call = replace(work.call, call_id=self._call_of(recorded).call_id)
            self._propagate_call_edit(recorded, work.call)
            if not plan.outputs_edited:
                return self._do_tool(work)
            self._tools.consume(work.call)
            hit = FixtureHit(result_from_record(plan.edited), "edited", "edited")
            return self._emit_tool(work, work.call, hit)
        label = "edited" if plan.edits else "recorded"
        return ReplayedStep(self.next_number, self._writer.copy(work, label), label, label)

    def _do_llm(self, work: WorkItem) -> ReplayedStep | None:
        request = self._request_for(work)
        hit = self._models.take(request) or self._reuse_model(request)
        source = self.sources.model
        if hit is None and source is not None:
            try:
                response = source.respond(request)
            except SourceError as exc:
                self._source_failed("model", request, str(exc))
                return None
            if response is not None:
                hit = FixtureHit(response, "live", source.label)
        if hit is None:
            recorded = request_of(work.recorded).attributes if work.recorded else None
            if self._keep_unanswered(work, request.attributes, recorded):
                return self._copy_unanswered(work)
            self._wait("model", request, self._model_miss_reason(work, request))
            return None
        return self._emit_llm(work, request, hit)

    def _do_tool(self, work: WorkItem) -> ReplayedStep | None:
        call = self._call_for(work)
        hit = self._tools.take(call) or self._reuse_tool(call)
        source = self.sources.tools
        if hit is None and source is not None:
            try:
                result = source.call(call)
            except SourceError as exc:
                self._source_failed("tool", call, str(exc))
                return None
            if result is not None:
                hit = FixtureHit(result, "live", source.label)
        if hit is None:
            recorded_call = self._call_of(work.recorded) if work.recorded else None
            if self._keep_unanswered(work, call.key, recorded_call.key if recorded_call else None):
                return self._copy_unanswered(work)
            self._wait("tool", call, f"{describe_call(call)} has no recorded result")
            return None
        return self._emit_tool(work, call, hit)

    def _keep_unanswered(self, work: WorkItem, asked: Any, recorded: Any) -> bool:
        unchanged = self._diverged_at is None and recorded is not None
        unchanged = unchanged and canonical_json(asked) == canonical_json(recorded)
        return unanswered_in_recording(self.plan.parent, work.recorded, unchanged)

    def _copy_unanswered(self, work: WorkItem) -> ReplayedStep:
        record = self._writer.unanswered(work)
        return ReplayedStep(len(self.records), record, "recorded-unanswered", "recorded")

    def _reuse_model(self, request: ModelRequest) -> FixtureHit[ModelResponse] | None:
        reuse = self.sources.reuse
        return reuse.take_model(request) if reuse is not None else None

    def _reuse_tool(self, call: ToolCallRequest) -> FixtureHit[ToolResult] | None:
        reuse = self.sources.reuse
        return reuse.take_tool(call) if reuse is not None else None

    # ----------------------------------------------------------------- requests and calls
    def _request_for(self, work: WorkItem) -> ModelRequest:
        if work.request is None:
            if work.recorded is not None:
                attrs = self._subst.apply(request_of(work.recorded).attributes)
            else:
                attrs = next_request(
                    self._last["request"], self._last["messages"], self._turn_tools
                )
                self._turn_tools = []
            work.request = ModelRequest(attrs, self.next_number)
        return work.request

    def _call_for(self, work: WorkItem) -> ToolCallRequest:
        if work.call is None:
            assert work.recorded is not None
            recorded = self._call_of(work.recorded)
            branch = self._calls.get(recorded.call_id or "")
            work.call = recorded
            if branch is not None:
                work.call = ToolCallRequest(
                    str(branch.get("name")), branch.get("arguments"), branch.get("id")
                )
        if work.call.step_number != self.next_number:
            work.call = replace(work.call, step_number=self.next_number)
        return work.call

    def _propagate_call_edit(self, recorded: Step, call: ToolCallRequest) -> None:
        """Arguments edited at a tool step: later requests show the model asking for them."""
        before = self._call_of(recorded)
        if canonical_json([before.name, before.arguments]) == canonical_json(
            [call.name, call.arguments]
        ):
            return
        for step in reversed(self.plan.parent.steps[: self.plan.fork_index]):
            outputs = step.attributes.get(A_OUTPUT_MESSAGES) if step.kind == "llm" else None
            if not isinstance(outputs, list):
                continue
            changed = copy.deepcopy(outputs)
            hits = [
                c
                for m in changed
                if isinstance(m, dict)
                for c in (m.get("tool_calls") or [])
                if isinstance(c, dict) and c.get("id") == before.call_id
            ]
            for found in hits:
                found["name"], found["arguments"] = call.name, copy.deepcopy(call.arguments)
            if hits:
                self._subst.assistant_changed(outputs, changed, step.number)
                return

    # ----------------------------------------------------------------- writing
    def _emit_llm(
        self, work: WorkItem, request: ModelRequest, hit: FixtureHit[ModelResponse]
    ) -> ReplayedStep:
        number = self.next_number
        response = with_call_ids(hit.value, self.plan.key, number)
        record = self._writer.llm(work, request, response, hit)
        self._after_llm(work, request, response, number)
        return ReplayedStep(number, record, hit.match, hit.source)

    def _emit_tool(
        self, work: WorkItem, call: ToolCallRequest, hit: FixtureHit[ToolResult]
    ) -> ReplayedStep:
        number = self.next_number
        result = hit.value
        record = self._writer.tool(work, call, result, hit)
        self._tools.count(call)
        self._after_tool(work, call, result, number)
        return ReplayedStep(number, record, hit.match, hit.source)

    def _after_llm(
        self, work: WorkItem, request: ModelRequest, response: ModelResponse, number: int
    ) -> None:
        self._last = {
            "request": request.attributes,
            "messages": response.messages,
            "record": self.records[-1],
        }
        calls = response.tool_calls
        if work.recorded is not None and self._diverged_at is None:
            raw = work.recorded.attributes.get(A_OUTPUT_MESSAGES)
            recorded_msgs = [m for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []
            label = f"the edit at step {number}" if work.forked else None
            self._subst.assistant_changed(recorded_msgs, response.messages, number, label)
            recorded_calls = ModelResponse({A_OUTPUT_MESSAGES: recorded_msgs}).tool_calls
            if [c.get("name") for c in recorded_calls] == [c.get("name") for c in calls]:
                # only calls the branch changed: an unchanged one keeps the tool step's own
                # recording (some formats record the tool's input in another shape)
                self._calls.update(
                    {
                        str(r.get("id")): b
                        for r, b in zip(recorded_calls, calls, strict=True)
                        if canonical_json(r) != canonical_json(b)
                    }
                )
                return
            self._diverged_at = number
            self._dropped_llm = sum(1 for w in self._queue if w.kind == "llm")
            self._queue.clear()
        if calls:
            self._queue_generic_turn(calls)

    def _after_tool(
        self, work: WorkItem, call: ToolCallRequest, result: ToolResult, number: int
    ) -> None:
        if self._diverged_at is not None:
            self._turn_tools.append(self._subst.fmt.tool_message(call.call_id, call.name, result))
            return
        recorded = self._call_of(work.recorded) if work.recorded is not None else None
        if recorded is not None and recorded.call_id and work.recorded is not None:
            self._subst.tool_changed(
                recorded.call_id,
                result_of(work.recorded),
                result,
                branch_id=call.call_id,
                step=number,
                call={"name": call.name, "arguments": call.arguments},
                label=f"the edit at step {number}" if work.forked else None,
            )

    def _queue_generic_turn(self, calls: list[dict[str, Any]]) -> None:
        llm_record = self._last["record"]
        tool_parent = llm_record["span_id"] if self._nested_tools else llm_record.get("parent_id")
        for call in calls:
            request = ToolCallRequest(str(call.get("name")), call.get("arguments"), call.get("id"))
            template = {
                "name": request.name,
                "attributes": {"gen_ai.operation.name": "execute_tool"},
            }
            self._queue.append(WorkItem("tool", template, call=request, parent_id=tool_parent))
        template = {"name": llm_record.get("name"), "attributes": llm_record.get("attributes", {})}
        self._queue.append(WorkItem("llm", template, parent_id=llm_record.get("parent_id")))

    # ----------------------------------------------------------------- stopping
    def _wait(self, kind: str, request: ModelRequest | ToolCallRequest, reason: str) -> None:
        number = self.next_number
        what = "a model response" if kind == "model" else "a tool result"
        self.pending = Pending(kind, number, request, reason)
        self._stop(
            NEEDS_MODEL if kind == "model" else NEEDS_TOOL,
            f"needs {what} at step {number}: {reason}",
        )

    def _source_failed(
        self, kind: str, request: ModelRequest | ToolCallRequest, message: str
    ) -> None:
        number = self.next_number
        log.warning("replay source failed at step %d: %s", number, masked_message(message))
        self.pending = Pending(kind, number, request, message)
        self._stop(SOURCE_ERROR, f"step {number}: {message}")

    def _stop(self, status: str, note: str) -> None:
        self.status = status
        self.note = "; ".join([note, *self._warnings()])

    def _warnings(self) -> list[str]:
        out = [f"{label} never reached a later model request" for label in self._subst.unreached()]
        if self._diverged_at is not None:
            out.append(f"diverged from the recording at step {self._diverged_at}")
            if self._dropped_llm and self.status == COMPLETE:
                out.append(f"{self._dropped_llm} later recorded model call(s) were not replayed")
        return out

    def _model_miss_reason(self, work: WorkItem, request: ModelRequest) -> str:
        if work.recorded is None:
            return "the request is new (the branch diverged) and nothing recorded matches it"
        fields = differing_fields(request_of(work.recorded).attributes, request.attributes)
        if not fields and not has_response(work.recorded):
            return f"step {work.recorded.number} has no recorded response (it never finished)"
        if not fields:
            return "the recorded response to this identical request was already used"
        where = f"step {work.recorded.number} in {', '.join(fields)}"
        return f"no recorded response matches the request (it differs from {where})"


__all__ = [
    "COMPLETE",
    "NEEDS_MODEL",
    "NEEDS_TOOL",
    "RUNNING",
    "SOURCE_ERROR",
    "STEP_LIMIT",
    "Pending",
    "Replay",
    "ReplayedStep",
    "Sources",
    "normalised_steps",
]
