"""Turn chat messages and tool schemas of every provider and framework into the native shape.

The native message (``docs/trace-format.md``) is close to an OpenAI chat message with parsed
tool-call arguments. Foreign shapes handled here, recognised by their keys:

- OpenAI chat completions (``tool_calls[].function``, ``role: "tool"``),
- Anthropic Messages (content blocks ``text`` / ``tool_use`` / ``tool_result`` / ``thinking``),
- OpenAI Responses items (``function_call``, ``function_call_output``, ``custom_tool_call`` ...),
- OpenTelemetry GenAI ``parts`` messages (``tool_call``, ``tool_call_response``),
- Inspect AI chat messages (``tool_calls[].function`` is the tool name),
- LangChain messages (``type: human|ai|tool``, serialised ``kwargs``).

A single text part becomes a plain string; anything richer stays a list of parts so nothing is
lost. The system prompt is separated out by :func:`split_system`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trace_tui.core.formats.shared.common import as_list, as_text, first, json_or_text, maybe_json

ROLES = ("system", "user", "assistant", "tool", "developer")
_ROLE_ALIASES = {"human": "user", "ai": "assistant", "model": "assistant", "function": "tool"}
_TEXT_TYPES = ("text", "input_text", "output_text", "summary_text")
_RESPONSES_CALLS = (
    "function_call",
    "custom_tool_call",
    "local_shell_call",
    "tool_search_call",
    "web_search_call",
    "image_generation_call",
    "mcp_call",
)
_RESPONSES_OUTPUTS = (
    "function_call_output",
    "custom_tool_call_output",
    "local_shell_call_output",
    "tool_search_output",
    "mcp_call_output",
)


# --------------------------------------------------------------------------- content
def content_of(value: Any) -> str | list[Any] | None:
    """Native content from a string or a list of parts: one text part collapses to a string."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, list):
        return as_text(value)
    parts = [_part(p) for p in value]
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    if all(isinstance(p, dict) and p.get("type") == "text" for p in parts) and len(parts) == 1:
        return str(parts[0]["text"])
    return parts


def _part(part: Any) -> Any:
    if isinstance(part, str):
        return {"type": "text", "text": part}
    if not isinstance(part, dict):
        return {"type": "text", "text": as_text(part)}
    kind = part.get("type")
    if kind == "text" and "text" not in part and "content" in part:  # OpenTelemetry GenAI parts
        return {"type": "text", "text": as_text(part.get("content")) or ""}
    if kind in _TEXT_TYPES or (kind is None and "text" in part):
        return {"type": "text", "text": str(part.get("text") or "")}
    if kind in ("thinking", "reasoning", "redacted_thinking"):
        text = first(
            part.get("thinking"), part.get("reasoning"), part.get("text"), part.get("content")
        )
        return {"type": "reasoning", "text": as_text(text) or ""}
    return part


def text_of(value: Any) -> str | None:
    """Plain text of content (parts joined by newlines), for system prompts and names.

    A string holding a JSON list of parts (pydantic-ai writes ``gen_ai.system_instructions``
    as ``'[{"type":"text","content":...}]'``) is read as those parts, not shown as JSON.
    """
    if isinstance(value, str) and value.lstrip().startswith("[{"):
        decoded = maybe_json(value)
        if isinstance(decoded, list) and all(
            isinstance(p, dict) and isinstance(p.get("type"), str) for p in decoded
        ):
            value = decoded
    content = content_of(maybe_json(value)) if not isinstance(value, str) else value
    if content is None or isinstance(content, str):
        return content
    return "\n".join(
        str(p.get("text")) if isinstance(p, dict) and "text" in p else as_text(p) or ""
        for p in content
    )


# --------------------------------------------------------------------------- messages
def normalize_messages(messages: Any) -> list[dict[str, Any]]:
    """Native messages from a list in any supported shape (a JSON string is decoded first)."""
    messages = maybe_json(messages)
    if isinstance(messages, dict):
        messages = [messages]
    if not isinstance(messages, list):
        return [] if messages is None else [{"role": "user", "content": as_text(messages)}]
    out: list[dict[str, Any]] = []
    for item in messages:
        for msg in _convert(item):
            _append(out, msg)
    for msg in out:
        msg.pop("_resp", None)
    return out


def _append(out: list[dict[str, Any]], msg: dict[str, Any]) -> None:
    """Merge the output items of one Responses-API response into one assistant message.

    Reasoning, an assistant message and function calls that follow each other came from the
    same model response (a new response needs new input in between), so they form one turn.
    """
    prev = out[-1] if out else None
    if msg.get("_resp") and prev is not None and prev.get("_resp"):
        prev["content"] = _join_content(prev.get("content"), msg.get("content"))
        if msg.get("tool_calls"):
            prev.setdefault("tool_calls", []).extend(msg["tool_calls"])
        return
    out.append(msg)


