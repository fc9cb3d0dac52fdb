"""Provider wire bodies rebuilt from a recorded answer, for a client that is being replayed.

A replayed client must get the bytes its SDK expects. When the recording holds the raw
response in the shape asked for (a capture, an ``api-exchanges`` trace), replay sends it back
as it was. Otherwise (an OpenInference or converted trace, a streamed request answered by a
non-streamed recording, or the other way round) the response is rebuilt here from the native
response attributes: an OpenAI chat completion, an OpenAI Responses object or an Anthropic
message, and for a streaming request the server-sent events that SDK reassembles into it.
"""

from __future__ import annotations

import json
from typing import Any

#: Finish reasons in the native (OpenAI chat) vocabulary and their Anthropic names.
_TO_ANTHROPIC = {"tool_calls": "tool_use", "stop": "end_turn", "length": "max_tokens"}
_FROM_ANTHROPIC = {v: k for k, v in _TO_ANTHROPIC.items()}


def _message(attrs: dict[str, Any]) -> dict[str, Any]:
    for message in attrs.get("gen_ai.output.messages") or ():
        if isinstance(message, dict):
            return message
    return {"role": "assistant", "content": None}


def _text(message: dict[str, Any]) -> str | None:
    content = message.get("content")
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in content]
        return "".join(parts)
    return str(content)


def _calls(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in message.get("tool_calls") or () if isinstance(c, dict)]


def _args_text(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _args_object(arguments: Any) -> Any:
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return {}
    return arguments if arguments is not None else {}


def _finish(attrs: dict[str, Any], message: dict[str, Any]) -> str:
    reasons = attrs.get("gen_ai.response.finish_reasons") or []
    reason = str(reasons[0]) if reasons else ("tool_calls" if _calls(message) else "stop")
    return _FROM_ANTHROPIC.get(reason, reason)


def _usage(attrs: dict[str, Any]) -> tuple[int, int, int]:
    def count(key: str) -> int:
        value = attrs.get(key)
        return int(value) if isinstance(value, int | float) else 0

    return (
        count("gen_ai.usage.input_tokens"),
        count("gen_ai.usage.output_tokens"),
        count("gen_ai.usage.cache_read.input_tokens"),
    )


def response_body(provider: str, attrs: dict[str, Any], model: str | None) -> dict[str, Any]:
    """The non-streamed response body of ``provider`` for recorded response attributes."""
    message = _message(attrs)
    rid = str(attrs.get("gen_ai.response.id") or "replayed")
    model = str(attrs.get("gen_ai.response.model") or model or "model")
    inp, out, cached = _usage(attrs)
    if provider == "anthropic":
        blocks: list[dict[str, Any]] = []
        if _text(message):
            blocks.append({"type": "text", "text": _text(message)})
        for call in _calls(message):
            blocks.append(
                {
                    "type": "tool_use",
                    "id": call.get("id") or "toolu_replayed",
                    "name": call.get("name"),
                    "input": _args_object(call.get("arguments")),
                }
            )
        finish = _finish(attrs, message)
        return {
            "id": rid,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": blocks,
            "stop_reason": _TO_ANTHROPIC.get(finish, finish),
            "stop_sequence": None,
            "usage": {
                "input_tokens": max(inp - cached, 0),
                "output_tokens": out,
                "cache_read_input_tokens": cached,
                "cache_creation_input_tokens": 0,
            },
        }
    if provider == "openai.responses":
        output: list[dict[str, Any]] = []
        for i, call in enumerate(_calls(message)):
            output.append(
                {
                    "type": "function_call",
                    "id": f"fc_{i}",
                    "status": "completed",
                    "call_id": call.get("id") or f"call_{i}",
                    "name": call.get("name"),
                    "arguments": _args_text(call.get("arguments")),
                }
            )
        if _text(message) is not None:
            output.append(
                {
                    "type": "message",
                    "id": "msg_replayed",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": _text(message), "annotations": []}],
                }
            )
        return {
            "id": rid,
            "object": "response",
            "created_at": 0,
            "status": "completed",
            "model": model,
            "output": output,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "error": None,
            "incomplete_details": None,
            "metadata": {},
            "usage": {
                "input_tokens": inp,
                "output_tokens": out,
                "total_tokens": inp + out,
                "input_tokens_details": {"cached_tokens": cached},
                "output_tokens_details": {"reasoning_tokens": 0},
            },
        }
    chat: dict[str, Any] = {"role": "assistant", "content": _text(message)}
    if _calls(message):
        chat["tool_calls"] = [
            {
                "id": c.get("id") or f"call_{i}",
                "type": "function",
                "function": {"name": c.get("name"), "arguments": _args_text(c.get("arguments"))},
            }
            for i, c in enumerate(_calls(message))
        ]
    return {
        "id": rid,
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": chat,
                "finish_reason": _finish(attrs, message),
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": inp,
            "completion_tokens": out,
            "total_tokens": inp + out,
            "prompt_tokens_details": {"cached_tokens": cached},
        },
    }


