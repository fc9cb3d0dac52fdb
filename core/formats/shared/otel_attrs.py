"""Map the attributes of one OpenTelemetry span to a native step: kind and payload.

Shared by the OTLP importer and the Langfuse importer (which keeps the original OTel attributes
of each observation). Understands, per span:

- OpenTelemetry **GenAI** conventions, old and new names (``gen_ai.system`` →
  ``gen_ai.provider.name``, ``gen_ai.usage.prompt_tokens`` → ``input_tokens``), content as JSON
  strings or structured values, or in span events (``gen_ai.client.inference.operation.details``
  and the deprecated ``gen_ai.user.message`` / ``gen_ai.choice`` ... events);
- **OpenInference** (``openinference.span.kind``, flattened ``llm.input_messages.N.message.*``,
  ``llm.token_count.*``, ``llm.invocation_parameters``, ``tool.*``, ``retrieval.documents.N``);
- the span-kind hints of OpenLLMetry (``traceloop.span.kind``), LangSmith
  (``langsmith.span.kind``) and the Vercel AI SDK (``ai.*`` span names).

Attributes that have no native name are kept as they are; flattened content keys that were
turned into native messages are left out (the original span stays in the step's ``source``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trace_tui.core.formats.shared.coerce import FIXED_KEYS, STRING_KEYS, coerce_known
from trace_tui.core.formats.shared.coerce import PARAMS as _PARAMS
from trace_tui.core.formats.shared.common import (
    first,
    json_or_text,
    maybe_json,
    opt_float,
    usage_attributes,
)
from trace_tui.core.formats.shared.messages import (
    normalize_messages,
    normalize_tools,
    split_system,
    text_of,
)

_OI_KINDS = {
    "LLM": "llm",
    "TOOL": "tool",
    "AGENT": "agent",
    "CHAIN": "agent",
    "RETRIEVER": "retrieval",
    "RERANKER": "retrieval",
}
_OP_KINDS = {
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "completion": "llm",
    "execute_tool": "tool",
    "invoke_agent": "agent",
    "create_agent": "agent",
    "invoke_workflow": "agent",
    "chain": "agent",
    "agent": "agent",
    "workflow": "agent",
    "retrieval": "retrieval",
    "retriever": "retrieval",
}
_HINT_KINDS = {
    "llm": "llm",
    "tool": "tool",
    "chain": "agent",
    "agent": "agent",
    "workflow": "agent",
    "task": "agent",
    "retriever": "retrieval",
}
_DROP_PREFIXES = (
    "llm.input_messages.",
    "llm.output_messages.",
    "llm.tools.",
    "llm.prompts.",
    "llm.choices.",
    "retrieval.documents.",
    "gen_ai.prompt.",
    "gen_ai.completion.",
)
_MESSAGE_EVENTS = (
    "gen_ai.system.message",
    "gen_ai.user.message",
    "gen_ai.assistant.message",
    "gen_ai.tool.message",
)


def span_kind(attrs: dict[str, Any], name: str) -> str:
    """The native kind of a span from its attributes (and its name, for the Vercel AI SDK)."""
    oi = attrs.get("openinference.span.kind")
    if isinstance(oi, str):
        return _OI_KINDS.get(oi.upper(), "other")
    op = attrs.get("gen_ai.operation.name")
    if isinstance(op, str) and op in _OP_KINDS:
        return _OP_KINDS[op]
    for key in ("langsmith.span.kind", "traceloop.span.kind"):
        hint = attrs.get(key)
        if isinstance(hint, str) and hint.lower() in _HINT_KINDS:
            return _HINT_KINDS[hint.lower()]
    if attrs.get("llm.request.type") in ("chat", "completion"):
        return "llm"
    if name.startswith("ai.toolCall"):
        return "tool"
    if name.endswith((".doGenerate", ".doStream")):
        return "llm"
    if "gen_ai.tool.name" in attrs or "gen_ai.tool.call.id" in attrs:
        return "tool"
    if any(k.startswith(("gen_ai.usage.", "gen_ai.request.model")) for k in attrs):
        return "llm"
    return "other"


#: Attributes :func:`native_attributes` itself may replace (parse, normalise, move, drop) or
#: fill in over the span's own value; see :func:`kept_as_is`.
_REWRITTEN = frozenset({
    "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.prompt", "gen_ai.completion",
    "gen_ai.system_instructions", "gen_ai.tool.definitions", "gen_ai.response.finish_reasons",
    "gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "input.value", "output.value",
    "gen_ai.retrieval.documents",
})


def kept_as_is(key: str) -> bool:
    """Does a span attribute under ``key`` holding a string reach :func:`native_attributes`'s
    result unchanged, under the same key, whatever else the span holds (for search, which
    then need not map the span to know its payload holds that string)? A test maps spans
    with every key the mapping modules name to check it."""
    if key.startswith(_DROP_PREFIXES) or key in _REWRITTEN or key.endswith(".raw"):
        return False  # (coerce_known may write "<key>.raw" over one)
    return key not in FIXED_KEYS or key in STRING_KEYS


def native_attributes(
    attrs: dict[str, Any], kind: str, events: Iterable[dict[str, Any]] = ()
) -> dict[str, Any]:
    """Native payload attributes for a span of ``kind`` (see module docstring)."""
    out = {k: v for k, v in attrs.items() if not k.startswith(_DROP_PREFIXES)}
    _rename_old_genai(out)
    if "openinference.span.kind" in attrs:
        _openinference(attrs, kind, out)
    _flat_genai(attrs, out)
    _events(events, out)
    _content(out)
    if kind == "tool":
        _tool(out)
    if kind == "llm":
        out.setdefault("gen_ai.operation.name", "chat")
        out.update(_usage(out))
    elif kind == "tool":
        out.setdefault("gen_ai.operation.name", "execute_tool")
    elif kind == "retrieval":
        out.setdefault("gen_ai.operation.name", "retrieval")
    return coerce_known(out)


def _rename_old_genai(out: dict[str, Any]) -> None:
    for old, new in (
        ("gen_ai.system", "gen_ai.provider.name"),
        ("gen_ai.usage.prompt_tokens", "gen_ai.usage.input_tokens"),
        ("gen_ai.usage.completion_tokens", "gen_ai.usage.output_tokens"),
    ):
        if old in out and new not in out:
            out[new] = out[old]


def _usage(out: dict[str, Any]) -> dict[str, Any]:
    provider = str(out.get("gen_ai.provider.name") or "").lower()
    return usage_attributes(
        out.get("gen_ai.usage.input_tokens"),
        out.get("gen_ai.usage.output_tokens"),
        out.get("gen_ai.usage.cache_read.input_tokens"),
        out.get("gen_ai.usage.cache_creation.input_tokens"),
        input_includes_cache=False if provider == "anthropic" else None,
    )


def _content(out: dict[str, Any]) -> None:
    """Decode JSON-string content and bring messages and tool schemas to the native shape."""
    for key in ("gen_ai.input.messages", "gen_ai.output.messages"):
        if key in out:
            out[key] = normalize_messages(out[key])
    if "gen_ai.input.messages" not in out and "gen_ai.prompt" in out:
        out["gen_ai.input.messages"] = normalize_messages(out["gen_ai.prompt"])
    if "gen_ai.output.messages" not in out and "gen_ai.completion" in out:
        out["gen_ai.output.messages"] = normalize_messages(out["gen_ai.completion"])
    if "gen_ai.input.messages" in out:
        system, rest = split_system(out["gen_ai.input.messages"])
        out["gen_ai.input.messages"] = rest
        if system is not None:
            out.setdefault("gen_ai.system_instructions", system)
    if "gen_ai.system_instructions" in out:
        out["gen_ai.system_instructions"] = text_of(out["gen_ai.system_instructions"])
    if "gen_ai.tool.definitions" in out:
        out["gen_ai.tool.definitions"] = normalize_tools(out["gen_ai.tool.definitions"])
    reasons = maybe_json(out.get("gen_ai.response.finish_reasons"))
    if isinstance(reasons, str):
        reasons = [reasons]
    if isinstance(reasons, list):
        out["gen_ai.response.finish_reasons"] = [str(r) for r in reasons]


def _tool(out: dict[str, Any]) -> None:
    for key in ("gen_ai.tool.call.arguments", "gen_ai.tool.call.result"):
        if key in out:
            out[key] = json_or_text(out[key])
    if "gen_ai.tool.call.arguments" not in out and "tool_arguments" in out:  # Pydantic AI
        out["gen_ai.tool.call.arguments"] = json_or_text(out["tool_arguments"])
    if "gen_ai.tool.call.result" not in out and "tool_response" in out:
        out["gen_ai.tool.call.result"] = json_or_text(out["tool_response"])


# --------------------------------------------------------------------------- OpenInference
def _openinference(attrs: dict[str, Any], kind: str, out: dict[str, Any]) -> None:
    provider = first(attrs.get("llm.provider"), attrs.get("llm.system"))
    if provider is not None:
        out.setdefault("gen_ai.provider.name", str(provider))
    if kind == "llm":
        _oi_llm(attrs, out)
    elif kind == "tool":
        out.setdefault(
            "gen_ai.tool.name", first(attrs.get("tool.name"), attrs.get("tool_call.function.name"))
        )
        call_id = first(attrs.get("tool.id"), attrs.get("tool_call.id"))
        if call_id is not None:
            out.setdefault("gen_ai.tool.call.id", str(call_id))
        if "input.value" in attrs:
            out.setdefault("gen_ai.tool.call.arguments", json_or_text(attrs["input.value"]))
        if "output.value" in attrs:
            result = json_or_text(attrs["output.value"])
            message = _tool_message(result)
            if message is not None:  # LangChain/LangGraph: a serialised ToolMessage
                result = json_or_text(message.get("content"))
                if message.get("tool_call_id") is not None:
                    out.setdefault("gen_ai.tool.call.id", str(message["tool_call_id"]))
            out.setdefault("gen_ai.tool.call.result", result)
    elif kind == "retrieval":
        if "input.value" in attrs:
            out.setdefault("gen_ai.retrieval.query.text", str(attrs["input.value"]))
        docs = unflatten(attrs, "retrieval.documents.")
        out["gen_ai.retrieval.documents"] = [
            {"id": d.get("id"), "score": opt_float(d.get("score")), "content": d.get("content")}
            for d in (item.get("document", {}) for item in docs if isinstance(item, dict))
        ]
    elif kind == "agent" and "agent.name" in attrs:
        out.setdefault("gen_ai.agent.name", attrs["agent.name"])


def _tool_message(value: Any) -> dict[str, Any] | None:
    """The message inside a serialised LangChain ``ToolMessage`` (``{"type": "tool", "data":
    {"content": ..., "tool_call_id": ...}}``, or the flat ``{"type": "tool", "content": ...}``)."""
    if not isinstance(value, dict) or value.get("type") != "tool":
        return None
    data = value.get("data")
    message: dict[str, Any] = data if isinstance(data, dict) else value
    return message if "content" in message else None


def _oi_llm(attrs: dict[str, Any], out: dict[str, Any]) -> None:
    params = maybe_json(attrs.get("llm.invocation_parameters"))
    params = params if isinstance(params, dict) else {}
    request_model = first(
        attrs.get("llm.request.model_name"), params.get("model"), attrs.get("llm.model_name")
    )
    response_model = first(attrs.get("llm.response.model_name"), attrs.get("llm.model_name"))
    if request_model is not None:
        out.setdefault("gen_ai.request.model", str(request_model))
    if response_model is not None:
        out.setdefault("gen_ai.response.model", str(response_model))
    for key, native in _PARAMS.items():
        if key in params:
            out.setdefault(f"gen_ai.request.{native}", params[key])
    _raw_bodies(attrs, out)
    inputs = unflatten(attrs, "llm.input_messages.")
    if inputs:
        out.setdefault("gen_ai.input.messages", [_oi_message(m) for m in inputs])
    outputs = unflatten(attrs, "llm.output_messages.")
    if outputs:
        out.setdefault("gen_ai.output.messages", [_oi_message(m) for m in outputs])
    tools = unflatten(attrs, "llm.tools.")
    if tools:
        out.setdefault(
            "gen_ai.tool.definitions",
            [
                maybe_json(t.get("tool", {}).get("json_schema"))
                for t in tools
                if isinstance(t, dict)
            ],
        )
    for key, native in (
        ("llm.token_count.prompt", "gen_ai.usage.input_tokens"),
        ("llm.token_count.completion", "gen_ai.usage.output_tokens"),
        ("llm.token_count.prompt_details.cache_read", "gen_ai.usage.cache_read.input_tokens"),
        ("llm.token_count.prompt_details.cache_write", "gen_ai.usage.cache_creation.input_tokens"),
    ):
        if key in attrs:
            out.setdefault(native, attrs[key])
    if "llm.finish_reason" in attrs:
        out.setdefault("gen_ai.response.finish_reasons", [str(attrs["llm.finish_reason"])])
    elif (
        outputs
        and isinstance(outputs[0], dict)
        and outputs[0].get("message", {}).get("finish_reason")
    ):
        out.setdefault(
            "gen_ai.response.finish_reasons", [str(outputs[0]["message"]["finish_reason"])]
        )


def _raw_bodies(attrs: dict[str, Any], out: dict[str, Any]) -> None:
    """Messages from ``input.value`` / ``output.value`` when they hold a raw OpenAI body.

    Used when the flattened ``llm.*_messages`` keys are absent; either way the raw bodies are
    not repeated in the step's attributes (they stay in its ``source``).
    """
    from trace_tui.core.formats.shared.provider_bodies import (
        request_attributes,
        response_attributes,
    )

    request, response = maybe_json(attrs.get("input.value")), maybe_json(attrs.get("output.value"))
    flattened = any(k.startswith("llm.input_messages.") for k in attrs)
    if isinstance(request, dict) and ("messages" in request or "input" in request):
        out.pop("input.value", None)
        if not flattened:
            provider = "openai.chat" if "messages" in request else "openai.responses"
            out.update(
                {k: v for k, v in request_attributes(provider, request).items() if k not in out}
            )
    if isinstance(response, dict) and ("choices" in response or "output" in response):
        out.pop("output.value", None)
        if not any(k.startswith("llm.output_messages.") for k in attrs):
            provider = "openai.chat" if "choices" in response else "openai.responses"
            found = response_attributes(provider, response)
            out.update(
                {
                    k: v
                    for k, v in found.items()
                    if k not in out and not k.startswith("gen_ai.usage.")
                }
            )


def _oi_message(item: Any) -> dict[str, Any]:
    msg = item.get("message", {}) if isinstance(item, dict) else {}
    native: dict[str, Any] = {"role": msg.get("role", "user")}
    contents = msg.get("contents")
    if isinstance(contents, list) and "content" not in msg:
        native["content"] = [
            {
                "type": c.get("message_content", {}).get("type", "text"),
                "text": c.get("message_content", {}).get("text"),
            }
            for c in contents
            if isinstance(c, dict)
        ]
    else:
        native["content"] = msg.get("content")
    calls = msg.get("tool_calls")
    if isinstance(calls, list):
        native["tool_calls"] = [
            {
                "id": c.get("tool_call", {}).get("id"),
                "type": "function",
                "function": c.get("tool_call", {}).get("function", {}),
            }
            for c in calls
            if isinstance(c, dict)
        ]
    for key in ("tool_call_id", "name"):
        if key in msg:
            native[key] = msg[key]
    return normalize_messages([native])[0]


def unflatten(attrs: dict[str, Any], prefix: str) -> list[Any]:
    """Rebuild the list that flattened keys ``<prefix>N.a.b`` describe (numeric parts → lists)."""
    keys = [k for k in attrs if k.startswith(prefix)]
    if not keys:
        return []
    root: dict[str, Any] = {}
    for key in keys:
        value = attrs[key]
        node = root
        parts = key[len(prefix) :].split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[parts[-1]] = value
    result = _listify(root)
    return result if isinstance(result, list) else []


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isdigit() for k in node):
        return [_listify(node[k]) for k in sorted(node, key=int)]
    return {k: _listify(v) for k, v in node.items()}


# --------------------------------------------------------------------------- OpenLLMetry
def _flat_genai(attrs: dict[str, Any], out: dict[str, Any]) -> None:
    """OpenLLMetry's flattened ``gen_ai.prompt.N.role/content`` and ``gen_ai.completion.N``."""
    for prefix, key in (
        ("gen_ai.prompt.", "gen_ai.input.messages"),
        ("gen_ai.completion.", "gen_ai.output.messages"),
    ):
        items = unflatten(attrs, prefix)
        if items and key not in out:
            out[key] = [
                maybe_json(i) if not isinstance(i, dict) else _flat_message(i) for i in items
            ]


