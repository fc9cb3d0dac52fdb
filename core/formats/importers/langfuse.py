"""Langfuse trace exports: ``{"trace": {...}, "observations": [...]}`` or the public API's
trace object with ``observations`` inside.

The trace is an ``agent`` step; each observation is a step under its
``parentObservationId`` (or under the trace). ``GENERATION`` → ``llm``, ``TOOL`` → ``tool``,
``AGENT``/``CHAIN`` → ``agent``, ``RETRIEVER`` → ``retrieval``; ``SPAN``/``EVENT`` take their kind
from the OpenTelemetry attributes Langfuse keeps in ``metadata.attributes``, which are mapped
like any OTel span (GenAI, OpenInference, LangSmith hints). Langfuse's own fields fill the gaps:
``input``/``output`` (often JSON strings: chat messages, Responses items, a raw response
object), ``model``, ``modelParameters``, ``usageDetails`` (or legacy ``usage``), ``level:
ERROR``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trace_tui.core.formats.base import Head, TraceFormat
from trace_tui.core.formats.shared.coerce import model_parameters
from trace_tui.core.formats.shared.common import (
    as_dict,
    first,
    json_or_text,
    maybe_json,
    problem,
    run_record,
    seconds_of,
    span,
    usage_attributes,
)
from trace_tui.core.formats.shared.documents import load_document
from trace_tui.core.formats.shared.messages import normalize_messages
from trace_tui.core.formats.shared.otel_attrs import native_attributes, span_kind
from trace_tui.core.formats.shared.provider_bodies import response_attributes
from trace_tui.core.formats.shared.sniff import doc_shape

_TYPES = {
    "GENERATION": "llm",
    "TOOL": "tool",
    "AGENT": "agent",
    "CHAIN": "agent",
    "RETRIEVER": "retrieval",
}
_CACHE_READ = (
    "input_cache_read",
    "prompt_details.cache_read",
    "cache_read_input_tokens",
    "input_cached_tokens",
)
_CACHE_WRITE = ("input_cache_creation", "prompt_details.cache_write", "cache_creation_input_tokens")


def read_langfuse(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a Langfuse trace export."""
    doc, note = load_document(path)
    if not isinstance(doc, dict):
        yield problem("the Langfuse export is not a JSON object")
        return
    trace: dict[str, Any] = doc["trace"] if isinstance(doc.get("trace"), dict) else doc
    observations = doc.get("observations")
    if not isinstance(observations, list):
        observations = trace.get("observations")
    observations = [o for o in observations or () if isinstance(o, dict)]
    yield from trace_records(trace, observations)
    if note:
        yield problem(note)


