"""The light decoder of OTLP/JSON lines: index facts of every span, no native record built.

msgspec decodes a chunk of lines into small structs in C: ids, name, times, status and the
attribute list (each value typed, content strings included but never parsed). The kind comes
from :func:`~trace_tui.core.formats.shared.otel_attrs.span_kind` on the attributes that are not
message content, the token counts from the same rules as the full mapping
(:func:`~trace_tui.core.formats.shared.otel_attrs.native_attributes`), taken directly for the
common GenAI attribute set. When a view shows a span, :meth:`OtlpLight.remap` maps its line
again with :func:`~trace_tui.core.formats.importers.otlp_spans.otel_span_record`.

Declined (mapped in full instead): lines with log records or metrics, spans with events or
links, ids that are missing, repeated or awaited by log content, and any value of an unusual
type. The mapper stays the definition: a test indexes every OTLP sample both ways and compares
every column and every built step.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import compress, repeat
from operator import add, attrgetter, eq, sub
from typing import Any

from msgspec import UNSET

from trace_tui.core.formats.base import LightSteps
from trace_tui.core.formats.importers.otlp_columns import (
    in_mapper_order,
    joined,
    one_span_each,
    scatter,
    span_ids_of,
    span_names,
    span_states,
    span_times,
    spans_of,
)
from trace_tui.core.formats.importers.otlp_plans import KindsTokens, Plan, span_facts
from trace_tui.core.formats.importers.otlp_spans import (
    iter_spans,
    otel_span_record,
    parents_first,
    shows,
    span_event,
    span_status,
)
from trace_tui.core.formats.importers.otlp_wire import (
    DECODE_ERRORS,
    DECODE_LINES,
    WHITESPACE,
    Span,
)
from trace_tui.core.formats.shared.common import otel_id
from trace_tui.core.formats.shared.vocabulary import invented_words

#: Bytes of lines decoded at a time (their structs stay in the CPU cache while read).
PIECE_BYTES = 512 * 1024


class OtlpLight:
    """:class:`~trace_tui.core.formats.base.LightDecoder` of OTLP/JSON lines (see module doc)."""

    def __init__(self) -> None:
        self._plans: dict[tuple[str, ...], Plan | None] = {}

    def decode(self, data: bytes, offset: int, first_line: int, mapper: Any) -> LightSteps | None:
        """Index facts of complete lines ``data`` at ``offset``, or ``None`` to decline.

        Decoded a piece of about :data:`PIECE_BYTES` at a time: the passes over one piece's
        structs find them in the CPU cache (ids repeated across pieces are the index's to
        refuse, as it takes no id twice)."""
        if not mapper.takes_light_spans():
            return None
        if len(data) <= PIECE_BYTES * 3 // 2:
            return self._decode(data, offset, first_line, mapper)
        parts: list[LightSteps] = []
        start, line = 0, first_line
        while start < len(data):
            end = data.find(b"\n", start + PIECE_BYTES) + 1 or len(data)
            if len(data) - end < PIECE_BYTES // 2:
                end = len(data)
            part = self._decode(data[start:end], offset + start, line, mapper)
            if part is None:
                return None
            parts.append(part)
            start, line = end, line + part.n_lines
        return joined(parts)

    def _decode(self, data: bytes, offset: int, first_line: int, mapper: Any) -> LightSteps | None:
        try:
            requests = DECODE_LINES(data)
        except DECODE_ERRORS:
            return None
        starts = [0]
        find = data.find
        at = find(b"\n")
        while at >= 0:
            starts.append(at + 1)
            at = find(b"\n", at + 1)
        n_lines = len(starts) - 1
        if len(requests) != n_lines:
            return None  # a blank line: the mapper reports it
        firsts = bytes(map(data.__getitem__, starts[:-1]))
        if len(firsts.translate(None, WHITESPACE)) != n_lines:
            return None  # a line starting with blanks may hold two values
        spans = one_span_each(requests)
        where: list[int] | None = None  # None: span k is on line k
        if spans is None:
            spans, where = [], []
            for k, request in enumerate(requests):
                if request.resourceLogs is not UNSET or request.resourceMetrics is not UNSET:
                    return None
                found = spans_of(request)
                if len(found) == 1:
                    spans.append(found[0])
                    where.append(k)
                elif found:
                    spans.extend(in_mapper_order(found))
                    where.extend(repeat(k, len(found)))
                elif request.resourceSpans is UNSET:
                    return None  # not a request at all: the mapper says so
        try:
            return self._steps(spans, where, starts, offset, first_line, n_lines, mapper)
        except DECODE_ERRORS:  # an attribute value of an unexpected shape
            return None

    def _steps(
        self,
        spans: list[Span],
        where: list[int] | None,
        starts: list[int],
        offset: int,
        first_line: int,
        n_lines: int,
        mapper: Any,
    ) -> LightSteps | None:
        ids = span_ids_of(list(map(_GET_ID, spans)))
        if None in ids or len(set(ids)) != len(ids) or mapper.claims_any(ids):
            return None  # a missing or repeated id: the mapper renames it
        if any(map(_GET_EVENTS, spans)) or any(map(_GET_LINKS, spans)):
            return None
        names = span_names(list(map(_GET_NAME, spans)))
        statuses = span_states(list(map(_GET_STATUS, spans)))
        facts = self._kinds_and_tokens(spans, names)
        if facts is None:
            return None
        kinds, tokens = facts
        if where is None:  # one span per line
            line_starts, line_ends = starts[:-1], starts[1:]
            lines = list(range(first_line, first_line + n_lines))
        else:
            line_starts = list(map(starts.__getitem__, where))
            line_ends = list(map(starts.__getitem__, map(add, where, repeat(1))))
            lines = list(map(add, where, repeat(first_line)))
        return LightSteps(
            n_lines=n_lines,
            offsets=list(map(add, line_starts, repeat(offset))),
            lengths=list(map(sub, map(sub, line_ends, line_starts), repeat(1))),
            lines=lines,
            span_ids=ids,  # type: ignore[arg-type]
            parent_ids=span_ids_of(list(map(_GET_PARENT, spans))),
            kinds=kinds,
            names=names,
            statuses=statuses,
            errors=list(map(eq, statuses, repeat("error"))),
            start=span_times(list(map(_GET_START, spans))),
            end=span_times(list(map(_GET_END, spans))),
            tokens=tokens,
        )

    def _kinds_and_tokens(self, spans: list[Span], names: list[str]) -> KindsTokens | None:
        """Kind and token counts of every span, spans grouped by their attribute key list
        (one :class:`Plan` per group, in C-level passes); ``None`` to decline."""
        n = len(spans)
        attributes = list(map(_GET_ATTRIBUTES, spans))
        if None in attributes:
            attributes = [a or [] for a in attributes]
        key_lists = list(map(tuple, map(map, repeat(_GET_KEY), attributes)))
        groups = dict.fromkeys(key_lists)
        if len(groups) > _MAX_GROUPS:  # no repeating shape: span by span
            return _one_by_one(self, spans)
        kinds: list[Any] = [None] * n
        tokens = ([None] * n, [None] * n, [None] * n, [None] * n)
        for keys in groups:
            if len(groups) == 1:
                where: Any = range(n)
                members, member_names = attributes, names
            else:
                mask = list(map(eq, key_lists, repeat(keys)))
                where = list(compress(range(n), mask))
                members = list(compress(attributes, mask))
                member_names = list(compress(names, mask))
            plan = self._plan(keys)
            found: Any = plan.columns(members, member_names) if plan is not None else None
            if found is None:  # the plan cannot tell in bulk: span by span
                found = _one_by_one(self, list(map(spans.__getitem__, where)))
                if found is None:
                    return None
            scatter(kinds, where, found[0])
            for column, values in zip(tokens, found[1], strict=True):
                if values is not None:
                    scatter(column, where, values)
        return kinds, tokens

    def _plan(self, keys: tuple[str, ...]) -> Plan | None:
        plan = self._plans.get(keys, _MISSING)
        if plan is _MISSING:
            plan = self._plans[keys] = Plan.of(keys)
            if len(self._plans) > 4096:  # files whose key sets never repeat: stay bounded
                self._plans.clear()
        return plan

    def _facts(self, raw: Span) -> tuple[str, str, str, bool, tuple[Any, ...]] | None:
        """(kind, name, status, has error, tokens) of a span, as its native record has them."""
        attributes = raw.attributes or ()
        plan = self._plan(tuple(map(_GET_KEY, attributes)))
        if plan is None:
            return span_facts(raw)
        name = raw.name if type(raw.name) is str and raw.name else str(raw.name or "span")
        status = raw.status
        if status:
            state, error = span_status(status, [])
        else:
            state, error = "unset", None
        return plan.facts(attributes, name, "error" if error else state, bool(error))

    def accept(self, steps: LightSteps, mapper: Any) -> None:
        """Tell the mapper these spans were seen (ids are renamed if they come again)."""
        mapper.note_light_spans(steps.span_ids, steps.statuses)

    def invented(self) -> frozenset[str]:
        """Words of the span mapping's own (every string constant of its modules)."""
        return invented_words(*_MAPPING_MODULES)

    def shown(self, value: Any, position: int, holds: Callable[[str], bool]) -> bool:
        """Does the ``position``-th span of a parsed request line certainly keep a string
        that ``holds`` (:func:`~trace_tui.core.formats.importers.otlp_spans.shows`)?"""
        if not isinstance(value, dict):
            return False
        spans = list(iter_spans(value))
        if len(spans) > 1:
            spans = parents_first(spans)
        if not 0 <= position < len(spans):
            return False
        resource, scope, raw = spans[position]
        return shows(raw, resource, scope, holds)

    def remap(self, value: Any, position: int, line: int = 0) -> dict[str, Any] | None:
        """The native record of the ``position``-th span of a request line (mapper's order;
        span ids come from the line, so its number is not needed)."""
        if not isinstance(value, dict):
            return None
        spans = parents_first(list(iter_spans(value)))
        if not 0 <= position < len(spans):
            return None
        resource, scope, raw = spans[position]
        span_id = otel_id(raw.get("spanId"))
        if span_id is None:
            return None
        events = [span_event(e) for e in raw.get("events") or () if isinstance(e, dict)]
        return otel_span_record(span_id, raw, resource, scope, events)