def _sse(events: list[tuple[str | None, Any]], done: bool = False) -> str:
    lines = []
    for name, data in events:
        head = f"event: {name}\n" if name else ""
        lines.append(f"{head}data: {json.dumps(data)}\n\n")
    if done:
        lines.append("data: [DONE]\n\n")
    return "".join(lines)


def stream_body(provider: str, body: dict[str, Any]) -> str:
    """The server-sent events a streaming client reassembles into ``body``."""
    if provider == "anthropic":
        return _anthropic_events(body)
    if provider == "openai.responses":
        return _responses_events(body)
    return _chat_events(body)


def _chat_events(body: dict[str, Any]) -> str:
    base = {k: body.get(k) for k in ("id", "created", "model")}
    base["object"] = "chat.completion.chunk"
    choice = (body.get("choices") or [{}])[0]
    message = choice.get("message") or {}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    events: list[tuple[str | None, Any]] = [(None, chunk({"role": "assistant", "content": ""}))]
    if message.get("content"):
        events.append((None, chunk({"content": message["content"]})))
    for i, call in enumerate(message.get("tool_calls") or ()):
        events.append((None, chunk({"tool_calls": [{"index": i, **call}]})))
    events.append((None, chunk({}, choice.get("finish_reason") or "stop")))
    events.append((None, {**base, "choices": [], "usage": body.get("usage")}))
    return _sse(events, done=True)


def _responses_events(body: dict[str, Any]) -> str:
    created = {**body, "status": "in_progress", "output": [], "usage": None}
    events: list[tuple[str | None, Any]] = [
        ("response.created", {"type": "response.created", "response": created}),
    ]
    for index, item in enumerate(body.get("output") or ()):
        events.append(
            (
                "response.output_item.added",
                {"type": "response.output_item.added", "output_index": index, "item": item},
            )
        )
        for c, part in enumerate(item.get("content") or ()):
            if part.get("type") == "output_text":
                events.append(
                    (
                        "response.output_text.delta",
                        {
                            "type": "response.output_text.delta",
                            "item_id": item.get("id"),
                            "output_index": index,
                            "content_index": c,
                            "delta": part.get("text", ""),
                            "logprobs": [],
                        },
                    )
                )
        events.append(
            (
                "response.output_item.done",
                {"type": "response.output_item.done", "output_index": index, "item": item},
            )
        )
    events.append(("response.completed", {"type": "response.completed", "response": body}))
    for n, (_, data) in enumerate(events):
        data["sequence_number"] = n
    return _sse(events)


def _anthropic_events(body: dict[str, Any]) -> str:
    start = {**body, "content": [], "stop_reason": None, "stop_sequence": None}
    events: list[tuple[str | None, Any]] = [
        ("message_start", {"type": "message_start", "message": start})
    ]
    for index, block in enumerate(body.get("content") or ()):
        if block.get("type") == "tool_use":
            opening = {**block, "input": {}}
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block.get("input"))}
        else:
            opening = {**block, "text": ""}
            delta = {"type": "text_delta", "text": block.get("text", "")}
        events += [
            (
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": opening},
            ),
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": delta},
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": index}),
        ]
    events += [
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": body.get("stop_reason"), "stop_sequence": None},
                "usage": {"output_tokens": (body.get("usage") or {}).get("output_tokens", 0)},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return _sse(events)