class MessageLog:
    """A conversation growing one foreign item at a time, cheap to snapshot.

    ``snapshot`` returns a new list sharing the message dicts, so keeping the input of every
    model call costs one pointer per message, not a copy of the conversation. A message in
    the log is never changed in place: an item that continues the last message replaces it
    with a merged copy, so a snapshot taken earlier keeps what it had.
    """

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._last_resp = False

    def add(self, item: Any) -> None:
        """Append one item in any supported shape (Responses items merge like a response)."""
        for msg in _convert(item):
            resp = bool(msg.pop("_resp", False))
            if resp and self._last_resp and self.messages:
                merged = dict(self.messages[-1])
                merged["content"] = _join_content(merged.get("content"), msg.get("content"))
                if msg.get("tool_calls"):
                    merged["tool_calls"] = [*merged.get("tool_calls", ()), *msg["tool_calls"]]
                self.messages[-1] = merged
            else:
                self.messages.append(msg)
            self._last_resp = resp

    def replace(self, items: Any) -> None:
        """Start over from ``items`` (a compaction replaced the history)."""
        self.messages = normalize_messages(items)
        self._last_resp = False

    def snapshot(self) -> list[dict[str, Any]]:
        """The messages so far."""
        return list(self.messages)


def _join_content(left: Any, right: Any) -> Any:
    if left is None:
        return right
    if right is None:
        return left
    as_list = [{"type": "text", "text": x} if isinstance(x, str) else x for x in (left, right)]
    return [p for x in as_list for p in (x if isinstance(x, list) else [x])]


def _convert(item: Any) -> list[dict[str, Any]]:
    if not isinstance(item, dict):
        return [{"role": "user", "content": as_text(item)}]
    if "lc" in item and isinstance(item.get("kwargs"), dict):
        return _langchain({**item["kwargs"], "type": _lc_type(item)})
    kind = item.get("type")
    if kind in _RESPONSES_CALLS:
        return [_responses_call(item)]
    if kind in _RESPONSES_OUTPUTS:
        return [_tool_message(item.get("call_id"), None, _responses_output(item.get("output")))]
    if kind == "reasoning":
        return [{"role": "assistant", "content": [_reasoning_item(item)], "_resp": True}]
    if kind in ("human", "ai", "system", "tool", "chat", "function") and "role" not in item:
        return _langchain(item)
    if "parts" in item:
        return _otel_parts(item)
    return _role_message(item)


def _role_message(item: dict[str, Any]) -> list[dict[str, Any]]:
    role = _role(item.get("role"))
    content = item.get("content")
    if isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") in ("tool_use", "tool_result") for b in content
    ):
        return _anthropic(role, content)
    msg: dict[str, Any] = {"role": role, "content": content_of(content)}
    calls = item.get("tool_calls")
    if isinstance(calls, list) and calls:
        msg["tool_calls"] = [_tool_call(c) for c in calls]
    if role == "tool":
        msg["tool_call_id"] = _opt_str(item.get("tool_call_id", item.get("id")))
        name = item.get("name", item.get("function"))
        if isinstance(name, str):
            msg["name"] = name
    elif isinstance(item.get("name"), str):
        msg["name"] = item["name"]
    if item.get("type") == "message" and role == "assistant":
        msg["_resp"] = True
    return [msg]


def _anthropic(role: str, blocks: list[Any]) -> list[dict[str, Any]]:
    """Anthropic content blocks: tool_result blocks become tool messages, tool_use calls."""
    out: list[dict[str, Any]] = []
    kept: list[Any] = []
    calls: list[dict[str, Any]] = []
    for block in blocks:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "tool_result":
            tool = _tool_message(block.get("tool_use_id"), None, content_of(block.get("content")))
            if block.get("is_error") is True:
                tool["is_error"] = True
            out.append(tool)
        elif kind == "tool_use":
            calls.append(
                {
                    "id": _opt_str(block.get("id")),
                    "name": str(block.get("name") or ""),
                    "arguments": block.get("input"),
                }
            )
        else:
            kept.append(block)
    if kept or calls or not out:
        msg: dict[str, Any] = {"role": role, "content": content_of(kept) if kept else None}
        if calls:
            msg["tool_calls"] = calls
        out.append(msg)
    return out


def _otel_parts(item: dict[str, Any]) -> list[dict[str, Any]]:
    role = _role(item.get("role"))
    parts = as_list(item.get("parts"))
    out: list[dict[str, Any]] = []
    kept: list[Any] = []
    calls: list[dict[str, Any]] = []
    for part in parts:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "tool_call":
            calls.append(
                {
                    "id": _opt_str(part.get("id")),
                    "name": str(part.get("name") or ""),
                    "arguments": json_or_text(part.get("arguments")),
                }
            )
        elif kind == "tool_call_response":
            result = part.get("response", part.get("result"))
            out.append(_tool_message(part.get("id"), item.get("name"), _result_text(result)))
        else:
            kept.append(part)
    if kept or calls or not out:
        msg: dict[str, Any] = {"role": role, "content": content_of(kept) if kept else None}
        if calls:
            msg["tool_calls"] = calls
        out.insert(0, msg)
    return out


