"""What replay exchanges with its sources: model requests and responses, tool calls and results.

These are plain, frozen values in the native attribute vocabulary (``docs/trace-format.md``),
so a fixture store, a live endpoint, a Python function and a person typing an answer all see
and return the same shapes. :func:`canonical_json` and :func:`digest` give the stable text and
hash that fixture matching and replay determinism rely on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from trace_tui.core.errors import BadValue
from trace_tui.core.model.run import (
    A_FINISH_REASONS,
    A_INPUT_MESSAGES,
    A_OUTPUT_MESSAGES,
    A_REQUEST_MODEL,
    A_RESPONSE_ID,
    A_RESPONSE_MODEL,
    A_RETRIEVAL_DOCUMENTS,
    A_SYSTEM,
    A_TOOL_DEFINITIONS,
    A_TOOL_RESULT,
    A_USAGE_CACHE_READ,
    A_USAGE_CACHE_WRITE,
    A_USAGE_INPUT,
    A_USAGE_OUTPUT,
    REQUEST_PARAMETERS,
)
from trace_tui.core.text.canonical import canonical_json

#: The attributes of an llm step that make up its request (what the model was asked).
REQUEST_ATTRS: tuple[str, ...] = (
    A_SYSTEM,
    A_INPUT_MESSAGES,
    A_TOOL_DEFINITIONS,
    A_REQUEST_MODEL,
    *REQUEST_PARAMETERS,
)
#: The attributes of an llm step that make up its response (what the model answered).
RESPONSE_ATTRS: tuple[str, ...] = (
    A_OUTPUT_MESSAGES,
    A_FINISH_REASONS,
    A_RESPONSE_ID,
    A_RESPONSE_MODEL,
    A_USAGE_INPUT,
    A_USAGE_OUTPUT,
    A_USAGE_CACHE_READ,
    A_USAGE_CACHE_WRITE,
)
#: The attributes of a tool (or tool-like retrieval) step that make up its outcome.
TOOL_OUTPUT_ATTRS: tuple[str, ...] = (A_TOOL_RESULT, A_RETRIEVAL_DOCUMENTS)


def digest(*values: Any) -> str:
    """SHA-256 hex digest of the canonical JSON of ``values``."""
    return hashlib.sha256(canonical_json(list(values)).encode("utf-8")).hexdigest()


def parse_arguments(arguments: Any) -> Any:
    """Tool arguments as JSON: a string holding a JSON object or array is parsed, else kept."""
    if isinstance(arguments, str):
        text = arguments.strip()
        if text[:1] in ("{", "["):
            try:
                return json.loads(text)
            except ValueError:
                return arguments
    return arguments


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """One model call as replay would send it: the request attributes of an llm step.

    ``attributes`` holds exactly the :data:`REQUEST_ATTRS` keys that are present (absent and
    ``null`` differ). ``step_number`` is the 1-based branch step this request is for.
    """

    attributes: dict[str, Any]
    step_number: int = 0

    @property
    def key(self) -> str:
        """The canonical hash of system + messages + tools + model + parameters."""
        return digest(self.attributes)

    @property
    def system(self) -> Any:
        """The system instructions (usually text), or ``None``."""
        return self.attributes.get(A_SYSTEM)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The input messages (native shape), system prompt excluded."""
        value = self.attributes.get(A_INPUT_MESSAGES)
        return [m for m in value if isinstance(m, dict)] if isinstance(value, list) else []

    @property
    def tools(self) -> list[dict[str, Any]]:
        """The tool definitions offered to the model."""
        value = self.attributes.get(A_TOOL_DEFINITIONS)
        return [t for t in value if isinstance(t, dict)] if isinstance(value, list) else []

    @property
    def model(self) -> str | None:
        """The model asked for."""
        value = self.attributes.get(A_REQUEST_MODEL)
        return str(value) if value is not None else None

    @property
    def parameters(self) -> dict[str, Any]:
        """Model parameters by short name (``temperature``, ``max_tokens`` ...)."""
        return {
            name.rsplit(".", 1)[1]: self.attributes[name]
            for name in REQUEST_PARAMETERS
            if name in self.attributes
        }


