"""One step of a run (a span) and what it carries: messages, tool calls, usage.

A *step* is one span of the run: an agent turn, a model call (llm), a tool call, a retrieval
or anything else. Every step keeps its payload as a flat ``attributes`` dict whose keys are
OpenTelemetry GenAI attribute names where one exists (``gen_ai.request.model``,
``gen_ai.input.messages``, ``gen_ai.tool.call.result`` ...); the attribute names are defined
here, and typed accessors on :class:`Step` read them, so importers only have to produce native
records and everything above (UI, replay, diff) reads one shape.

The run that holds the steps, their tree and the run-level records are in
:mod:`trace_tui.core.model.run` (which re-exports everything here). This module knows nothing
about files or the UI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

STEP_KINDS: tuple[str, ...] = ("agent", "llm", "tool", "retrieval", "other")
STATUSES: tuple[str, ...] = ("ok", "error", "unset", "running")

# Attribute names (OpenTelemetry GenAI semantic conventions where one exists).
A_OPERATION = "gen_ai.operation.name"
A_PROVIDER = "gen_ai.provider.name"
A_REQUEST_MODEL = "gen_ai.request.model"
A_RESPONSE_MODEL = "gen_ai.response.model"
A_RESPONSE_ID = "gen_ai.response.id"
A_FINISH_REASONS = "gen_ai.response.finish_reasons"
A_SYSTEM = "gen_ai.system_instructions"
A_INPUT_MESSAGES = "gen_ai.input.messages"
A_OUTPUT_MESSAGES = "gen_ai.output.messages"
A_TOOL_DEFINITIONS = "gen_ai.tool.definitions"
A_USAGE_INPUT = "gen_ai.usage.input_tokens"
A_USAGE_OUTPUT = "gen_ai.usage.output_tokens"
A_USAGE_CACHE_READ = "gen_ai.usage.cache_read.input_tokens"
A_USAGE_CACHE_WRITE = "gen_ai.usage.cache_creation.input_tokens"
A_TOOL_NAME = "gen_ai.tool.name"
A_TOOL_CALL_ID = "gen_ai.tool.call.id"
A_TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"
A_TOOL_RESULT = "gen_ai.tool.call.result"
A_RETRIEVAL_QUERY = "gen_ai.retrieval.query.text"
A_RETRIEVAL_DOCUMENTS = "gen_ai.retrieval.documents"
A_AGENT_NAME = "gen_ai.agent.name"
A_CONTEXT_WINDOW = "trace_tui.context_window"
A_CONTEXT_TRUNCATED = "trace_tui.context.truncated"

#: Model parameters a replay needs, by their attribute names.
REQUEST_PARAMETERS: tuple[str, ...] = (
    "gen_ai.request.temperature",
    "gen_ai.request.top_p",
    "gen_ai.request.top_k",
    "gen_ai.request.max_tokens",
    "gen_ai.request.seed",
    "gen_ai.request.stop_sequences",
    "gen_ai.request.frequency_penalty",
    "gen_ai.request.presence_penalty",
)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call the model asked for: its id, the tool's name and the parsed arguments."""

    id: str | None
    name: str
    arguments: Any

    @classmethod
    def from_json(cls, data: Any) -> ToolCall:
        """Build from the native ``{"id", "name", "arguments"}`` object (lenient)."""
        if not isinstance(data, dict):
            return cls(id=None, name=str(data), arguments=None)
        call_id = data.get("id")
        return cls(
            id=str(call_id) if call_id is not None else None,
            name=str(data.get("name") or ""),
            arguments=data.get("arguments"),
        )


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message in the native shape (close to OpenAI chat, arguments as objects).

    ``content`` is text, or ``None`` for an assistant turn that only calls tools; a list of
    parts from a foreign format is kept as-is in ``parts`` and flattened to text here.
    """

    role: str
    content: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Message:
        """Build from a native message object; anything odd becomes readable text."""
        if not isinstance(data, dict):
            return cls(role="unknown", content=_text_of(data))
        calls = data.get("tool_calls") or ()
        return cls(
            role=str(data.get("role") or "unknown"),
            content=_text_of(data.get("content")),
            tool_calls=tuple(ToolCall.from_json(c) for c in calls if c is not None)
            if isinstance(calls, list)
            else (),
            tool_call_id=_opt_str(data.get("tool_call_id")),
            name=_opt_str(data.get("name")),
        )

    def to_json(self) -> dict[str, Any]:
        """The native JSON object for this message (only the fields that are set)."""
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in self.tool_calls
            ]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            out["name"] = self.name
        return out


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage of one model call. ``None`` means not recorded, never zero by default.

    ``input_tokens`` counts the whole prompt the model read, cache reads and writes included
    (importers normalise providers that report them separately).
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None

    @property
    def total_tokens(self) -> int | None:
        """Input plus output, or ``None`` when neither is known."""
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    @property
    def recorded(self) -> bool:
        """True when at least one count was recorded."""
        return any(
            v is not None
            for v in (
                self.input_tokens,
                self.output_tokens,
                self.cache_read_tokens,
                self.cache_write_tokens,
            )
        )


@dataclass(slots=True)
class Step:
    """One span of the run, with its payload in ``attributes``.

    ``index`` is the 0-based step number (users see ``index + 1``). ``offset`` and ``line``
    locate the step's first record in the source file; ``source`` keeps the original foreign
    record(s) an importer built the step from, so the inspector can show both.
    """

    index: int
    span_id: str
    parent_id: str | None
    kind: str
    name: str
    start_time: float | None = None
    end_time: float | None = None
    status: str = "unset"
    error: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    offset: int | None = None
    line: int | None = None
    source: Any = None

    # ----------------------------------------------------------------- generic facts
    @property
    def number(self) -> int:
        """The 1-based step number shown to users."""
        return self.index + 1

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, when both are known (see :func:`measured_duration`)."""
        return measured_duration(self.start_time, self.end_time)

    @property
    def is_error(self) -> bool:
        """True when the span failed or a tool reported an error result."""
        return self.status == "error"

    def attr(self, name: str, default: Any = None) -> Any:
        """One attribute by its (OpenTelemetry) name."""
        return self.attributes.get(name, default)

    # ----------------------------------------------------------------- llm steps
    @property
    def model(self) -> str | None:
        """The model that answered (response model, else the requested one)."""
        value = self.attributes.get(A_RESPONSE_MODEL) or self.attributes.get(A_REQUEST_MODEL)
        return str(value) if value else None

    @property
    def system_prompt(self) -> str | None:
        """The system prompt text sent with this model call, if recorded."""
        value = self.attributes.get(A_SYSTEM)
        return _text_of(value) if value is not None else None

    @property
    def input_messages(self) -> list[Message]:
        """The messages sent to the model (system prompt excluded; see ``system_prompt``)."""
        return _messages(self.attributes.get(A_INPUT_MESSAGES))

    @property
    def output_messages(self) -> list[Message]:
        """What the model answered (usually one assistant message)."""
        return _messages(self.attributes.get(A_OUTPUT_MESSAGES))

    @property
    def output_tool_calls(self) -> list[ToolCall]:
        """Tool calls the model asked for in this step's response."""
        return [call for msg in self.output_messages for call in msg.tool_calls]

    @property
    def tool_definitions(self) -> list[dict[str, Any]]:
        """Tool schemas offered to the model."""
        value = self.attributes.get(A_TOOL_DEFINITIONS)
        return [t for t in value if isinstance(t, dict)] if isinstance(value, list) else []

    @property
    def parameters(self) -> dict[str, Any]:
        """Model parameters recorded for this call, keyed by short name (``temperature``)."""
        return {
            name.rsplit(".", 1)[1]: self.attributes[name]
            for name in REQUEST_PARAMETERS
            if name in self.attributes
        }

    @property
    def usage(self) -> Usage | None:
        """Token usage when any count was recorded, else ``None``."""
        usage = Usage(
            input_tokens=token_value(self.attributes.get(A_USAGE_INPUT)),
            output_tokens=token_value(self.attributes.get(A_USAGE_OUTPUT)),
            cache_read_tokens=token_value(self.attributes.get(A_USAGE_CACHE_READ)),
            cache_write_tokens=token_value(self.attributes.get(A_USAGE_CACHE_WRITE)),
        )
        return usage if usage.recorded else None

    # ----------------------------------------------------------------- tool steps
    @property
    def tool_name(self) -> str | None:
        """Name of the tool this step ran."""
        value = self.attributes.get(A_TOOL_NAME)
        return str(value) if value is not None else None

    @property
    def tool_call_id(self) -> str | None:
        """The call id linking this tool step to the model's request for it."""
        value = self.attributes.get(A_TOOL_CALL_ID)
        return str(value) if value is not None else None

    @property
    def tool_arguments(self) -> Any:
        """The arguments the tool was called with (parsed JSON)."""
        return self.attributes.get(A_TOOL_ARGUMENTS)

    @property
    def tool_result(self) -> Any:
        """The result exactly as the tool returned it (error results too)."""
        return self.attributes.get(A_TOOL_RESULT)

    # ----------------------------------------------------------------- retrieval
    @property
    def retrieval_query(self) -> str | None:
        """The retrieval query text."""
        value = self.attributes.get(A_RETRIEVAL_QUERY)
        return _text_of(value) if value is not None else None

    @property
    def documents(self) -> list[dict[str, Any]]:
        """Documents a retrieval returned (``id``, ``score``, ``content``)."""
        value = self.attributes.get(A_RETRIEVAL_DOCUMENTS)
        return [d for d in value if isinstance(d, dict)] if isinstance(value, list) else []


def measured_duration(start: float | None, end: float | None) -> float | None:
    """Seconds from ``start`` to ``end``; ``None`` when either is unknown, or when they are the
    same instant: a record with one timestamp (a Claude Code line, an OpenHands event) says
    when something happened, not how long it took, and 0 ms would be a measurement."""
    if start is None or end is None or end == start:
        return None
    return max(0.0, end - start)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def token_value(value: Any) -> int | None:
    """A token count as a step reads it: an int, or a float with no fraction (``None``
    otherwise; booleans are not counts)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _text_of(value: Any) -> str | None:
    """Flatten content to text: strings as-is, lists of parts joined, other JSON as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        pieces: list[str] = []
        for part in value:
            if isinstance(part, str):
                pieces.append(part)
            elif isinstance(part, dict):
                text = part.get("text", part.get("content"))
                pieces.append(text if isinstance(text, str) else _json_text(part))
            else:
                pieces.append(_json_text(part))
        return "\n".join(pieces)
    return _json_text(value)


def _json_text(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def _messages(value: Any) -> list[Message]:
    return [Message.from_json(m) for m in value] if isinstance(value, list) else []
