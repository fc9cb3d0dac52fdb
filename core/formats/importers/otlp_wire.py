"""The msgspec shapes an OTLP/JSON request line is decoded into by the light decoder
(:mod:`~trace_tui.core.formats.importers.otlp_light`): ids, name, times, status and each
attribute's key, its value left as ``Raw`` (decoded only for the few keys that decide a span's
kind and token counts)."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import UNSET, Raw, Struct, UnsetType


class _Value(Struct, gc=False):
    stringValue: str | UnsetType = UNSET
    boolValue: bool | UnsetType = UNSET
    doubleValue: float | UnsetType = UNSET
    bytesValue: str | UnsetType = UNSET
    intValue: int | str | UnsetType = UNSET
    arrayValue: Raw | UnsetType = UNSET
    kvlistValue: Raw | UnsetType = UNSET


class KeyValue(Struct, gc=False):
    key: str
    value: Raw  # decoded only for the few keys that decide kind and tokens


_DECODE_VALUE = msgspec.json.Decoder(_Value | None).decode


class _IntValue(Struct, gc=False, forbid_unknown_fields=True):
    """An attribute value that is an ``intValue`` and nothing else (token counts)."""

    intValue: int | str


DECODE_INTS = msgspec.json.Decoder(list[_IntValue]).decode


class Span(Struct, gc=False):
    spanId: Any = None
    parentSpanId: Any = None
    name: Any = None
    startTimeUnixNano: Any = None
    endTimeUnixNano: Any = None
    attributes: list[KeyValue] | None = None
    status: dict[str, Any] | None = None
    events: list[Raw] | None = None
    links: list[Raw] | None = None


class _ScopeSpans(Struct, gc=False):
    spans: list[Span] | None = None


class _ResourceSpans(Struct, gc=False):
    scopeSpans: list[_ScopeSpans] | None = None
    instrumentationLibrarySpans: list[_ScopeSpans] | None = None


class Request(Struct, gc=False):
    resourceSpans: list[_ResourceSpans] | None | UnsetType = UNSET
    resourceLogs: Raw | UnsetType = UNSET
    resourceMetrics: Raw | UnsetType = UNSET


DECODE_LINES = msgspec.json.Decoder(Request).decode_lines
DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeDecodeError,
           OverflowError)  # fmt: skip
WHITESPACE = b" \t\r\n"


def attribute_value(raw: Raw | bytes) -> Any:
    """:func:`~trace_tui.core.formats.importers.otlp_spans.any_value` of an attribute value,
    for the scalar kinds (lists and maps are content here: ``Ellipsis`` marks them; a value
    of another shape raises msgspec's error, which declines the chunk)."""
    value = _DECODE_VALUE(raw)
    if value is None:
        return None
    if value.stringValue is not UNSET:
        return value.stringValue
    if value.boolValue is not UNSET:
        return value.boolValue
    if value.doubleValue is not UNSET:
        return value.doubleValue
    if value.bytesValue is not UNSET:
        return value.bytesValue
    if value.intValue is not UNSET:
        number = value.intValue
        try:
            return int(number)
        except (TypeError, ValueError):
            return number
    if value.arrayValue is not UNSET or value.kvlistValue is not UNSET:
        return ...
    return None