@dataclass(frozen=True, slots=True)
class ModelResponse:
    """What a model answered, as the response attributes of an llm step."""

    attributes: dict[str, Any]

    @classmethod
    def from_message(
        cls,
        message: dict[str, Any],
        *,
        finish_reasons: list[str] | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        model: str | None = None,
        response_id: str | None = None,
    ) -> ModelResponse:
        """Build from one assistant message; the finish reason is inferred when not given."""
        message = normalise_assistant(message)
        if finish_reasons is None:
            finish_reasons = ["tool_calls"] if message.get("tool_calls") else ["stop"]
        attrs: dict[str, Any] = {A_OUTPUT_MESSAGES: [message], A_FINISH_REASONS: finish_reasons}
        optional = {
            A_USAGE_INPUT: input_tokens,
            A_USAGE_OUTPUT: output_tokens,
            A_RESPONSE_MODEL: model,
            A_RESPONSE_ID: response_id,
        }
        attrs.update({k: v for k, v in optional.items() if v is not None})
        return cls(attrs)

    @classmethod
    def coerce(cls, value: Any) -> ModelResponse:
        """Accept a :class:`ModelResponse`, reply text, or an assistant message object.

        A dict with ``content`` and/or ``tool_calls`` is a message (``role`` optional); a dict
        with ``gen_ai.output.messages`` is taken as response attributes. Anything else is an
        error (``ValueError`` with the reason).
        """
        if isinstance(value, ModelResponse):
            return value
        if isinstance(value, str):
            return cls.from_message({"role": "assistant", "content": value})
        if isinstance(value, dict):
            if A_OUTPUT_MESSAGES in value:
                return cls({k: v for k, v in value.items() if k in RESPONSE_ATTRS})
            if "content" in value or "tool_calls" in value:
                return cls.from_message(value)
        raise BadValue(
            "a model answer must be text, an assistant message "
            '{"content": ..., "tool_calls": [{"id", "name", "arguments"}]} or response attributes'
        )

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The output messages (usually one assistant message)."""
        value = self.attributes.get(A_OUTPUT_MESSAGES)
        return [m for m in value if isinstance(m, dict)] if isinstance(value, list) else []

    @property
    def tool_calls(self) -> list[dict[str, Any]]:
        """Every tool call in the output messages, in order."""
        calls: list[dict[str, Any]] = []
        for message in self.messages:
            raw = message.get("tool_calls")
            if isinstance(raw, list):
                calls += [c for c in raw if isinstance(c, dict)]
        return calls


def normalise_assistant(message: dict[str, Any]) -> dict[str, Any]:
    """An assistant message in the native shape: role, content, tool calls with parsed args."""
    out: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls:
        out["tool_calls"] = [
            {
                "id": c.get("id"),
                "name": str(c.get("name") or ""),
                "arguments": parse_arguments(c.get("arguments")),
            }
            for c in calls
            if isinstance(c, dict)
        ]
    return out


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """One tool call replay must answer: the tool, its arguments and the model's call id."""

    name: str
    arguments: Any
    call_id: str | None = None
    step_number: int = 0

    @property
    def key(self) -> str:
        """Tool name plus canonical (sorted-key) arguments: the exact-match fixture key."""
        return canonical_json([self.name, parse_arguments(self.arguments)])


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool returned: the result, whether it failed, and any extra output attributes.

    ``outputs`` carries output attributes besides the result that a fixture recorded (the
    documents of a retrieval); live and manual results leave it empty.
    """

    result: Any
    status: str = "ok"
    error: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def coerce(cls, value: Any) -> ToolResult:
        """Accept a :class:`ToolResult` or any JSON value (taken as a successful result)."""
        return value if isinstance(value, ToolResult) else cls(result=value)
