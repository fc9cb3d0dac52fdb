"""Decode an OTLP/HTTP trace export body into the OTLP/JSON shape of the Collector file exporter.

The body is protobuf (``application/x-protobuf``, decoded with the official
``opentelemetry-proto`` package) or JSON (``application/json``, the OTLP/JSON mapping: hex
ids, integer enums, 64-bit integers as strings), optionally gzip-compressed. Either way the
result is a list of ``resourceSpans`` objects ready to be written as one JSON line.

Spans without a valid trace id or span id cannot be placed in a run; they are dropped and
counted, and the caller reports them as a partial success, as the OTLP specification says.
Everything in a body is untrusted: sizes are bounded before and after decompression, and a
malformed body raises :class:`MalformedBody` with a one-line reason.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class ExportRejected(Exception):
    """The whole request is refused; ``status`` is the HTTP status to answer with."""

    status = 400


class MalformedBody(ExportRejected):
    """The body is not a valid export request (answered 400)."""

    status = 400


class BodyTooLarge(ExportRejected):
    """The body, or what it decompresses to, is over the size limit (answered 413)."""

    status = 413


class UnsupportedMediaType(ExportRejected):
    """Neither protobuf nor JSON, or an unknown content encoding (answered 415)."""

    status = 415


@dataclass(slots=True)
class ExportBatch:
    """What one export request carried, after validation."""

    resource_spans: list[dict[str, Any]]
    accepted: int
    rejected: int
    reason: str = ""


def media_type(content_type: str | None) -> str:
    """The bare media type of a ``Content-Type`` header (``application/json; charset=utf-8``)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def decompress(body: bytes, encoding: str | None, max_bytes: int) -> bytes:
    """``body`` without its content encoding, never more than ``max_bytes`` once inflated."""
    encoding = (encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "deflate"):
        raise UnsupportedMediaType(f"content encoding {encoding!r} is not supported (gzip is)")
    inflater = zlib.decompressobj(wbits=47 if encoding == "gzip" else 15)
    try:
        data = inflater.decompress(body, max_bytes + 1)
    except zlib.error as exc:
        raise MalformedBody(f"the {encoding} body cannot be decompressed: {exc}") from exc
    if len(data) > max_bytes or inflater.unconsumed_tail:
        raise BodyTooLarge(f"the body inflates to more than {max_bytes} bytes")
    if not inflater.eof:
        raise MalformedBody(f"the {encoding} body is cut short")
    return data


def decode_export(body: bytes, content_type: str | None, encoding: str | None,
                  max_bytes: int) -> ExportBatch:
    """Validate and decode one ``ExportTraceServiceRequest`` body (see module doc)."""
    kind = media_type(content_type)
    if kind not in (PROTOBUF, JSON):
        raise UnsupportedMediaType(
            f"content type {kind or '(none)'!r} is not supported: send {PROTOBUF} or {JSON}")
    data = decompress(body, encoding, max_bytes)
    request = _from_protobuf(data) if kind == PROTOBUF else _from_json(data)
    return _validated(request)


# --------------------------------------------------------------------------- protobuf
def _from_protobuf(data: bytes) -> dict[str, Any]:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from trace_tui.core.receive.otlp_json import request_to_json

    try:
        message = ExportTraceServiceRequest.FromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise MalformedBody(f"the protobuf body is not an ExportTraceServiceRequest: {exc}"
                            ) from exc
    return request_to_json(message)


# --------------------------------------------------------------------------- JSON
def _from_json(data: bytes) -> dict[str, Any]:
    try:
        request = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise MalformedBody(f"the JSON body does not parse: {exc}") from exc
    if not isinstance(request, dict):
        raise MalformedBody("the JSON body is not an object with resourceSpans")
    return request


# --------------------------------------------------------------------------- validation
def _validated(request: dict[str, Any]) -> ExportBatch:
    """Keep what can be placed in a run; count and explain what cannot."""
    resources = request.get("resourceSpans", [])
    if not isinstance(resources, list):
        raise MalformedBody("resourceSpans is not a list")
    kept: list[dict[str, Any]] = []
    accepted = rejected = 0
    reason = ""
    for resource in resources:
        if not isinstance(resource, dict):
            raise MalformedBody("a resourceSpans entry is not an object")
        scopes_out = []
        for scope in resource.get("scopeSpans") or []:
            if not isinstance(scope, dict) or not isinstance(scope.get("spans", []), list):
                raise MalformedBody("a scopeSpans entry is not an object with a spans list")
            spans = []
            for span in scope.get("spans") or []:
                problem = _span_problem(span)
                if problem:
                    rejected += 1
                    reason = reason or problem
                    continue
                spans.append(span)
            if spans:
                scopes_out.append({**scope, "spans": spans})
                accepted += len(spans)
        if scopes_out:
            kept.append({**resource, "scopeSpans": scopes_out})
    return ExportBatch(kept, accepted, rejected, reason)


def _span_problem(span: Any) -> str:
    """Why ``span`` cannot be kept (normalising base64 ids to hex on the way), or ``""``."""
    if not isinstance(span, dict):
        return "a span is not an object"
    for key, size, required in (("traceId", 16, True), ("spanId", 8, True),
                                ("parentSpanId", 8, False)):
        value = span.get(key)
        if value in (None, "") and not required:
            continue
        hex_id = _hex_id(value, size)
        if hex_id is None:
            return f"a span has an invalid {key} (want {size * 2} hex digits, not all zero)"
        span[key] = hex_id
    return ""


_HEX_ID = {16: re.compile("[0-9a-fA-F]{32}").fullmatch, 8: re.compile("[0-9a-fA-F]{16}").fullmatch}


def _hex_id(value: Any, size: int) -> str | None:
    """``value`` as a lowercase hex id of ``size`` bytes, accepting base64 too; else None.

    All-zero ids are invalid (the OTLP rule)."""
    if not isinstance(value, str):
        return None
    if _HEX_ID[size](value):
        return value.lower() if value.strip("0") else None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) != size or not any(raw):
        return None
    return raw.hex()


def service_name(resource: dict[str, Any]) -> str:
    """The ``service.name`` resource attribute, or ``unknown_service``."""
    attributes = (resource.get("resource") or {}).get("attributes") or []
    for item in attributes if isinstance(attributes, list) else []:
        if isinstance(item, dict) and item.get("key") == "service.name":
            value = item.get("value") or {}
            if isinstance(value, dict) and isinstance(value.get("stringValue"), str):
                return value["stringValue"] or "unknown_service"
    return "unknown_service"
