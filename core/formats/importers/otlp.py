"""OTLP/JSON traces: the Collector file exporter's JSON lines and one-request ``.json`` files.

Each line of an ``otlp-jsonl`` file is one ``ExportTraceServiceRequest`` (``{"resourceSpans":
[...]}``), or ``resourceLogs`` holding GenAI content events. Every span becomes one complete
native ``span`` record as its line is read, so a file the Collector is still writing can be
tailed. Within a line, parents are emitted before their children; a parent that arrives in a
later line is linked by id when it comes (OTLP exporters write a span when it *ends*, so
children usually come first).

Ids may be hex (the OTLP rule) or base64 (protobuf's generic JSON); empty ids get generated
ones. GenAI and OpenInference attributes are mapped by :mod:`.otel_attrs`. Content carried
by log records (``gen_ai.client.inference.operation.details`` or the deprecated per-message
events) is merged into its span with a ``span_end`` record when the span was already read, or
held until the span arrives.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from trace_tui.core.formats.base import Head, TraceFormat
from trace_tui.core.formats.shared.common import (
    opt_int,
    otel_id,
    problem,
    run_record,
    span,
    span_end,
)
from trace_tui.core.formats.shared.documents import load_document
from trace_tui.core.formats.shared.otel_attrs import native_attributes, span_kind
from trace_tui.core.formats.shared.sniff import doc_shape

log = logging.getLogger(__name__)

_SIGNALS = ("resourceSpans", "resourceLogs", "resourceMetrics")
_SPAN_KINDS = {
    0: "UNSPECIFIED",
    1: "INTERNAL",
    2: "SERVER",
    3: "CLIENT",
    4: "PRODUCER",
    5: "CONSUMER",
}
_CONTENT_KEYS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.response.finish_reasons",
    "gen_ai.tool.definitions",
)


# --------------------------------------------------------------------------- values
def any_value(value: Any) -> Any:
    """A Python value from an OTLP ``AnyValue`` (``{"stringValue": ...}`` and friends)."""
    if not isinstance(value, dict):
        return value
    for key in ("stringValue", "boolValue", "doubleValue", "bytesValue"):
        if key in value:
            return value[key]
    if "intValue" in value:
        number = value["intValue"]
        try:
            return int(number)
        except (TypeError, ValueError):
            return number
    if "arrayValue" in value:
        return [any_value(v) for v in (value["arrayValue"] or {}).get("values", [])]
    if "kvlistValue" in value:
        return attributes_of((value["kvlistValue"] or {}).get("values", []))
    return None


def attributes_of(items: Any) -> dict[str, Any]:
    """A flat dict from an OTLP ``[{"key", "value"}]`` attribute list."""
    if isinstance(items, dict):
        return dict(items)
    out: dict[str, Any] = {}
    for item in items or ():
        if isinstance(item, dict) and "key" in item:
            out[str(item["key"])] = any_value(item.get("value"))
    return out


def nanos(value: Any) -> float | None:
    """Epoch seconds from OTLP nanoseconds (a decimal string or a number)."""
    number = opt_int(value)
    return number / 1e9 if number else None


# --------------------------------------------------------------------------- mapping
class OtlpMapper:
    """Maps OTLP requests (one per line) to native records, joining log content to spans."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}  # span id -> status, for later content updates
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._generated = 0
        self._warned_metrics = False
        self._run_emitted = False

    def feed(self, record: dict[str, Any], *, offset: int, line: int) -> Iterable[dict[str, Any]]:
        """Native records for one request object."""
        out: list[dict[str, Any]] = []
        spans = list(_iter_spans(record))
        for resource, scope, raw in _parents_first(spans):
            if not self._run_emitted:
                self._run_emitted = True
                out.append(
                    run_record(
                        trace_id=otel_id(raw.get("traceId")),
                        name=resource.get("service.name"),
                        environment={k: v for k, v in resource.items() if isinstance(v, str)}
                        or None,
                    )
                )
            out.append(self._span(raw, resource, scope, line))
        for event in _iter_log_events(record):
            out.extend(self._log_event(event))
        if "resourceMetrics" in record and not self._warned_metrics:
            self._warned_metrics = True
            out.append(
                problem(f"line {line}: OTLP metrics (resourceMetrics) hold no spans; skipped")
            )
        if not any(k in record for k in _SIGNALS):
            keys = ", ".join(sorted(record)[:8])
            out.append(problem(f"line {line}: not an OTLP request (keys: {keys}); skipped"))
        return out

    def finish(self) -> Iterable[dict[str, Any]]:
        """Log content whose span never arrived becomes ``other`` steps."""
        out = []
        for span_id, events in self._pending.items():
            for event in events:
                self._generated += 1
                out.append(
                    span(
                        f"otlp-log-{self._generated}",
                        "other",
                        str(event.get("name") or "log"),
                        parent_id=span_id,
                        start=event.get("time"),
                        attributes={
                            "otel.log.attributes": event.get("attributes"),
                            "otel.log.body": event.get("body"),
                        },
                        source=event,
                    )
                )
        self._pending.clear()
        return out

    def _span(
        self, raw: dict[str, Any], resource: dict[str, Any], scope: dict[str, Any], line: int
    ) -> dict[str, Any]:
        span_id = otel_id(raw.get("spanId"))
        note = None
        if span_id is None or span_id in self._seen:
            self._generated += 1
            note = "span had no spanId" if span_id is None else f"spanId {span_id} repeated"
            span_id = f"otlp-{line}-{self._generated}"
        events = [_event(e) for e in raw.get("events") or () if isinstance(e, dict)]
        events += self._pending.pop(span_id, [])
        rec = otel_span_record(span_id, raw, resource, scope, events)
        if note:
            rec["attributes"]["trace_tui.import.note"] = f"{note}; id generated on import"
        self._seen[span_id] = rec["status"]
        return rec

    def _log_event(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        span_id = event.get("span_id")
        if span_id is None:
            self._generated += 1
            return [
                span(
                    f"otlp-log-{self._generated}",
                    "other",
                    str(event.get("name") or "log"),
                    start=event.get("time"),
                    attributes={
                        "otel.log.attributes": event.get("attributes"),
                        "otel.log.body": event.get("body"),
                    },
                    source=event,
                )
            ]
        if span_id not in self._seen:
            self._pending.setdefault(span_id, []).append(event)
            return []
        attrs = native_attributes({}, "llm", [event])
        content = {k: v for k, v in attrs.items() if k in _CONTENT_KEYS}
        if not content:
            return []
        return [span_end(span_id, status=self._seen[span_id], attributes=content)]


def otel_span_record(
    span_id: str,
    raw: dict[str, Any],
    resource: dict[str, Any],
    scope: dict[str, Any],
    events: list[dict[str, Any]],
) -> dict[str, Any]:
    """One native ``span`` record for an OTLP span (already given its final id)."""
    attrs = attributes_of(raw.get("attributes"))
    name = str(raw.get("name") or "span")
    kind = span_kind(attrs, name)
    native = native_attributes(attrs, kind, events)
    otel_kind = raw.get("kind")
    native["otel.span.kind"] = (
        _SPAN_KINDS.get(otel_kind, otel_kind) if otel_kind is not None else None
    )
    native["otel.scope.name"] = scope.get("name") or None
    native["service.name"] = resource.get("service.name")
    other_events = [e for e in events if not str(e.get("name") or "").startswith("gen_ai.")]
    if other_events:
        native["otel.events"] = other_events
    status, error = _status(raw.get("status"), events)
    rec = span(
        span_id,
        kind,
        name,
        parent_id=otel_id(raw.get("parentSpanId")),
        start=nanos(raw.get("startTimeUnixNano")),
        end=nanos(raw.get("endTimeUnixNano")),
        status=status,
        error=error,
        attributes=native,
        source=raw,
    )
    trace_id = otel_id(raw.get("traceId"))
    if trace_id:
        rec["trace_id"] = trace_id
    return rec


def _status(status: Any, events: list[dict[str, Any]]) -> tuple[str, str | None]:
    status = status if isinstance(status, dict) else {}
    code = status.get("code", 0)
    if code in (2, "STATUS_CODE_ERROR", "ERROR"):
        message = status.get("message")
        for event in events:
            if event.get("name") == "exception" and not message:
                attrs = event.get("attributes") or {}
                message = ": ".join(
                    str(attrs[k]) for k in ("exception.type", "exception.message") if attrs.get(k)
                )
        return "error", str(message or "error")
    if code in (1, "STATUS_CODE_OK", "OK"):
        return "ok", None
    return "unset", None


def _event(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": raw.get("name"),
        "time": nanos(raw.get("timeUnixNano")),
        "attributes": attributes_of(raw.get("attributes")),
    }


def _iter_spans(
    request: dict[str, Any],
) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    for rs in request.get("resourceSpans") or ():
        if not isinstance(rs, dict):
            continue
        resource = attributes_of((rs.get("resource") or {}).get("attributes"))
        for ss in rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or ():
            if not isinstance(ss, dict):
                continue
            scope = ss.get("scope") or ss.get("instrumentationLibrary") or {}
            for raw in ss.get("spans") or ():
                if isinstance(raw, dict):
                    yield resource, scope, raw


def _iter_log_events(request: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for rl in request.get("resourceLogs") or ():
        for sl in (rl or {}).get("scopeLogs") or ():
            for raw in (sl or {}).get("logRecords") or ():
                if not isinstance(raw, dict):
                    continue
                attrs = attributes_of(raw.get("attributes"))
                yield {
                    "name": raw.get("eventName") or attrs.get("event.name"),
                    "time": nanos(raw.get("timeUnixNano") or raw.get("observedTimeUnixNano")),
                    "span_id": otel_id(raw.get("spanId")),
                    "attributes": attrs,
                    "body": any_value(raw.get("body")),
                    "raw": raw,
                }


def _parents_first(
    spans: list[tuple[Any, Any, dict[str, Any]]],
) -> list[tuple[Any, Any, dict[str, Any]]]:
    """Spans of one batch ordered by start time, each parent before its children."""
    spans = sorted(spans, key=lambda s: opt_int(s[2].get("startTimeUnixNano")) or 0)
    by_id = {otel_id(s[2].get("spanId")): s for s in spans if otel_id(s[2].get("spanId"))}
    done: set[int] = set()
    out: list[tuple[Any, Any, dict[str, Any]]] = []

    def visit(item: tuple[Any, Any, dict[str, Any]], depth: int = 0) -> None:
        if id(item) in done or depth > 1000:
            return
        parent = by_id.get(otel_id(item[2].get("parentSpanId")))
        if parent is not None and parent is not item:
            visit(parent, depth + 1)
        if id(item) not in done:
            done.add(id(item))
            out.append(item)

    for item in spans:
        visit(item)
    return out


# --------------------------------------------------------------------------- document
def read_otlp_document(path: Path) -> Iterator[dict[str, Any]]:
    """One OTLP request per file (pretty-printed), or several concatenated."""
    mapper = OtlpMapper()
    values, note = load_document(path, many=True)
    for index, value in enumerate(values, 1):
        if isinstance(value, dict):
            yield from mapper.feed(value, offset=0, line=index)
        else:
            yield problem(f"value {index} of the document is not an OTLP request object; skipped")
    yield from mapper.finish()
    if note:
        yield problem(note)


def _is_request(rec: Any) -> bool:
    return isinstance(rec, dict) and any(k in rec for k in _SIGNALS)


def detect_otlp_jsonl(head: Head) -> bool:
    """JSON lines whose first record is an OTLP request."""
    return _is_request(head.first_record)


def detect_otlp_json(head: Head) -> bool:
    """A (pretty-printed) JSON document whose top-level object has ``resourceSpans``."""
    if head.first_line_is_json:
        return False
    shape = doc_shape(head.data)
    return shape.container == "object" and any(shape.has(k) for k in _SIGNALS)


OTLP_JSONL = TraceFormat(
    name="otlp-jsonl",
    title="OpenTelemetry OTLP/JSON lines (Collector file exporter); GenAI + OpenInference",
    detect=detect_otlp_jsonl,
    mapper=OtlpMapper,
)

OTLP_JSON = TraceFormat(
    name="otlp-json",
    title="OpenTelemetry OTLP/JSON request file (one ExportTraceServiceRequest)",
    detect=detect_otlp_json,
    read_document=read_otlp_document,
)
