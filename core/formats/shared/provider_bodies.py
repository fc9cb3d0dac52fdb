"""Raw provider request and response bodies → native ``llm`` step attributes.

Covers OpenAI chat completions, the OpenAI Responses API and Anthropic Messages, including
streamed responses captured as server-sent-event text (reassembled into one response).
Token usage is normalised so ``gen_ai.usage.input_tokens`` includes cache reads and writes
(Anthropic reports them separately; OpenAI includes them already).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from trace_tui.core.formats.shared.coerce import model_parameters
from trace_tui.core.formats.shared.common import as_dict, as_list, maybe_json, usage_attributes
from trace_tui.core.formats.shared.messages import (
    normalize_messages,
    normalize_tools,
    split_system,
    text_of,
)
from trace_tui.core.text.redact import Redactor

log = logging.getLogger(__name__)

PROVIDERS = ("anthropic", "openai.chat", "openai.responses")


def guess_provider(url: Any, request: Any, response: Any) -> str | None:
    """Which API an exchange used, from the URL path or the body shapes."""
    path = str(url or "")
    response = maybe_json(response)
    resp = response if isinstance(response, dict) else {}
    if "/messages" in path or resp.get("type") == "message" or _sse_has(response, "message_start"):
        return "anthropic"
    if (
        "/responses" in path
        or resp.get("object") == "response"
        or _sse_has(response, "response.created")
    ):
        return "openai.responses"
    if "/chat/completions" in path or str(resp.get("object", "")).startswith("chat.completion"):
        return "openai.chat"
    req = request if isinstance(request, dict) else {}
    if "messages" in req:
        return "anthropic" if "max_tokens" in req and "system" in req else "openai.chat"
    if "input" in req:
        return "openai.responses"
    return None


def request_attributes(provider: str, body: Any) -> dict[str, Any]:
    """Model, parameters, system prompt, input messages and tool schemas of a request."""
    body = maybe_json(body)
    if not isinstance(body, dict):
        return {}
    attrs: dict[str, Any] = {"gen_ai.request.model": body.get("model"), **model_parameters(body)}
    if provider == "anthropic":
        attrs["gen_ai.system_instructions"] = text_of(body.get("system"))
        attrs["gen_ai.input.messages"] = normalize_messages(body.get("messages") or [])
    elif provider == "openai.responses":
        attrs["gen_ai.system_instructions"] = body.get("instructions")
        items = body.get("input")
        items = [{"role": "user", "content": items}] if isinstance(items, str) else items
        attrs["gen_ai.input.messages"] = normalize_messages(items or [])
    else:
        system, rest = split_system(normalize_messages(body.get("messages") or []))
        attrs["gen_ai.system_instructions"] = system
        attrs["gen_ai.input.messages"] = rest
    if body.get("tools"):
        attrs["gen_ai.tool.definitions"] = normalize_tools(body["tools"])
    return {k: v for k, v in attrs.items() if v is not None}


def response_attributes(provider: str, body: Any) -> dict[str, Any]:
    """Output message, finish reason, ids and usage of a response (streamed or not)."""
    body = maybe_json(body)
    if isinstance(body, str):
        body = reassemble_sse(provider, body)
    if not isinstance(body, dict):
        return {}
    if provider == "anthropic":
        return _anthropic_response(body)
    if provider == "openai.responses":
        return _responses_response(body)
    return _chat_response(body)


def _anthropic_response(body: dict[str, Any]) -> dict[str, Any]:
    usage = as_dict(body.get("usage"))
    attrs: dict[str, Any] = {
        "gen_ai.response.id": body.get("id"),
        "gen_ai.response.model": body.get("model"),
        "gen_ai.output.messages": normalize_messages(
            [{"role": "assistant", "content": body.get("content") or []}]
        ),
        **usage_attributes(
            usage.get("input_tokens"),
            usage.get("output_tokens"),
            usage.get("cache_read_input_tokens"),
            usage.get("cache_creation_input_tokens"),
            input_includes_cache=False,
        ),
    }
    if body.get("stop_reason"):
        attrs["gen_ai.response.finish_reasons"] = [str(body["stop_reason"])]
    return attrs


def _chat_response(body: dict[str, Any]) -> dict[str, Any]:
    choices = as_list(body.get("choices"))
    usage = as_dict(body.get("usage"))
    details = as_dict(usage.get("prompt_tokens_details"))
    messages = [
        c.get("message")
        for c in choices
        if isinstance(c, dict) and isinstance(c.get("message"), dict)
    ]
    reasons = [
        str(c["finish_reason"]) for c in choices if isinstance(c, dict) and c.get("finish_reason")
    ]
    attrs: dict[str, Any] = {
        "gen_ai.response.id": body.get("id"),
        "gen_ai.response.model": body.get("model"),
        "gen_ai.output.messages": normalize_messages(messages),
        **usage_attributes(
            usage.get("prompt_tokens"),
            usage.get("completion_tokens"),
            details.get("cached_tokens"),
            usage.get("cache_creation_input_tokens"),
            input_includes_cache=True,
        ),
    }
    if reasons:
        attrs["gen_ai.response.finish_reasons"] = reasons
    return attrs


def _responses_response(body: dict[str, Any]) -> dict[str, Any]:
    usage = as_dict(body.get("usage"))
    details = as_dict(usage.get("input_tokens_details"))
    output = as_list(body.get("output"))
    messages = normalize_messages(output)
    calls = any(isinstance(i, dict) and str(i.get("type", "")).endswith("_call") for i in output)
    attrs: dict[str, Any] = {
        "gen_ai.response.id": body.get("id"),
        "gen_ai.response.model": body.get("model"),
        "gen_ai.output.messages": messages,
        "gen_ai.response.finish_reasons": [
            "tool_calls" if calls else str(body.get("status") or "stop")
        ],
        **usage_attributes(
            usage.get("input_tokens"),
            usage.get("output_tokens"),
            details.get("cached_tokens"),
            None,
            input_includes_cache=True,
        ),
    }
    return attrs


def response_error(body: Any) -> str | None:
    """The error message of a failed response body, if it has one."""
    body = maybe_json(body)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error.get("type") or error)
        if error:
            return str(error)
    return None


# --------------------------------------------------------------------------- streaming
def _sse_events(text: str) -> list[tuple[str | None, Any]]:
    events: list[tuple[str | None, Any]] = []
    name: str | None = None
    for line in text.splitlines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()
            if data and data != "[DONE]":
                try:
                    events.append((name, orjson.loads(data)))
                except orjson.JSONDecodeError:
                    log.debug("unreadable server-sent event data: %.80s", Redactor().text(data))
            name = None
    return events


def _sse_has(body: Any, event: str) -> bool:
    return isinstance(body, str) and f"event: {event}" in body[:2000]


def reassemble_sse(provider: str, text: str) -> dict[str, Any] | None:
    """One response object from a captured server-sent-event stream."""
    events = _sse_events(text)
    if not events:
        return None
    if provider == "anthropic":
        return _anthropic_stream([e for _, e in events if isinstance(e, dict)])
    if provider == "openai.responses":
        for _, event in reversed(events):
            if isinstance(event, dict) and isinstance(event.get("response"), dict):
                return dict(event["response"])
        return None
    return _chat_stream([e for _, e in events if isinstance(e, dict)])


def _anthropic_stream(events: list[dict[str, Any]]) -> dict[str, Any]:
    message: dict[str, Any] = {"content": []}
    partial: dict[int, str] = {}
    for event in events:
        kind = event.get("type")
        if kind == "message_start" and isinstance(event.get("message"), dict):
            message = {**event["message"], "content": list(event["message"].get("content") or [])}
        elif kind == "content_block_start":
            message["content"].append(dict(event.get("content_block") or {}))
        elif kind == "content_block_delta" and message["content"]:
            block, delta = message["content"][-1], event.get("delta") or {}
            if "text" in delta:
                block["text"] = block.get("text", "") + delta["text"]
            elif "thinking" in delta:
                block["thinking"] = block.get("thinking", "") + delta["thinking"]
            elif "partial_json" in delta:
                index = len(message["content"]) - 1
                partial[index] = partial.get(index, "") + delta["partial_json"]
        elif kind == "message_delta":
            message.update(event.get("delta") or {})
            message["usage"] = {**(message.get("usage") or {}), **(event.get("usage") or {})}
    for index, text in partial.items():
        message["content"][index]["input"] = maybe_json(text) if text else {}
    return message


def _chat_stream(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    text: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    result: dict[str, Any] = {"choices": [{"message": {"role": "assistant"}}]}
    for chunk in chunks:
        result.update({k: chunk[k] for k in ("id", "model") if k in chunk})
        if isinstance(chunk.get("usage"), dict):
            result["usage"] = chunk["usage"]
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            text.append(delta.get("content") or "")
            for call in delta.get("tool_calls") or ():
                slot = calls.setdefault(
                    call.get("index", 0), {"id": None, "function": {"name": "", "arguments": ""}}
                )
                slot["id"] = call.get("id") or slot["id"]
                fn = call.get("function") or {}
                slot["function"]["name"] += fn.get("name") or ""
                slot["function"]["arguments"] += fn.get("arguments") or ""
            if choice.get("finish_reason"):
                result["choices"][0]["finish_reason"] = choice["finish_reason"]
    message = result["choices"][0]["message"]
    message["content"] = "".join(text) or None
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    return result
