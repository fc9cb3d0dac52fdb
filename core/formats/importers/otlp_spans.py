"""One OTLP span as a native record: the mapping the OTLP mapper and its light decoder share.

:func:`otel_span_record` is the one definition of what a span becomes; :func:`iter_spans` and
:func:`parents_first` say which spans a request holds and in which order they are emitted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from trace_tui.core.formats.shared.common import opt_int, otel_id, span
from trace_tui.core.formats.shared.otel_attrs import kept_as_is, native_attributes, span_kind

_SPAN_KINDS = {
    0: "UNSPECIFIED",
    1: "INTERNAL",
    2: "SERVER",
    3: "CLIENT",
    4: "PRODUCER",
    5: "CONSUMER",
}

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
    status, error = span_status(raw.get("status"), events)
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


#: Native attributes :func:`otel_span_record` sets itself, over any span attribute of that name.
_OWN_KEYS = frozenset({"otel.span.kind", "otel.scope.name", "service.name", "otel.events"})


def shows(raw: dict[str, Any], resource: dict[str, Any], scope: dict[str, Any],
          holds: Callable[[str], bool]) -> bool:
    """Does the native record :func:`otel_span_record` makes of this span certainly hold a
    string that ``holds`` (search's "holds the word") among the strings it keeps unchanged
    (the service and scope names, a span attribute's key or string value under a key it keeps:
    see :func:`~trace_tui.core.formats.shared.otel_attrs.kept_as_is`)? ``False``: maybe not
    (map it to know). For search, which can then skip mapping the span."""
    for text in (resource.get("service.name"), scope.get("name")):
        if type(text) is str and holds(text):
            return True
    items = raw.get("attributes")
    if type(items) is not list:
        return False
    keys: list[str] | None = None
    for item in items:
        if type(item) is not dict:
            continue
        key, value = item.get("key"), item.get("value")
        if type(key) is not str or type(value) is not dict:
            continue
        text = value.get("stringValue")
        if type(text) is not str or key in _OWN_KEYS or not kept_as_is(key):
            continue
        if holds(text) or holds(key):
            if keys is None:  # a key given twice keeps its last value only
                keys = [str(i["key"]) for i in items if isinstance(i, dict) and "key" in i]
            if keys.count(key) == 1:
                return True
    return False


def span_status(status: Any, events: list[dict[str, Any]]) -> tuple[str, str | None]:
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


def span_event(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": raw.get("name"),
        "time": nanos(raw.get("timeUnixNano")),
        "attributes": attributes_of(raw.get("attributes")),
    }


def iter_spans(
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


def parents_first(
    spans: list[tuple[Any, Any, dict[str, Any]]],
) -> list[tuple[Any, Any, dict[str, Any]]]:
    """Spans of one batch ordered by start time, each parent before its children."""
    order = parents_first_order(
        [opt_int(s[2].get("startTimeUnixNano")) or 0 for s in spans],
        [otel_id(s[2].get("spanId")) for s in spans],
        [otel_id(s[2].get("parentSpanId")) for s in spans],
    )
    return [spans[k] for k in order]


def parents_first_order(
    starts: list[int], span_ids: list[str | None], parent_ids: list[str | None]
) -> list[int]:
    """The positions of a batch's spans ordered by start time, each parent before its
    children (the one rule for the mapper and the light decoder)."""
    spans = sorted(range(len(starts)), key=starts.__getitem__)
    by_id = {span_ids[k]: k for k in spans if span_ids[k]}
    done: set[int] = set()
    out: list[int] = []

    def visit(item: int, depth: int = 0) -> None:
        if item in done or depth > 1000:
            return
        parent = by_id.get(parent_ids[item])
        if parent is not None and parent != item:
            visit(parent, depth + 1)
        if item not in done:
            done.add(item)
            out.append(item)

    for item in spans:
        visit(item)
    return out
