"""Recorded answers a replay may reuse: model responses by request hash, tool results by call.

Replay never invents an answer. A model call is answered from the recording only when its
request (system + messages + tools + model + parameters, canonically hashed) is identical to
a recorded one; a tool call only when a recorded call of the same tool had the same canonical
(sorted-key) arguments, or, when the caller opts in, by position (the k-th call of that tool).

Identical requests or calls that occur several times are answered in order: the n-th time the
branch asks, it gets the n-th recorded answer. Steps before the fork point are *seeded* into
the stores so the count starts where the recording was. Beyond the recorded count a model
request is a miss; a tool call repeats the last recorded result for those arguments
(``exact-args-repeat``), since tools are assumed to be functions of their arguments.

Each hit is a :class:`FixtureHit` that says how it matched, for the ``trace_tui.replay.match``
attribute shown on each replayed step.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from trace_tui.core.model.run import (
    A_OUTPUT_MESSAGES,
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

#: Attribute prefix of everything replay adds to a step.
REPLAY_PREFIX = "trace_tui.replay."
A_MATCH = REPLAY_PREFIX + "match"
A_SOURCE = REPLAY_PREFIX + "source"
A_FIXTURE_STEP = REPLAY_PREFIX + "fixture_step"
A_PENDING = REPLAY_PREFIX + "pending"

MATCH_RECORDED_RESPONSE = "recorded-response"
MATCH_EXACT_ARGS = "exact-args"
MATCH_EXACT_ARGS_REPEAT = "exact-args-repeat"
MATCH_POSITION = "position"
SOURCE_FIXTURES = "fixtures"
#: Sources whose answers are data (not recordings of the parent) and reusable on a re-replay.
_REUSABLE_SKIP = {SOURCE_FIXTURES, "edited", "recorded", None}

#: What a hit carries: a model response for a model request, a tool result for a tool call.
AnswerT = TypeVar("AnswerT", ModelResponse, ToolResult)


@dataclass(frozen=True, slots=True)
class FixtureHit(Generic[AnswerT]):
    """A recorded answer and how it was found (``FixtureHit[ModelResponse]`` answers a model
    request, ``FixtureHit[ToolResult]`` a tool call)."""

    value: AnswerT
    match: str
    source: str
    fixture_step: int | None = None
    replay_attributes: dict[str, Any] = field(default_factory=dict)


def is_tool_step(step: Step) -> bool:
    """A tool call: a ``tool`` step, or any step carrying a tool name (a retrieval tool)."""
    return step.kind == "tool" or (step.kind != "llm" and A_TOOL_NAME in step.attributes)


def has_response(step: Step) -> bool:
    """An llm step whose answer was recorded (not running, not a pending replay step)."""
    return (
        step.kind == "llm"
        and step.status != "running"
        and A_OUTPUT_MESSAGES in step.attributes
        and A_PENDING not in step.attributes
    )


def has_result(step: Step) -> bool:
    """A tool step whose outcome was recorded (a result, or a failure)."""
    return (
        is_tool_step(step)
        and step.status != "running"
        and A_PENDING not in step.attributes
        and (A_TOOL_RESULT in step.attributes or step.status == "error")
    )


def request_of(step: Step, step_number: int = 0) -> ModelRequest:
    """The request an llm step recorded."""
    attrs = {k: step.attributes[k] for k in REQUEST_ATTRS if k in step.attributes}
    return ModelRequest(attrs, step_number=step_number)


def response_of(step: Step) -> ModelResponse:
    """The response an llm step recorded."""
    return ModelResponse({k: step.attributes[k] for k in RESPONSE_ATTRS if k in step.attributes})


def call_of(step: Step, step_number: int = 0) -> ToolCallRequest:
    """The tool call a tool step recorded."""
    call_id = step.attributes.get(A_TOOL_CALL_ID)
    return ToolCallRequest(
        name=str(step.attributes.get(A_TOOL_NAME) or step.name),
        arguments=step.attributes.get(A_TOOL_ARGUMENTS),
        call_id=str(call_id) if call_id is not None else None,
        step_number=step_number,
    )


def outcome_status(status: Any, error: Any) -> str:
    """A recorded tool outcome's status: ``error``, or the recorded ``unset`` kept as it was
    (OpenInference tool spans leave it unset; replay must not turn it into ``ok``), else ``ok``."""
    if status == "error" or error:
        return "error"
    return "unset" if status == "unset" else "ok"


def result_of(step: Step) -> ToolResult:
    """The outcome a tool step recorded (result, status, error and extra outputs)."""
    outputs = {
        k: step.attributes[k]
        for k in TOOL_OUTPUT_ATTRS
        if k in step.attributes and k != A_TOOL_RESULT
    }
    return ToolResult(
        result=step.attributes.get(A_TOOL_RESULT),
        status=outcome_status(step.status, step.error),
        error=step.error,
        outputs=outputs,
    )


class ModelFixtures:
    """Recorded model responses of a run, keyed by request hash, answered in order."""

    def __init__(self, run: Run) -> None:
        self._by_key: dict[str, list[Step]] = {}
        for step in run.steps:
            if has_response(step):
                self._by_key.setdefault(request_of(step).key, []).append(step)
        self._used: Counter[str] = Counter()

    def seed(self, request: ModelRequest) -> None:
        """Count a request the branch already made (a step before the fork)."""
        self._used[request.key] += 1

    def take(self, request: ModelRequest) -> FixtureHit[ModelResponse] | None:
        """The next recorded response to this exact request, or ``None``."""
        found = self._by_key.get(request.key, [])
        used = self._used[request.key]
        if used >= len(found):
            return None
        self._used[request.key] += 1
        step = found[used]
        return FixtureHit(response_of(step), MATCH_RECORDED_RESPONSE, SOURCE_FIXTURES, step.number)


class ToolFixtures:
    """Recorded tool results of a run: by name + canonical arguments, optionally by position."""

    def __init__(self, run: Run, *, position_fallback: bool = False) -> None:
        self.position_fallback = position_fallback
        self._by_key: dict[str, list[Step]] = {}
        self._by_name: dict[str, list[Step]] = {}
        for step in run.steps:
            if has_result(step):
                call = call_of(step)
                self._by_key.setdefault(call.key, []).append(step)
                self._by_name.setdefault(call.name, []).append(step)
        self._used: Counter[str] = Counter()
        self._calls: Counter[str] = Counter()

    def seed(self, call: ToolCallRequest) -> None:
        """Count a call the branch already made (a step before the fork)."""
        self.consume(call)
        self.count(call)

    def consume(self, call: ToolCallRequest) -> None:
        """Use up one recorded occurrence of these exact arguments (an edited fork step)."""
        self._used[call.key] += 1

    def count(self, call: ToolCallRequest) -> None:
        """One more call of this tool in the branch (whatever answered it): the position."""
        self._calls[call.name] += 1

    def take(self, call: ToolCallRequest) -> FixtureHit[ToolResult] | None:
        """The recorded result for this call, or ``None`` (a miss uses nothing up)."""
        found = self._by_key.get(call.key, [])
        used = self._used[call.key]
        if found:
            self._used[call.key] += 1
            if used < len(found):
                return self._hit(found[used], MATCH_EXACT_ARGS)
            return self._hit(found[-1], MATCH_EXACT_ARGS_REPEAT)
        same_name = self._by_name.get(call.name, [])
        position = self._calls[call.name]
        if self.position_fallback and position < len(same_name):
            return self._hit(same_name[position], MATCH_POSITION)
        return None

    @staticmethod
    def _hit(step: Step, match: str) -> FixtureHit[ToolResult]:
        return FixtureHit(result_of(step), match, SOURCE_FIXTURES, step.number)


class AnswerFixtures:
    """Answers an earlier replay of the same branch got from a person, a function or a model.

    Re-replaying a branch reuses them (in order, for identical requests and calls) so a branch
    answered by hand or by a live model replays the same way offline. The step's replay
    attributes are kept as they were, so the reused step is written identically.
    """

    def __init__(self, branch: Run, first_index: int) -> None:
        self._models: dict[str, list[Step]] = {}
        self._tools: dict[str, list[Step]] = {}
        for step in branch.steps[first_index:]:
            if step.attributes.get(A_SOURCE) in _REUSABLE_SKIP:
                continue
            if has_response(step):
                self._models.setdefault(request_of(step).key, []).append(step)
            elif has_result(step):
                self._tools.setdefault(call_of(step).key, []).append(step)
        self._used: Counter[str] = Counter()

    def __len__(self) -> int:
        return sum(map(len, self._models.values())) + sum(map(len, self._tools.values()))

    def take_model(self, request: ModelRequest) -> FixtureHit[ModelResponse] | None:
        """An earlier answer to this exact request, or ``None``."""
        step = self._next(self._models, "m" + request.key)
        return None if step is None else self._hit(step, response_of(step))

    def take_tool(self, call: ToolCallRequest) -> FixtureHit[ToolResult] | None:
        """An earlier answer to this exact call, or ``None``."""
        step = self._next(self._tools, "t" + call.key)
        return None if step is None else self._hit(step, result_of(step))

    def _next(self, table: dict[str, list[Step]], counter_key: str) -> Step | None:
        found = table.get(counter_key[1:], [])
        used = self._used[counter_key]
        if used >= len(found):
            return None
        self._used[counter_key] += 1
        return found[used]

    @staticmethod
    def _hit(step: Step, value: AnswerT) -> FixtureHit[AnswerT]:
        attrs = {k: v for k, v in step.attributes.items() if k.startswith(REPLAY_PREFIX)}
        return FixtureHit(
            value,
            str(attrs.get(A_MATCH, "reused")),
            str(attrs.get(A_SOURCE)),
            None,
            replay_attributes=attrs,
        )