def _flat_message(item: dict[str, Any]) -> dict[str, Any]:
    msg = dict(item)
    calls = msg.get("tool_calls")
    if isinstance(calls, list):
        msg["tool_calls"] = [
            {"id": c.get("id"), "name": c.get("name"), "arguments": c.get("arguments")}
            for c in calls
            if isinstance(c, dict)
        ]
    return msg


# --------------------------------------------------------------------------- events
def _events(events: Iterable[dict[str, Any]], out: dict[str, Any]) -> None:
    """Content recorded as span events (current single event, or deprecated per message)."""
    inputs: list[Any] = []
    outputs: list[Any] = []
    for event in events:
        name = event.get("name") or event.get("event.name")
        attrs = event.get("attributes") or {}
        body = event.get("body")
        if name == "gen_ai.client.inference.operation.details":
            for key, value in attrs.items():
                out.setdefault(key, value)
        elif name in _MESSAGE_EVENTS:
            role = name.split(".")[1]
            message = body if isinstance(body, dict) else dict(attrs)
            message.setdefault("role", role)
            if name == "gen_ai.tool.message" and "id" in message:
                message.setdefault("tool_call_id", message["id"])
            inputs.append(maybe_json(message))
        elif name == "gen_ai.choice":
            choice = body if isinstance(body, dict) else dict(attrs)
            message = maybe_json(choice.get("message", choice))
            if isinstance(message, dict):
                message.setdefault("role", "assistant")
                if choice.get("finish_reason"):
                    out.setdefault("gen_ai.response.finish_reasons", [str(choice["finish_reason"])])
            outputs.append(message)
        elif name in ("gen_ai.content.prompt", "gen_ai.content.completion"):
            key = "gen_ai.prompt" if name.endswith("prompt") else "gen_ai.completion"
            if key in attrs:
                out.setdefault(key, attrs[key])
    if inputs:
        out.setdefault("gen_ai.input.messages", inputs)
    if outputs:
        out.setdefault("gen_ai.output.messages", outputs)