def trace_records(
    trace: dict[str, Any], observations: list[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """The run, the trace step, then observations parents-first in start order."""
    root = f"lf-trace-{trace.get('id') or 'trace'}"
    yield run_record(
        run_id=trace.get("id"),
        session_id=trace.get("sessionId"),
        trace_id=trace.get("id"),
        name=trace.get("name"),
        started_at=trace.get("timestamp"),
        environment={
            k: v
            for k, v in {
                "user_id": trace.get("userId"),
                "environment": trace.get("environment"),
                "release": trace.get("release"),
                "tags": trace.get("tags") or None,
                "version": trace.get("version"),
            }.items()
            if v is not None
        },
    )
    yield span(
        root,
        "agent",
        str(trace.get("name") or "trace"),
        start=trace.get("timestamp"),
        attributes={
            "langfuse.input": json_or_text(trace.get("input")),
            "langfuse.output": json_or_text(trace.get("output")),
            "langfuse.metadata": maybe_json(trace.get("metadata")),
        },
        source={k: v for k, v in trace.items() if k != "observations"},
    )
    ids = {str(o.get("id")) for o in observations}
    for obs in _parents_first(observations):
        parent = obs.get("parentObservationId")
        parent_id = f"lf-{parent}" if parent and str(parent) in ids else root
        yield observation_record(obs, parent_id)


def observation_record(obs: dict[str, Any], parent_id: str) -> dict[str, Any]:
    """One native ``span`` record for a Langfuse observation."""
    metadata = maybe_json(obs.get("metadata"))
    metadata = metadata if isinstance(metadata, dict) else {}
    otel = as_dict(metadata.get("attributes"))
    name = str(obs.get("name") or obs.get("type") or "observation")
    kind = _kind(obs, otel, name)
    attrs = native_attributes(otel, kind)
    if kind == "llm":
        _generation(obs, attrs)
    elif kind == "tool":
        attrs.setdefault("gen_ai.tool.name", name.removeprefix("running tool: "))
        attrs.setdefault("gen_ai.tool.call.arguments", json_or_text(obs.get("input")))
        attrs.setdefault("gen_ai.tool.call.result", json_or_text(obs.get("output")))
    else:
        attrs["langfuse.input"] = json_or_text(obs.get("input"))
        attrs["langfuse.output"] = json_or_text(obs.get("output"))
    attrs["langfuse.type"] = obs.get("type")
    attrs["langfuse.level"] = obs.get("level")
    error = obs.get("statusMessage") or "error" if obs.get("level") == "ERROR" else None
    return span(
        f"lf-{obs.get('id')}",
        kind,
        name,
        parent_id=parent_id,
        start=obs.get("startTime"),
        end=obs.get("endTime"),
        error=error,
        attributes=attrs,
        source=obs,
    )


def _kind(obs: dict[str, Any], otel: dict[str, Any], name: str) -> str:
    typed = _TYPES.get(str(obs.get("type") or "").upper())
    if typed:
        return typed
    guess = span_kind(otel, name)
    if guess in ("agent", "tool", "retrieval"):
        return guess
    return "agent" if "gen_ai.agent.name" in otel else "other"


def _generation(obs: dict[str, Any], attrs: dict[str, Any]) -> None:
    output = maybe_json(obs.get("output"))
    if "gen_ai.output.messages" not in attrs:
        if isinstance(output, dict) and isinstance(output.get("output"), list):
            attrs.update(
                {
                    k: v
                    for k, v in response_attributes("openai.responses", output).items()
                    if k not in attrs and not k.startswith("gen_ai.usage.")
                }
            )
        elif isinstance(output, dict) and isinstance(output.get("choices"), list):
            attrs.update(
                {
                    k: v
                    for k, v in response_attributes("openai.chat", output).items()
                    if k not in attrs and not k.startswith("gen_ai.usage.")
                }
            )
        elif output is not None:
            attrs["gen_ai.output.messages"] = normalize_messages(
                [output]
                if isinstance(output, dict) and "role" not in output and "content" in output
                else output
            )
            for message in attrs["gen_ai.output.messages"]:
                message["role"] = "assistant" if message.get("role") == "user" else message["role"]
    if "gen_ai.input.messages" not in attrs and obs.get("input") is not None:
        attrs["gen_ai.input.messages"] = normalize_messages(obs.get("input"))
    model = obs.get("model")
    if model:
        attrs.setdefault("gen_ai.response.model", str(model))
        attrs.setdefault("gen_ai.request.model", str(model))
    params = maybe_json(obs.get("modelParameters"))
    for key, value in model_parameters(params).items():
        attrs.setdefault(key, value)
    if "gen_ai.usage.input_tokens" not in attrs:
        attrs.update(_usage(obs))


def _usage(obs: dict[str, Any]) -> dict[str, Any]:
    details = as_dict(obs.get("usageDetails"))
    legacy = as_dict(obs.get("usage"))
    return usage_attributes(
        first(details.get("input"), legacy.get("input"), obs.get("inputUsage")),
        first(details.get("output"), legacy.get("output"), obs.get("outputUsage")),
        first(*(details.get(k) for k in _CACHE_READ)),
        first(*(details.get(k) for k in _CACHE_WRITE)),
        input_includes_cache=None,
    )


def _parents_first(observations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Observations by start time, each after its parent."""
    ordered = sorted(observations, key=lambda o: seconds_of(o.get("startTime")) or 0.0)
    by_id = {str(o.get("id")): o for o in ordered}
    out: list[dict[str, Any]] = []
    done: set[int] = set()
    for obs in ordered:
        chain: list[dict[str, Any]] = []
        node: dict[str, Any] | None = obs
        while node is not None and id(node) not in done and len(chain) < 1000:
            chain.append(node)
            done.add(id(node))
            parent = node.get("parentObservationId")
            node = by_id.get(str(parent)) if parent else None
        out.extend(reversed(chain))
    return out


def detect_langfuse(head: Head) -> bool:
    """``{"trace": {"id"...}, "observations": [...]}`` or a trace with observations inside."""
    shape = doc_shape(head.data)
    if shape.container != "object":
        return False
    if shape.has("trace") and (shape.has("observations") or shape.has("trace", "observations")):
        return True
    return shape.has("observations", "[]", "traceId") and shape.has("observations", "[]", "type")


LANGFUSE = TraceFormat(
    name="langfuse",
    title="Langfuse trace export ({trace, observations})",
    detect=detect_langfuse,
    read_document=read_langfuse,
)
