"""Protobuf trace export requests as OTLP/JSON objects, fast, as the Collector file exporter writes.

``google.protobuf.json_format.MessageToDict`` does this generically but spends about 0.3 ms
per span in Python, which caps a receiver at a few thousand spans a second. The trace messages
are few and stable, so :func:`request_to_json` walks them directly (field access on the upb
messages is C), producing exactly what ``MessageToDict`` plus the OTLP rules produce: lower
camel-case names, default values left out, enums as integers, 64-bit integers as strings,
bytes as base64, and trace and span ids as hex (the OTLP/JSON exception).

If the installed ``opentelemetry-proto`` has fields this module does not know (a newer
protocol version), :func:`request_to_json` falls back to ``MessageToDict`` for the whole
request, so nothing is ever dropped; ``tests/test_receive_decode.py`` checks both paths agree.
"""

from __future__ import annotations

import base64
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

_KNOWN_FIELDS = {
    ExportTraceServiceRequest: {"resource_spans"},
    trace_pb2.ResourceSpans: {"resource", "scope_spans", "schema_url"},
    trace_pb2.ScopeSpans: {"scope", "spans", "schema_url"},
    trace_pb2.Span: {"trace_id", "span_id", "trace_state", "parent_span_id", "flags", "name",
                     "kind", "start_time_unix_nano", "end_time_unix_nano", "attributes",
                     "dropped_attributes_count", "events", "dropped_events_count", "links",
                     "dropped_links_count", "status"},
    trace_pb2.Span.Event: {"time_unix_nano", "name", "attributes", "dropped_attributes_count"},
    trace_pb2.Span.Link: {"trace_id", "span_id", "trace_state", "attributes",
                          "dropped_attributes_count", "flags"},
    trace_pb2.Status: {"message", "code"},
    resource_pb2.Resource: {"attributes", "dropped_attributes_count", "entity_refs"},
    common_pb2.InstrumentationScope: {"name", "version", "attributes",
                                      "dropped_attributes_count"},
    common_pb2.KeyValue: {"key", "value", "key_strindex"},
    common_pb2.AnyValue: {"string_value", "bool_value", "int_value", "double_value",
                          "array_value", "kvlist_value", "bytes_value", "string_value_strindex"},
    common_pb2.ArrayValue: {"values"},
    common_pb2.KeyValueList: {"values"},
}


def _schema_is_known() -> bool:
    return all({f.name for f in message.DESCRIPTOR.fields} <= known  # type: ignore[attr-defined]
               for message, known in _KNOWN_FIELDS.items())


FAST_PATH = _schema_is_known()


def request_to_json(request: ExportTraceServiceRequest) -> dict[str, Any]:
    """The OTLP/JSON object of ``request`` (see module doc)."""
    if not FAST_PATH:
        return generic_request_to_json(request)
    return {"resourceSpans": [_resource_spans(r) for r in request.resource_spans]}


def generic_request_to_json(request: ExportTraceServiceRequest) -> dict[str, Any]:
    """The same through ``MessageToDict`` (slow, complete): the fallback and the reference."""
    from google.protobuf.json_format import MessageToDict

    result = MessageToDict(request, use_integers_for_enums=True)
    for resource in result.get("resourceSpans", ()):
        for scope in resource.get("scopeSpans", ()):
            for span in scope.get("spans", ()):
                _b64_ids_to_hex(span)
                for link in span.get("links", ()):
                    _b64_ids_to_hex(link)
    return result


def _b64_ids_to_hex(item: dict[str, Any]) -> None:
    for key in ("traceId", "spanId", "parentSpanId"):
        value = item.get(key)
        if isinstance(value, str) and value:
            item[key] = base64.b64decode(value).hex()


def _resource_spans(message: trace_pb2.ResourceSpans) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if message.HasField("resource"):
        resource = message.resource
        item: dict[str, Any] = {}
        if resource.attributes:
            item["attributes"] = _attributes(resource.attributes)
        if resource.dropped_attributes_count:
            item["droppedAttributesCount"] = resource.dropped_attributes_count
        if getattr(resource, "entity_refs", None):
            from google.protobuf.json_format import MessageToDict

            item = MessageToDict(resource)  # entity references: rare, newer, done generically
        out["resource"] = item
    if message.scope_spans:
        out["scopeSpans"] = [_scope_spans(s) for s in message.scope_spans]
    if message.schema_url:
        out["schemaUrl"] = message.schema_url
    return out


