"""Rebuild the model requests of a branch from the recorded ones, carrying the branch's changes.

While a branch follows the recording (same tools called in the same order), the request of
each later model call is the *recorded* request with every value the branch changed swapped
in; this keeps whatever context management the agent did (a sliding window, an evicted system
prompt, a new user turn) exactly as recorded. :class:`Substitutions` holds those swaps:

- request fields edited at the fork (system prompt, tool schemas, model, parameters) replace
  the same recorded value in later requests;
- input messages edited at the fork replace the recorded prefix they belonged to (or the
  same message, one for one, when the list kept its length);
- each assistant message the branch answered differently replaces the recorded one;
- each tool result that differs replaces the content of the tool message with that call id,
  formatted the way the agent formatted results (:class:`ToolMessageFormat`).

After the branch diverges (a model answer calls other tools), requests are built the generic
way: previous request + assistant message + tool messages (:func:`next_request`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from trace_tui.core.model.run import A_INPUT_MESSAGES, Run
from trace_tui.core.replay.exchange import REQUEST_ATTRS, ToolResult
from trace_tui.core.replay.fixtures import call_of, has_result, result_of
from trace_tui.core.text.canonical import canonical_json

_MISSING = object()
#: json.dumps styles an agent may use to put a tool result into a tool message.
_STYLES: dict[str, dict[str, Any]] = {
    "json": {},
    "json-unicode": {"ensure_ascii": False},
    "json-compact": {"separators": (",", ":")},
    "json-compact-unicode": {"separators": (",", ":"), "ensure_ascii": False},
    "json-sorted": {"sort_keys": True},
    "json-sorted-unicode": {"sort_keys": True, "ensure_ascii": False},
    "json-indent": {"indent": 2},
    "json-indent-unicode": {"indent": 2, "ensure_ascii": False},
}
DEFAULT_STYLE = "json-unicode"


def detect_style(result: Any, content: Any) -> str | None:
    """Which style turns ``result`` into ``content`` (``text``, ``value``, ``json...``), if any."""
    if isinstance(result, str) and content == result:
        return "text"
    if not isinstance(content, str):
        return "value" if content == result and content is not None else None
    for style, options in _STYLES.items():
        if json.dumps(result, **options) == content:
            return style
    return None


def format_result(result: ToolResult, style: str) -> Any:
    """Tool-message content for ``result`` in ``style``."""
    value = result.result
    if value is None and result.error:
        return result.error
    if isinstance(value, str):
        return value
    if style == "value":
        return value
    return json.dumps(value, **_STYLES.get(style, _STYLES[DEFAULT_STYLE]))


@dataclass(frozen=True, slots=True)
class ToolMessageFormat:
    """How the recorded agent formatted tool results into tool messages."""

    style: str = DEFAULT_STYLE

    @classmethod
    def learn(cls, run: Run) -> ToolMessageFormat:
        """Find the first tool result that reappears in a later request and read its style."""
        results = {}
        for step in run.steps:
            if has_result(step) and call_of(step).call_id:
                results[call_of(step).call_id] = result_of(step)
        for step in run.steps:
            for message in _messages(step.attributes.get(A_INPUT_MESSAGES)):
                known = results.get(str(message.get("tool_call_id")))
                if message.get("role") == "tool" and known is not None:
                    style = detect_style(known.result, message.get("content"))
                    if style not in (None, "text"):
                        return cls(style)
        return cls()

    def tool_message(self, call_id: str | None, name: str, result: ToolResult) -> dict[str, Any]:
        """A new tool message for a generic (diverged) turn."""
        return {
            "role": "tool",
            "tool_call_id": call_id,
            "name": name,
            "content": format_result(result, self.style),
        }


@dataclass(slots=True)
class _Change:
    label: str
    after_requests: int
    applied: bool = False


@dataclass(slots=True)
class Substitutions:
    """Recorded -> branch swaps applied to each later recorded request (see module doc)."""

    fmt: ToolMessageFormat = field(default_factory=ToolMessageFormat)
    fields: dict[str, tuple[str, Any]] = field(default_factory=dict)
    prefix: tuple[list[Any], list[Any]] | None = None
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tools: dict[str, tuple[ToolResult, ToolResult, str | None, dict[str, Any] | None]] = field(
        default_factory=dict
    )
    changes: dict[str, _Change] = field(default_factory=dict)
    requests_built: int = 0

    # ----------------------------------------------------------------- registering
    def request_edited(self, original: dict[str, Any], edited: dict[str, Any], step: int) -> None:
        """The fork step's request was edited: carry each changed field into later requests."""
        for key in REQUEST_ATTRS:
            before, after = original.get(key, _MISSING), edited.get(key, _MISSING)
            if key == A_INPUT_MESSAGES or _canon(before) == _canon(after):
                continue
            self.fields[key] = (_canon(before), after)
            self._change(f"{key} edited at step {step}", key)
        old = _messages(original.get(A_INPUT_MESSAGES))
        new = _messages(edited.get(A_INPUT_MESSAGES))
        if _canon(old) != _canon(new):
            self.prefix = (old, new)
            if len(old) == len(new):
                for a, b in zip(old, new, strict=True):
                    if _canon(a) != _canon(b):
                        self.messages[_canon(a)] = [b]
            self._change(f"input messages edited at step {step}", "prefix")

    def assistant_changed(
        self,
        recorded: list[dict[str, Any]],
        branch: list[dict[str, Any]],
        step: int,
        label: str | None = None,
    ) -> None:
        """The branch's answer at ``step`` differs from the recorded one."""
        if _canon(recorded) == _canon(branch) or not recorded:
            return
        for i, message in enumerate(recorded):
            replacement = branch[i : i + 1] if i < len(recorded) - 1 else branch[i:]
            self.messages[_canon(message)] = replacement
            self._change(label or f"the model's answer at step {step}", _canon(message))

    def tool_changed(
        self,
        call_id: str,
        recorded: ToolResult,
        branch: ToolResult,
        *,
        branch_id: str | None,
        step: int,
        call: dict[str, Any] | None = None,
        label: str | None = None,
    ) -> None:
        """The tool result for recorded ``call_id`` is ``branch`` in this branch."""
        if _outcome(recorded) == _outcome(branch) and branch_id == call_id:
            return
        self.tools[call_id] = (recorded, branch, branch_id, call)
        self._change(label or f"the tool result at step {step}", "tool:" + call_id)

    def _change(self, label: str, key: str) -> None:
        self.changes[key] = _Change(label, self.requests_built)

    # ----------------------------------------------------------------- applying
    def apply(self, recorded: dict[str, Any]) -> dict[str, Any]:
        """The branch version of a recorded request's attributes."""
        self.requests_built += 1
        attrs = dict(recorded)
        for key, (before, after) in self.fields.items():
            if _canon(attrs.get(key, _MISSING)) == before:
                self._applied(key)
                if after is _MISSING:
                    attrs.pop(key, None)
                else:
                    attrs[key] = after
        if A_INPUT_MESSAGES in attrs and isinstance(attrs[A_INPUT_MESSAGES], list):
            attrs[A_INPUT_MESSAGES] = self._messages(attrs[A_INPUT_MESSAGES])
        return attrs

    def _messages(self, recorded: list[Any]) -> list[Any]:
        head: list[Any] = []
        rest = recorded
        if self.prefix is not None:
            old, new = self.prefix
            if _canon(recorded[: len(old)]) == _canon(old):
                head, rest = list(new), recorded[len(old) :]
                self._applied("prefix")
        out = head
        for message in rest:
            out += self._message(message)
        return out

    def _message(self, message: Any) -> list[Any]:
        if not isinstance(message, dict):
            return [message]
        call_id = message.get("tool_call_id")
        if message.get("role") == "tool" and isinstance(call_id, str) and call_id in self.tools:
            new = self._tool_message(message, *self.tools[call_id])
            if _canon(new) != _canon(message):
                self._applied("tool:" + call_id)
            return [new]
        replacement = self.messages.get(_canon(message))
        if replacement is None:
            return [message]
        self._applied(_canon(message))
        return list(replacement)

    def _tool_message(
        self,
        message: dict[str, Any],
        recorded: ToolResult,
        branch: ToolResult,
        branch_id: str | None,
        call: dict[str, Any] | None,
    ) -> dict[str, Any]:
        style = detect_style(recorded.result, message.get("content")) or self.fmt.style
        out = dict(message)
        out["tool_call_id"] = branch_id
        out["content"] = format_result(branch, style)
        if call is not None and "name" in out:
            out["name"] = call.get("name", out["name"])
        return out

    def _applied(self, key: str) -> None:
        change = self.changes.get(key)
        if change is not None:
            change.applied = True

    def unreached(self) -> list[str]:
        """Changes that never reached a later request although later requests were rebuilt."""
        return [
            c.label
            for c in self.changes.values()
            if not c.applied and self.requests_built > c.after_requests
        ]


def next_request(
    previous: dict[str, Any], assistant: list[dict[str, Any]], tool_messages: list[dict[str, Any]]
) -> dict[str, Any]:
    """The generic next request: the previous one plus the answer and the tool results."""
    attrs = dict(previous)
    attrs[A_INPUT_MESSAGES] = _messages(previous.get(A_INPUT_MESSAGES)) + assistant + tool_messages
    return attrs


def _messages(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _outcome(result: ToolResult) -> str:
    return canonical_json([result.result, result.status, result.outputs])


def _canon(value: Any) -> str:
    return "\x00missing" if value is _MISSING else canonical_json(value)
