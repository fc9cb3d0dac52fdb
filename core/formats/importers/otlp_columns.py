"""Column passes of the OTLP light decoder over a piece's spans (C-level ``map`` passes, no
Python per span on the common shapes): unwrapping one-span requests, names, states, ids,
times, and joining pieces."""

from __future__ import annotations

from collections import deque
from itertools import chain, compress, repeat
from operator import attrgetter, is_, itemgetter, methodcaller, truediv
from typing import Any

from msgspec import UNSET

from trace_tui.core.formats.base import LightSteps
from trace_tui.core.formats.importers.otlp_spans import nanos, parents_first_order, span_status
from trace_tui.core.formats.importers.otlp_wire import Request, Span
from trace_tui.core.formats.shared.common import epoch_seconds, opt_int, otel_id

_GET_LOGS = attrgetter("resourceLogs")
_GET_METRICS = attrgetter("resourceMetrics")
_GET_RESOURCE_SPANS = attrgetter("resourceSpans")
_GET_SCOPE_SPANS = attrgetter("scopeSpans")
_GET_SPANS = attrgetter("spans")
_FIRST = itemgetter(0)
_GET_CODE = methodcaller("get", "code", 0)
#: :func:`span_status`'s state by status code (any other hashable code: ``unset``).
_STATE = {2: "error", "STATUS_CODE_ERROR": "error", "ERROR": "error",
          1: "ok", "STATUS_CODE_OK": "ok", "OK": "ok"}  # fmt: skip


def joined(parts: list[LightSteps]) -> LightSteps:
    """One :class:`LightSteps` of consecutive pieces."""
    if len(parts) == 1:
        return parts[0]

    def joined(name: str) -> list[Any]:
        return list(chain.from_iterable(getattr(p, name) for p in parts))

    columns: dict[str, Any] = {name: joined(name) for name in _LIST_FIELDS}
    tokens = tuple(list(chain.from_iterable(p.tokens[k] for p in parts)) for k in range(4))
    return LightSteps(n_lines=sum(p.n_lines for p in parts), tokens=tokens, **columns)  # type: ignore[arg-type]


_LIST_FIELDS = ("offsets", "lengths", "lines", "span_ids", "parent_ids", "kinds", "names",
                "statuses", "errors", "start", "end")  # fmt: skip


def one_span_each(requests: list[Request]) -> list[Span] | None:
    """The span of each request when every request holds exactly one (one resource, one
    scope, one span) and nothing else; ``None`` otherwise (:func:`spans_of` one by one)."""
    if not all(map(is_, map(_GET_LOGS, requests), repeat(UNSET))) or not all(
        map(is_, map(_GET_METRICS, requests), repeat(UNSET))
    ):
        return None
    resources = list(map(_GET_RESOURCE_SPANS, requests))
    if not _all_one(resources):
        return None
    scopes = list(map(_GET_SCOPE_SPANS, map(_FIRST, resources)))
    if not _all_one(scopes):
        return None
    spans = list(map(_GET_SPANS, map(_FIRST, scopes)))
    if not _all_one(spans):
        return None
    return list(map(_FIRST, spans))


def _all_one(lists: list[Any]) -> bool:
    """Every item is a list of one item (``None`` and ``UNSET`` are not)."""
    try:
        return set(map(len, lists)) == {1}
    except TypeError:
        return False


def span_names(names: list[Any]) -> list[str]:
    """Each span's name as the mapping gives it (``str(name or "span")``)."""
    if set(map(type, names)) == {str} and "" not in names:
        return names
    return [str(name or "span") for name in names]


def span_states(statuses: list[dict[str, Any] | None]) -> list[str]:
    """Each span's status (:func:`span_status` without events: ``error``, ``ok``, ``unset``)."""
    states = ["unset"] * len(statuses)
    if not any(statuses):
        return states
    where = list(compress(range(len(statuses)), statuses))
    present = list(compress(statuses, statuses))
    try:
        found = list(map(_STATE.get, map(_GET_CODE, present), repeat("unset")))
    except TypeError:  # an unhashable code: one by one
        found = [span_status(status, [])[0] for status in present]
    scatter(states, where, found)
    return states


def scatter(column: Any, where: Any, values: Any) -> None:
    """``column[i] = v`` for each pair, in C (``deque(..., maxlen=0)`` drains the map)."""
    deque(map(column.__setitem__, where, values), maxlen=0)


def in_mapper_order(spans: list[Span]) -> list[Span]:
    """A line's spans in the order the mapper emits them (:func:`parents_first`)."""
    order = parents_first_order(
        [opt_int(s.startTimeUnixNano) or 0 for s in spans],
        [otel_id(s.spanId) for s in spans],
        [otel_id(s.parentSpanId) for s in spans],
    )
    return [spans[k] for k in order]


def span_ids_of(values: list[Any]) -> list[str | None]:
    """:func:`otel_id` of each value; lower-casing in C when all are plain hex-like strings."""
    try:
        lowered = list(map(str.lower, values))
    except TypeError:  # a None or a non-string: one by one
        return list(map(otel_id, values))
    if "" in lowered or any(map(methodcaller("endswith", "="), lowered)):
        return list(map(otel_id, values))
    return lowered  # type: ignore[return-value]


def span_times(values: list[Any]) -> list[float | None]:
    """:func:`_seconds` of each value; in C-level passes for plain decimal nanos."""
    kinds = set(map(type, values))
    if kinds == {str} or kinds == {int}:
        try:
            numbers = list(map(float, values))  # as opt_int reads a string
        except (ValueError, OverflowError):
            return list(map(_seconds, values))
        total = sum(numbers)
        if numbers and total == total and min(numbers) >= _EXACT and max(numbers) < _NANOS_LIMIT:
            # whole numbers (no fraction for int() to cut), seconds that stay seconds
            return list(map(truediv, numbers, repeat(1e9)))
    return list(map(_seconds, values))


#: From 2**53 up every float is a whole number: ``int(float(s))`` is ``float(s)`` (1970+104 d).
_EXACT = float(2**53)
#: Nanoseconds whose seconds :func:`epoch_seconds` would scale again (>= 1e11 s).
_NANOS_LIMIT = 1e20


def spans_of(request: Request) -> list[Span]:
    """The request's spans, as :func:`iter_spans` walks them."""
    out: list[Span] = []
    for rs in request.resourceSpans or ():
        for ss in rs.scopeSpans or rs.instrumentationLibrarySpans or ():
            out.extend(ss.spans or ())
    return out


def _seconds(value: Any) -> float | None:
    """The step's time as the mapped record and the builder give it (``nanos`` → seconds)."""
    seconds = nanos(value)
    return None if seconds is None else epoch_seconds(seconds)
