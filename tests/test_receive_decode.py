"""The receiver's protobuf → OTLP/JSON mapping equals the official generic one, field for field.

:mod:`trace_tui.core.receive.otlp_json` walks the trace messages directly for speed; this test
builds requests that use every field (events, links, nested arrays and key-value lists, bytes,
doubles, flags, trace state, status) and random ones with hypothesis, and compares the fast
result with ``MessageToDict`` plus the OTLP id rule, which is what the fallback path uses.
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from trace_tui.core.receive import otlp_json
from trace_tui.core.receive.decode import decode_export


def test_the_fast_path_is_in_use_with_the_installed_protocol_package() -> None:
    assert otlp_json.FAST_PATH


def _value(target: AnyValue, item: object) -> None:
    if isinstance(item, bool):
        target.bool_value = item
    elif isinstance(item, int):
        target.int_value = item
    elif isinstance(item, float):
        target.double_value = item
    elif isinstance(item, bytes):
        target.bytes_value = item
    elif isinstance(item, str):
        target.string_value = item
    elif isinstance(item, list):
        target.array_value.SetInParent()
        for element in item:
            _value(target.array_value.values.add(), element)
    elif isinstance(item, dict):
        target.kvlist_value.SetInParent()
        for key, element in item.items():
            entry = target.kvlist_value.values.add(key=key)
            _value(entry.value, element)


def _attributes(target: object, items: dict[str, object]) -> None:
    for key, item in items.items():
        entry = KeyValue(key=key)
        _value(entry.value, item)
        target.append(entry)  # type: ignore[attr-defined]


def full_request() -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add(schema_url="https://opentelemetry.io/schemas/1.26.0")
    _attributes(resource.resource.attributes, {"service.name": "agent", "pid": 42})
    resource.resource.dropped_attributes_count = 1
    scope = resource.scope_spans.add(schema_url="s")
    scope.scope.name, scope.scope.version = "openinference", "1.2"
    _attributes(scope.scope.attributes, {"x": True})
    span = scope.spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8,
                           parent_span_id=b"\x03" * 8, name="chat gpt-4o", kind=3,
                           trace_state="k=v", flags=257, start_time_unix_nano=2**63 - 1,
                           end_time_unix_nano=1, dropped_attributes_count=2,
                           dropped_events_count=3, dropped_links_count=4)
    _attributes(span.attributes, {
        "s": "é\x1b[31m", "i": -(2**63), "d": 0.1, "nan": math.nan, "inf": -math.inf,
        "b": False, "bytes": b"\x00\xff", "arr": [1, "two", [3.5], {"k": None}],
        "kv": {"a": {"b": [True]}}, "empty": [], "emptykv": {}})
    span.attributes.add(key="unset")
    event = span.events.add(time_unix_nano=5, name="gen_ai.choice", dropped_attributes_count=1)
    _attributes(event.attributes, {"index": 0})
    link = span.links.add(trace_id=b"\x04" * 16, span_id=b"\x05" * 8, trace_state="a=b",
                          flags=1, dropped_attributes_count=1)
    _attributes(link.attributes, {"why": "retry"})
    span.status.code, span.status.message = 2, "tool failed"
    scope.spans.add(trace_id=b"\x01" * 16, span_id=b"\x06" * 8).status.SetInParent()
    request.resource_spans.add().scope_spans.add().scope.SetInParent()
    return request


def test_every_field_maps_as_message_to_dict_maps_it() -> None:
    request = full_request()
    assert otlp_json.request_to_json(request) == otlp_json.generic_request_to_json(request)


_leaf = st.one_of(st.text(max_size=8), st.integers(-(2**63), 2**63 - 1), st.booleans(),
                  st.floats(allow_nan=False), st.binary(max_size=4))
_values = st.recursive(_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=8)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _values, max_size=5), st.text(max_size=10),
       st.integers(0, 5), st.integers(0, 2**64 - 1))
def test_random_spans_map_as_message_to_dict_maps_them(attributes: dict[str, object], name: str,
                                                       kind: int, start: int) -> None:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add(
        trace_id=b"\x09" * 16, span_id=b"\x08" * 8, name=name, kind=kind,
        start_time_unix_nano=start)
    _attributes(span.attributes, attributes)
    assert otlp_json.request_to_json(request) == otlp_json.generic_request_to_json(request)


def test_decoded_protobuf_and_json_bodies_agree() -> None:
    import orjson

    request = full_request()
    from_protobuf = decode_export(request.SerializeToString(), "application/x-protobuf", None,
                                  1 << 20)
    as_json = orjson.dumps(otlp_json.generic_request_to_json(request))
    from_json = decode_export(as_json, "application/json; charset=utf-8", None, 1 << 20)
    assert from_protobuf.resource_spans == from_json.resource_spans
    assert (from_protobuf.accepted, from_protobuf.rejected) == (2, 0)
