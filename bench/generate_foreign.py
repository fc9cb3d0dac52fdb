"""Synthetic foreign traces for the benchmarks: the run of ``bench/generate.py`` as OTLP/JSON lines.

One ``ExportTraceServiceRequest`` per line with one GenAI span (about 1.1 KB), as the
OpenTelemetry Collector's file exporter writes them: hex ids, nanosecond times as decimal
strings, ``AnyValue`` attributes, messages as JSON strings. Children come before their parent
(exporters write a span when it ends): the root agent span is the last line but one. The last
line holds ``rare`` (a word found nowhere else) in a tool result, for search benchmarks.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from bench.generate import _T0, _TOOLS, _text

_RESOURCE = {"attributes": [
    {"key": "service.name", "value": {"stringValue": "support-bot"}},
    {"key": "telemetry.sdk.language", "value": {"stringValue": "python"}},
]}
_SCOPE = {"name": "opentelemetry.instrumentation.openai_v2"}
_TRACE = "755bfebd49bd36d9ef93b25988197f3e"


def _kv(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def _span_id(n: int) -> str:
    return f"{n + 1:016x}"


def _request(span: dict[str, Any]) -> bytes:
    return orjson.dumps({"resourceSpans": [{"resource": _RESOURCE, "scopeSpans": [
        {"scope": _SCOPE, "spans": [span]}]}]})


def spans(steps: int, seed: int = 7, rare: str = "") -> Iterator[dict[str, Any]]:
    """The OTLP spans of a synthetic run of ``steps`` steps, in file order."""
    rng = random.Random(seed)
    for n in range(1, steps):
        t = int((_T0 + n * 0.5) * 1e9)
        if n % 2:
            name = "chat gpt-4o"
            attrs = [
                _kv("gen_ai.operation.name", "chat"),
                _kv("gen_ai.system", "openai"),
                _kv("gen_ai.request.model", "gpt-4o-2024-08-06"),
                _kv("gen_ai.input.messages", orjson.dumps(
                    [{"role": "user", "parts": [{"type": "text",
                                                 "content": _text(rng, 40)}]}]).decode()),
                _kv("gen_ai.output.messages", orjson.dumps(
                    [{"role": "assistant", "parts": [{"type": "text",
                                                      "content": _text(rng, 30)}]}]).decode()),
                _kv("gen_ai.usage.input_tokens", rng.randint(500, 90_000)),
                _kv("gen_ai.usage.output_tokens", rng.randint(10, 900)),
            ]
            kind = 3
        else:
            tool = rng.choice(_TOOLS)
            name = f"execute_tool {tool}"
            attrs = [
                _kv("gen_ai.operation.name", "execute_tool"),
                _kv("gen_ai.tool.name", tool),
                _kv("gen_ai.tool.call.id", f"call_{n}"),
                _kv("gen_ai.tool.call.arguments", orjson.dumps({"q": _text(rng, 6)}).decode()),
                _kv("gen_ai.tool.call.result", _text(rng, 40)),
            ]
            kind = 1
        yield {"traceId": _TRACE, "spanId": _span_id(n), "parentSpanId": _span_id(0),
               "name": name, "kind": kind, "startTimeUnixNano": str(t),
               "endTimeUnixNano": str(t + 400_000_000), "attributes": attrs,
               "status": {"code": 2, "message": "tool failed"} if n % 97 == 0 else {}}
    t0 = int(_T0 * 1e9)
    yield {"traceId": _TRACE, "spanId": _span_id(0), "name": "invoke_agent bench", "kind": 1,
           "startTimeUnixNano": str(t0), "endTimeUnixNano": str(t0 + steps * 10**9),
           "attributes": [_kv("gen_ai.operation.name", "invoke_agent")], "status": {}}
    if rare:
        t = t0 + steps * 10**9
        yield {"traceId": _TRACE, "spanId": _span_id(steps + 1), "parentSpanId": _span_id(0),
               "name": "execute_tool last", "kind": 1, "startTimeUnixNano": str(t),
               "endTimeUnixNano": str(t + 1), "status": {},
               "attributes": [_kv("gen_ai.operation.name", "execute_tool"),
                              _kv("gen_ai.tool.name", "last"),
                              _kv("gen_ai.tool.call.result", rare)]}


def write_otlp(path: Path, steps: int, seed: int = 7, rare: str = "") -> int:
    """Write the OTLP/JSON-lines file; returns its size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with open(path, "wb") as out:
        batch: list[bytes] = []
        for span in spans(steps, seed, rare):
            batch.append(_request(span))
            if len(batch) >= 4096:
                size += out.write(b"\n".join(batch) + b"\n")
                batch.clear()
        if batch:
            size += out.write(b"\n".join(batch) + b"\n")
    return size
