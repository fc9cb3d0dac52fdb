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
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from trace_tui.core.formats.base import Head, TraceFormat
from trace_tui.core.formats.importers.otlp_light import OtlpLight
from trace_tui.core.formats.importers.otlp_spans import (
    any_value,
    attributes_of,
    iter_spans,
    nanos,
    otel_span_record,
    parents_first,
    span_event,
)
from trace_tui.core.formats.shared.common import (
    otel_id,
    problem,
    run_record,
    span,
    span_end,
)
from trace_tui.core.formats.shared.documents import load_document
from trace_tui.core.formats.shared.otel_attrs import native_attributes
from trace_tui.core.formats.shared.sniff import doc_shape

log = logging.getLogger(__name__)

_SIGNALS = ("resourceSpans", "resourceLogs", "resourceMetrics")
_CONTENT_KEYS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.response.finish_reasons",
    "gen_ai.tool.definitions",
)


# --------------------------------------------------------------------------- mapping
class OtlpMapper:
    """Maps OTLP requests (one per line) to native records, joining log content to spans."""

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}  # span id -> status, for later content updates
        #: The index's answer for spans a light decoder indexed (their status, or ``None``).
        self._light_status: Callable[[str], str | None] | None = None
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._generated = 0
        self._warned_metrics = False
        self._run_emitted = False

    def feed(self, record: dict[str, Any], *, offset: int, line: int) -> Iterable[dict[str, Any]]:
        """Native records for one request object."""
        out: list[dict[str, Any]] = []
        spans = list(iter_spans(record))
        for resource, scope, raw in parents_first(spans):
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

    # ----------------------------------------------------------------- for the light decoder
    def takes_light_spans(self) -> bool:
        """True once the run record is out: later spans map to one record each."""
        return self._run_emitted

    def claims_any(self, span_ids: list[str]) -> bool:
        """True when mapping a span with one of these ids would need this mapper's state (the
        id was mapped here, so it would be renamed; or log content waits for it). Ids of spans
        indexed from light lines are the index's to refuse (it takes no id twice)."""
        return not (self._seen.keys().isdisjoint(span_ids)
                    and self._pending.keys().isdisjoint(span_ids))  # fmt: skip

    def use_index(self, light_status: Callable[[str], str | None]) -> None:
        """Spans indexed from light lines are looked up in the index (``light_status(span_id)``:
        the status of such a step, ``None`` if there is none) instead of being kept here."""
        self._light_status = light_status

    def note_light_spans(self, span_ids: list[str], statuses: list[str]) -> None:
        """Spans indexed without mapping: remember them as :meth:`_span` would (unless the
        index answers for them: :meth:`use_index`)."""
        if self._light_status is None:
            self._seen.update(zip(span_ids, statuses, strict=True))

    def _status_of(self, span_id: str) -> str | None:
        """The status of the span with this id, if it was seen (mapped or light)."""
        status = self._seen.get(span_id)
        if status is None and self._light_status is not None:
            status = self._light_status(span_id)
        return status

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
        if span_id is None or self._status_of(span_id) is not None:
            self._generated += 1
            note = "span had no spanId" if span_id is None else f"spanId {span_id} repeated"
            span_id = f"otlp-{line}-{self._generated}"
        events = [span_event(e) for e in raw.get("events") or () if isinstance(e, dict)]
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
        status = self._status_of(span_id)
        if status is None:
            self._pending.setdefault(span_id, []).append(event)
            return []
        attrs = native_attributes({}, "llm", [event])
        content = {k: v for k, v in attrs.items() if k in _CONTENT_KEYS}
        if not content:
            return []
        return [span_end(span_id, status=status, attributes=content)]


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
    light=OtlpLight,
)

OTLP_JSON = TraceFormat(
    name="otlp-json",
    title="OpenTelemetry OTLP/JSON request file (one ExportTraceServiceRequest)",
    detect=detect_otlp_json,
    read_document=read_otlp_document,
)