def _langchain(item: dict[str, Any]) -> list[dict[str, Any]]:
    role = _role(item.get("role") or item.get("type"))
    msg: dict[str, Any] = {"role": role, "content": content_of(item.get("content"))}
    calls = item.get("tool_calls") or []
    if isinstance(calls, list) and calls:
        msg["tool_calls"] = [
            {
                "id": _opt_str(c.get("id")),
                "name": str(c.get("name") or ""),
                "arguments": c.get("args"),
            }
            if isinstance(c, dict) and "args" in c
            else _tool_call(c)
            for c in calls
        ]
    if role == "tool":
        msg["tool_call_id"] = _opt_str(item.get("tool_call_id"))
    return [msg]


def _lc_type(item: dict[str, Any]) -> str:
    ids = item.get("id")
    name = str(ids[-1]) if isinstance(ids, list) and ids else ""
    for prefix, kind in (("Human", "human"), ("AI", "ai"), ("System", "system"), ("Tool", "tool")):
        if name.startswith(prefix):
            return kind
    return "human"


def _responses_call(item: dict[str, Any]) -> dict[str, Any]:
    kind = item.get("type")
    if kind == "custom_tool_call":
        args: Any = item.get("input")
    elif kind == "function_call" or "arguments" in item:
        args = json_or_text(item.get("arguments"))
    else:
        args = {k: v for k, v in item.items() if k not in ("type", "id", "call_id", "status")}
    name = item.get("name") or kind
    call = {
        "id": _opt_str(item.get("call_id", item.get("id"))),
        "name": str(name),
        "arguments": args,
    }
    return {"role": "assistant", "content": None, "tool_calls": [call], "_resp": True}


def _responses_output(output: Any) -> Any:
    if isinstance(output, list):
        return content_of(output)
    return output if isinstance(output, str) or output is None else as_text(output)


def _reasoning_item(item: dict[str, Any]) -> dict[str, Any]:
    summary = item.get("summary") or []
    text = "\n".join(str(s.get("text", "")) for s in summary if isinstance(s, dict))
    return {"type": "reasoning", "text": text}


def _tool_call(call: Any) -> dict[str, Any]:
    if not isinstance(call, dict):
        return {"id": None, "name": str(call), "arguments": None}
    fn = call.get("function")
    if isinstance(fn, dict):  # OpenAI chat
        name, args = fn.get("name"), json_or_text(fn.get("arguments"))
    elif isinstance(fn, str):  # Inspect AI
        name, args = fn, json_or_text(call.get("arguments"))
    else:
        name = call.get("name")
        args = json_or_text(call.get("arguments", call.get("input", call.get("args"))))
    return {
        "id": _opt_str(call.get("id", call.get("call_id"))),
        "name": str(name or ""),
        "arguments": args,
    }


def _tool_message(call_id: Any, name: Any, content: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "tool", "tool_call_id": _opt_str(call_id), "content": content}
    if isinstance(name, str):
        msg["name"] = name
    return msg


def _result_text(result: Any) -> Any:
    return result if isinstance(result, str) or result is None else as_text(result)


def _role(value: Any) -> str:
    role = str(value or "user").lower()
    role = _ROLE_ALIASES.get(role, role)
    return role if role in ROLES else "user"


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def split_system(messages: list[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]]]:
    """Take the leading system messages out: (system prompt text or None, the rest)."""
    system: list[str] = []
    index = 0
    while index < len(messages) and messages[index].get("role") == "system":
        system.append(text_of(messages[index].get("content")) or "")
        index += 1
    return ("\n\n".join(system) if system else None), messages[index:]


def assistant_output(content: Any, tool_calls: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    """One native assistant message from content and already-native tool calls."""
    msg: dict[str, Any] = {"role": "assistant", "content": content_of(content)}
    calls = list(tool_calls)
    if calls:
        msg["tool_calls"] = calls
    return msg


# --------------------------------------------------------------------------- tool schemas
def normalize_tools(tools: Any) -> list[dict[str, Any]]:
    """Native tool definitions ``{"name", "description", "parameters"}`` from any shape."""
    tools = maybe_json(tools)
    if isinstance(tools, dict):
        tools = (
            list(tools.values()) if all(isinstance(v, dict) for v in tools.values()) else [tools]
        )
    if not isinstance(tools, list):
        return []
    out: list[dict[str, Any]] = []
    for tool in tools:
        tool = maybe_json(tool)
        if not isinstance(tool, dict):
            continue
        inner: dict[str, Any] = tool["function"] if isinstance(tool.get("function"), dict) else tool
        name = inner.get("name")
        if not isinstance(name, str) or not name:
            continue
        definition: dict[str, Any] = {"name": name}
        if isinstance(inner.get("description"), str):
            definition["description"] = inner["description"]
        params = maybe_json(
            first(
                inner.get("parameters"),
                inner.get("input_schema"),
                inner.get("inputSchema"),
                inner.get("parameters_json_schema"),
            )
        )
        if isinstance(params, dict):
            definition["parameters"] = params
        out.append(definition)
    return out