#: The modules whose code writes an OTLP span's native record.
_MAPPING_MODULES = (
    "trace_tui.core.formats.importers.otlp_spans",
    "trace_tui.core.formats.shared.otel_attrs",
    "trace_tui.core.formats.shared.messages",
    "trace_tui.core.formats.shared.common",
    "trace_tui.core.formats.shared.coerce",
    "trace_tui.core.formats.shared.provider_bodies",
    "trace_tui.core.model.step",
)
_MISSING: Any = object()


_GET_KEY = attrgetter("key")
_GET_NAME = attrgetter("name")
_GET_STATUS = attrgetter("status")
_GET_ATTRIBUTES = attrgetter("attributes")
_GET_ID = attrgetter("spanId")
_GET_PARENT = attrgetter("parentSpanId")
_GET_START = attrgetter("startTimeUnixNano")
_GET_END = attrgetter("endTimeUnixNano")
_GET_EVENTS = attrgetter("events")
_GET_LINKS = attrgetter("links")
#: More distinct attribute key lists than this in a chunk: spans are taken one by one.
_MAX_GROUPS = 64


def _one_by_one(light: OtlpLight, spans: list[Span]) -> KindsTokens | None:
    """Kinds and token columns of ``spans`` from :meth:`OtlpLight._facts`, one at a time."""
    facts = list(map(light._facts, spans))
    if None in facts:
        return None
    kinds = [f[0] for f in facts]  # type: ignore[index]
    tokens = tuple(list(column) for column in zip(*(f[4] for f in facts), strict=True))  # type: ignore[index]
    if not tokens:
        tokens = ([], [], [], [])
    return kinds, tokens  # type: ignore[return-value]