def _scope_spans(message: trace_pb2.ScopeSpans) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if message.HasField("scope"):
        scope = message.scope
        item: dict[str, Any] = {}
        if scope.name:
            item["name"] = scope.name
        if scope.version:
            item["version"] = scope.version
        if scope.attributes:
            item["attributes"] = _attributes(scope.attributes)
        if scope.dropped_attributes_count:
            item["droppedAttributesCount"] = scope.dropped_attributes_count
        out["scope"] = item
    if message.spans:
        out["spans"] = [_span(s) for s in message.spans]
    if message.schema_url:
        out["schemaUrl"] = message.schema_url
    return out


def _span(span: trace_pb2.Span) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if span.trace_id:
        out["traceId"] = span.trace_id.hex()
    if span.span_id:
        out["spanId"] = span.span_id.hex()
    if span.trace_state:
        out["traceState"] = span.trace_state
    if span.parent_span_id:
        out["parentSpanId"] = span.parent_span_id.hex()
    if span.flags:
        out["flags"] = span.flags
    if span.name:
        out["name"] = span.name
    if span.kind:
        out["kind"] = span.kind
    if span.start_time_unix_nano:
        out["startTimeUnixNano"] = str(span.start_time_unix_nano)
    if span.end_time_unix_nano:
        out["endTimeUnixNano"] = str(span.end_time_unix_nano)
    if span.attributes:
        out["attributes"] = _attributes(span.attributes)
    if span.dropped_attributes_count:
        out["droppedAttributesCount"] = span.dropped_attributes_count
    if span.events:
        out["events"] = [_event(e) for e in span.events]
    if span.dropped_events_count:
        out["droppedEventsCount"] = span.dropped_events_count
    if span.links:
        out["links"] = [_link(link) for link in span.links]
    if span.dropped_links_count:
        out["droppedLinksCount"] = span.dropped_links_count
    if span.HasField("status"):
        status: dict[str, Any] = {}
        if span.status.message:
            status["message"] = span.status.message
        if span.status.code:
            status["code"] = span.status.code
        out["status"] = status
    return out


def _event(event: trace_pb2.Span.Event) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if event.time_unix_nano:
        out["timeUnixNano"] = str(event.time_unix_nano)
    if event.name:
        out["name"] = event.name
    if event.attributes:
        out["attributes"] = _attributes(event.attributes)
    if event.dropped_attributes_count:
        out["droppedAttributesCount"] = event.dropped_attributes_count
    return out


def _link(link: trace_pb2.Span.Link) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if link.trace_id:
        out["traceId"] = link.trace_id.hex()
    if link.span_id:
        out["spanId"] = link.span_id.hex()
    if link.trace_state:
        out["traceState"] = link.trace_state
    if link.attributes:
        out["attributes"] = _attributes(link.attributes)
    if link.dropped_attributes_count:
        out["droppedAttributesCount"] = link.dropped_attributes_count
    if link.flags:
        out["flags"] = link.flags
    return out


def _attributes(items: Any) -> list[dict[str, Any]]:
    out = []
    for item in items:
        entry: dict[str, Any] = {}
        if item.key:
            entry["key"] = item.key
        elif getattr(item, "key_strindex", 0):
            entry["keyStrindex"] = item.key_strindex
        if item.HasField("value"):
            entry["value"] = _any_value(item.value)
        out.append(entry)
    return out


def _any_value(value: common_pb2.AnyValue) -> dict[str, Any]:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return {"stringValue": value.string_value}
    if kind == "int_value":
        return {"intValue": str(value.int_value)}
    if kind == "bool_value":
        return {"boolValue": value.bool_value}
    if kind == "double_value":
        return {"doubleValue": _double(value.double_value)}
    if kind == "array_value":
        array = value.array_value
        return {"arrayValue": {"values": [_any_value(v) for v in array.values]}
                if array.values else {}}
    if kind == "kvlist_value":
        kvlist = value.kvlist_value
        return {"kvlistValue": {"values": _attributes(kvlist.values)} if kvlist.values else {}}
    if kind == "bytes_value":
        return {"bytesValue": base64.b64encode(value.bytes_value).decode("ascii")}
    if kind == "string_value_strindex":
        return {"stringValueStrindex": value.string_value_strindex}
    return {}


def _double(number: float) -> float | str:
    """Non-finite doubles as proto3 JSON writes them (``"NaN"``, ``"Infinity"``)."""
    if number != number:
        return "NaN"
    if number in (float("inf"), float("-inf")):
        return "Infinity" if number > 0 else "-Infinity"
    return number
