"""The plain values a caller of :class:`~trace_tui.core.replay.engine.Replay` holds and reads.

:class:`Sources` says where answers come from besides the recording; :class:`Pending` is the
"needs a model response / tool result at step N" a stopped replay reports; :class:`ReplayedStep`
is what each step of a replay produced. Kept apart from the engine so a screen can import them
without the engine's helpers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trace_tui.core.model.run import A_OUTPUT_MESSAGES
from trace_tui.core.replay.exchange import (
    REQUEST_ATTRS,
    ModelRequest,
    ModelResponse,
    ToolCallRequest,
    digest,
)
from trace_tui.core.replay.fixtures import AnswerFixtures
from trace_tui.core.replay.responders import ModelSource, ToolSource
from trace_tui.core.text.canonical import canonical_json
from trace_tui.core.text.redact import Redactor

#: How much of a tool call's arguments a stop message shows.
ARGUMENTS_PREVIEW = 200
#: Stop messages are text for people: their previews are masked (built-in rules) *before*
#: they are cut, since a key cut in half is no longer recognisable when the note is saved.
_PREVIEW_REDACTOR = Redactor()


@dataclass(frozen=True, slots=True)
class Sources:
    """Where answers come from after the recorded fixtures (all optional; none by default).

    ``model`` and ``tools`` are asked only when no recording matches; ``reuse`` holds answers
    an earlier replay of the same branch got; ``position_fallback`` lets a tool call with new
    arguments take the recorded result of the same call position for that tool.
    """

    model: ModelSource | None = None
    tools: ToolSource | None = None
    reuse: AnswerFixtures | None = None
    position_fallback: bool = False


@dataclass(frozen=True, slots=True)
class Pending:
    """What a stopped replay needs: a model response or a tool result, at ``step_number``."""

    kind: str  # "model" or "tool"
    step_number: int
    request: ModelRequest | ToolCallRequest
    reason: str

    @property
    def needs(self) -> str:
        """``model_response`` or ``tool_result``."""
        return "model_response" if self.kind == "model" else "tool_result"


@dataclass(frozen=True, slots=True)
class ReplayedStep:
    """One step a replay wrote: its 1-based number, native record, match and source."""

    number: int
    record: dict[str, Any]
    match: str
    source: str


def masked_message(text: str) -> str:
    """``text`` (a stop reason, a source's error) with secrets masked by the built-in rules,
    for log lines: a log never gets a raw value, whatever ``--no-redact`` says."""
    return _PREVIEW_REDACTOR.text(text)


def describe_call(call: ToolCallRequest) -> str:
    """``name with arguments {...}`` for messages (secrets masked, arguments shortened)."""
    text = canonical_json(_PREVIEW_REDACTOR.value(call.arguments))
    if len(text) > ARGUMENTS_PREVIEW:
        text = text[: ARGUMENTS_PREVIEW - 1] + "…"
    return f"{call.name} with arguments {text}"


def differing_fields(recorded: dict[str, Any], branch: dict[str, Any]) -> list[str]:
    """The request attributes that differ between a recorded request and the branch's."""
    return [
        key
        for key in REQUEST_ATTRS
        if (key in recorded) != (key in branch)
        or canonical_json(recorded.get(key)) != canonical_json(branch.get(key))
    ]


def with_call_ids(response: ModelResponse, seed: str, number: int) -> ModelResponse:
    """The response with an id on every tool call (derived from ``seed`` and the step)."""
    messages = response.messages
    if not any(
        isinstance(c, dict) and not c.get("id")
        for m in messages
        for c in (m.get("tool_calls") or [])
    ):
        return response
    fixed = []
    counter = 0
    for message in messages:
        message = dict(message)
        calls = []
        for call in message.get("tool_calls") or []:
            if isinstance(call, dict) and not call.get("id"):
                call = {**call, "id": f"call_{digest(seed, number, counter)[:12]}"}
            counter += 1
            calls.append(call)
        if calls:
            message["tool_calls"] = calls
        fixed.append(message)
    return ModelResponse({**response.attributes, A_OUTPUT_MESSAGES: fixed})
