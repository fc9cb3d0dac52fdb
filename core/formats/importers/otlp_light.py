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

from collections import deque
from itertools import chain, compress, repeat
from operator import add, attrgetter, eq, is_, itemgetter, methodcaller, sub, truediv
from typing import Any

import msgspec
from msgspec import UNSET, Raw, Struct, UnsetType

from trace_tui.core.formats.base import LightSteps
from trace_tui.core.formats.importers.otlp_spans import (
    iter_spans,
    nanos,
    otel_span_record,
    parents_first,
    parents_first_order,
    span_event,
    span_status,
)
from trace_tui.core.formats.shared.common import epoch_seconds, opt_int, otel_id, usage_attributes
from trace_tui.core.formats.shared.otel_attrs import native_attributes, span_kind
from trace_tui.core.formats.shared.vocabulary import invented_words
from trace_tui.core.model.step import (
    A_USAGE_CACHE_READ,
    A_USAGE_CACHE_WRITE,
    A_USAGE_INPUT,
    A_USAGE_OUTPUT,
    token_value,
)


class _Value(Struct, gc=False):
    stringValue: str | UnsetType = UNSET
    boolValue: bool | UnsetType = UNSET
    doubleValue: float | UnsetType = UNSET
    bytesValue: str | UnsetType = UNSET
    intValue: int | str | UnsetType = UNSET
    arrayValue: Raw | UnsetType = UNSET
    kvlistValue: Raw | UnsetType = UNSET


class _KeyValue(Struct, gc=False):
    key: str
    value: Raw  # decoded only for the few keys that decide kind and tokens


_DECODE_VALUE = msgspec.json.Decoder(_Value | None).decode


class _IntValue(Struct, gc=False, forbid_unknown_fields=True):
    """An attribute value that is an ``intValue`` and nothing else (token counts)."""

    intValue: int | str


_DECODE_INTS = msgspec.json.Decoder(list[_IntValue]).decode


class _Span(Struct, gc=False):
    spanId: Any = None
    parentSpanId: Any = None
    name: Any = None
    startTimeUnixNano: Any = None
    endTimeUnixNano: Any = None
    attributes: list[_KeyValue] | None = None
    status: dict[str, Any] | None = None
    events: list[Raw] | None = None
    links: list[Raw] | None = None


class _ScopeSpans(Struct, gc=False):
    spans: list[_Span] | None = None


class _ResourceSpans(Struct, gc=False):
    scopeSpans: list[_ScopeSpans] | None = None
    instrumentationLibrarySpans: list[_ScopeSpans] | None = None


class _Request(Struct, gc=False):
    resourceSpans: list[_ResourceSpans] | None | UnsetType = UNSET
    resourceLogs: Raw | UnsetType = UNSET
    resourceMetrics: Raw | UnsetType = UNSET


_DECODE_LINES = msgspec.json.Decoder(_Request).decode_lines
_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeDecodeError,
           OverflowError)  # fmt: skip
_WHITESPACE = b" \t\r\n"

#: Message content: never decides a span's kind or token counts, so never looked at here.
_CONTENT = frozenset((
    "gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
    "gen_ai.tool.definitions", "gen_ai.prompt", "gen_ai.completion",
    "gen_ai.tool.call.arguments", "gen_ai.tool.call.result",
))  # fmt: skip
_USAGE_KEYS = (A_USAGE_INPUT, A_USAGE_OUTPUT, A_USAGE_CACHE_READ, A_USAGE_CACHE_WRITE)
#: Attributes whose effect on the kind and tokens :func:`_simple_tokens` knows exactly; a span
#: with any other (non-content) attribute takes :func:`native_attributes`.
_SIMPLE = frozenset((
    "gen_ai.operation.name", "gen_ai.system", "gen_ai.provider.name", "gen_ai.request.model",
    "gen_ai.response.model", "gen_ai.response.id", "gen_ai.tool.name", "gen_ai.tool.call.id",
    "gen_ai.tool.type", "gen_ai.tool.description", "gen_ai.request.temperature",
    "gen_ai.request.max_tokens", "gen_ai.request.top_p", "gen_ai.response.finish_reasons",
    "gen_ai.conversation.id", "gen_ai.agent.name", "gen_ai.agent.id", "server.address",
    "server.port", *_USAGE_KEYS,
))  # fmt: skip
#: List attributes that decide nothing here (their values are not decoded).
_LISTS = frozenset(("gen_ai.response.finish_reasons",))
_NO_TOKENS: tuple[None, None, None, None] = (None, None, None, None)


def _value(raw: Raw | bytes) -> Any:
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


class OtlpLight:
    """:class:`~trace_tui.core.formats.base.LightDecoder` of OTLP/JSON lines (see module doc)."""

    def __init__(self) -> None:
        self._plans: dict[tuple[str, ...], _Plan | None] = {}

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
        return _joined(parts)

    def _decode(self, data: bytes, offset: int, first_line: int, mapper: Any) -> LightSteps | None:
        try:
            requests = _DECODE_LINES(data)
        except _ERRORS:
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
        if len(firsts.translate(None, _WHITESPACE)) != n_lines:
            return None  # a line starting with blanks may hold two values
        spans = _one_span_each(requests)
        where: list[int] | None = None  # None: span k is on line k
        if spans is None:
            spans, where = [], []
            for k, request in enumerate(requests):
                if request.resourceLogs is not UNSET or request.resourceMetrics is not UNSET:
                    return None
                found = _spans_of(request)
                if len(found) == 1:
                    spans.append(found[0])
                    where.append(k)
                elif found:
                    spans.extend(_in_mapper_order(found))
                    where.extend(repeat(k, len(found)))
                elif request.resourceSpans is UNSET:
                    return None  # not a request at all: the mapper says so
        try:
            return self._steps(spans, where, starts, offset, first_line, n_lines, mapper)
        except _ERRORS:  # an attribute value of an unexpected shape
            return None

    def _steps(
        self,
        spans: list[_Span],
        where: list[int] | None,
        starts: list[int],
        offset: int,
        first_line: int,
        n_lines: int,
        mapper: Any,
    ) -> LightSteps | None:
        ids = _ids(list(map(_GET_ID, spans)))
        if None in ids or len(set(ids)) != len(ids) or mapper.claims_any(ids):
            return None  # a missing or repeated id: the mapper renames it
        if any(map(_GET_EVENTS, spans)) or any(map(_GET_LINKS, spans)):
            return None
        names = _names(list(map(_GET_NAME, spans)))
        statuses = _states(list(map(_GET_STATUS, spans)))
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
            parent_ids=_ids(list(map(_GET_PARENT, spans))),
            kinds=kinds,
            names=names,
            statuses=statuses,
            errors=list(map(eq, statuses, repeat("error"))),
            start=_times(list(map(_GET_START, spans))),
            end=_times(list(map(_GET_END, spans))),
            tokens=tokens,
        )

    def _kinds_and_tokens(self, spans: list[_Span], names: list[str]) -> _KindsTokens | None:
        """Kind and token counts of every span, spans grouped by their attribute key list
        (one :class:`_Plan` per group, in C-level passes); ``None`` to decline."""
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
            _scatter(kinds, where, found[0])
            for column, values in zip(tokens, found[1], strict=True):
                if values is not None:
                    _scatter(column, where, values)
        return kinds, tokens

    def _plan(self, keys: tuple[str, ...]) -> _Plan | None:
        plan = self._plans.get(keys, _MISSING)
        if plan is _MISSING:
            plan = self._plans[keys] = _Plan.of(keys)
            if len(self._plans) > 4096:  # files whose key sets never repeat: stay bounded
                self._plans.clear()
        return plan

    def _facts(self, raw: _Span) -> tuple[str, str, str, bool, tuple[Any, ...]] | None:
        """(kind, name, status, has error, tokens) of a span, as its native record has them."""
        attributes = raw.attributes or ()
        plan = self._plan(tuple(map(_GET_KEY, attributes)))
        if plan is None:
            return _facts(raw)
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


def _is_unset(value: Any) -> bool:
    return value is UNSET


_GET_KEY = attrgetter("key")
_GET_LOGS = attrgetter("resourceLogs")
_GET_METRICS = attrgetter("resourceMetrics")
_GET_RESOURCE_SPANS = attrgetter("resourceSpans")
_GET_SCOPE_SPANS = attrgetter("scopeSpans")
_GET_SPANS = attrgetter("spans")
_FIRST = itemgetter(0)
_GET_VALUE = attrgetter("value")
_GET_INT = attrgetter("intValue")
_GET_NAME = attrgetter("name")
_GET_STATUS = attrgetter("status")
_GET_ATTRIBUTES = attrgetter("attributes")
_GET_CODE = methodcaller("get", "code", 0)
#: :func:`span_status`'s state by status code (any other hashable code: ``unset``).
_STATE = {2: "error", "STATUS_CODE_ERROR": "error", "ERROR": "error",
          1: "ok", "STATUS_CODE_OK": "ok", "OK": "ok"}  # fmt: skip
#: More distinct attribute key lists than this in a chunk: spans are taken one by one.
_MAX_GROUPS = 64
#: Kinds remembered per plan by (name, the kind-deciding values' JSON).
_MAX_KINDS = 65536
_KindsTokens = tuple[list[Any], tuple[list[Any], list[Any], list[Any], list[Any]]]
_GET_ID = attrgetter("spanId")
_GET_PARENT = attrgetter("parentSpanId")
_GET_START = attrgetter("startTimeUnixNano")
_GET_END = attrgetter("endTimeUnixNano")
_GET_EVENTS = attrgetter("events")
_GET_LINKS = attrgetter("links")
#: Attributes whose values decide a span's kind (:func:`span_kind`).
_KIND_KEYS = ("openinference.span.kind", "gen_ai.operation.name", "langsmith.span.kind",
              "traceloop.span.kind", "llm.request.type")  # fmt: skip


class _Plan:
    """How to read kind and tokens from spans with one attribute key list (the common GenAI
    attributes only; other key lists have no plan and take :func:`_facts`)."""

    __slots__ = ("by_json", "keys", "kind_at", "kinds", "present", "provider_at", "usage_at")

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.keys = keys
        self.kind_at = [k for k, key in enumerate(keys) if key in _KIND_KEYS]
        #: The keys span_kind tests by presence only (values never read), with a dummy value.
        self.present = {key: True for key in keys if key not in _KIND_KEYS}
        self.usage_at = [keys.index(k) if k in keys else -1 for k in _USAGE_KEYS]
        provider = "gen_ai.provider.name" if "gen_ai.provider.name" in keys else "gen_ai.system"
        self.provider_at = keys.index(provider) if provider in keys else -1
        self.kinds: dict[tuple[Any, ...], str] = {}
        self.by_json: dict[tuple[Any, ...], str] = {}

    @classmethod
    def of(cls, keys: tuple[str, ...]) -> _Plan | None:
        if len(set(keys)) != len(keys):
            return None  # a repeated key: the last one wins in the mapping; rare, take it slow
        if not all(k in _SIMPLE or k in _CONTENT or k in _LISTS for k in keys):
            return None
        return cls(keys)

    def columns(
        self, members: list[list[_KeyValue]], names: list[str]
    ) -> tuple[list[str], list[list[int] | None]] | None:
        """Kinds and token columns of spans with this plan's key list, in C-level passes;
        ``None`` when a span needs :meth:`facts` (unusual token values, cache counts)."""
        raws = [list(map(bytes, map(_GET_VALUE, map(itemgetter(k), members))))
                for k in self.kind_at]  # fmt: skip
        keys = list(zip(names, *raws, strict=True))
        kinds = list(map(self.by_json.get, keys))
        if None in kinds:
            for k in compress(range(len(kinds)), map(eq, kinds, repeat(None))):
                kinds[k] = self._kind(keys[k])
        usage_at = self.usage_at
        if usage_at == [-1, -1, -1, -1]:
            return kinds, [None, None, None, None]  # type: ignore[return-value]
        if usage_at[2] >= 0 or usage_at[3] >= 0 or kinds.count("llm") != len(kinds):
            return None  # cache counts (the provider decides), or usage off a model call
        counts: list[list[int] | None] = [None, None, None, None]
        for column, at in enumerate(usage_at[:2]):
            if at < 0:
                continue
            values = b",".join(map(_GET_VALUE, map(itemgetter(at), members)))
            try:
                numbers = list(map(int, map(_GET_INT, _DECODE_INTS(b"[" + values + b"]"))))
            except (*_ERRORS, ValueError, TypeError):
                return None  # not a plain intValue: as _value reads it, span by span
            if numbers and min(numbers) < 0:
                return None
            counts[column] = numbers
        return kinds, counts  # type: ignore[return-value]

    def _kind(self, key: tuple[Any, ...]) -> str:
        """The kind of a span named ``key[0]`` whose kind-deciding values are ``key[1:]``."""
        name, values = key[0], [_value(raw) for raw in key[1:]]
        attrs = dict(self.present)
        for k, value in zip(self.kind_at, values, strict=True):
            attrs[self.keys[k]] = value
        kind = span_kind(attrs, name)
        if len(self.by_json) < _MAX_KINDS:
            self.by_json[key] = kind
        return kind

    def facts(
        self, attributes: Any, name: str, status: str, error: bool
    ) -> tuple[str, str, str, bool, tuple[Any, ...]] | None:
        kind_values = tuple(_value(attributes[k].value) for k in self.kind_at)
        key = (kind_values, name)
        kind = self.kinds.get(key)
        if kind is None:
            attrs = dict(self.present)
            for k, value in zip(self.kind_at, kind_values, strict=True):
                attrs[attributes[k].key] = value
            kind = span_kind(attrs, name)
            if len(self.kinds) < 4096:
                self.kinds[key] = kind
        if self.usage_at == [-1, -1, -1, -1]:
            return kind, name, status, error, _NO_TOKENS
        if kind != "llm":
            return None  # usage on a span that is not a model call: the full rules
        usage = [None if k < 0 else _value(attributes[k].value) for k in self.usage_at]
        for value in usage:
            if value is not None and (type(value) is not int or value < 0):
                return None
        if usage[2] is None and usage[3] is None:
            return kind, name, status, error, (usage[0], usage[1], None, None)
        provider = _value(attributes[self.provider_at].value) if self.provider_at >= 0 else None
        counts = usage_attributes(
            *usage,
            input_includes_cache=False if str(provider or "").lower() == "anthropic" else None,
        )
        return kind, name, status, error, tuple(counts.get(k) for k in _USAGE_KEYS)


def _joined(parts: list[LightSteps]) -> LightSteps:
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
#: Bytes of lines decoded at a time (their structs stay in the CPU cache while read).
PIECE_BYTES = 512 * 1024


def _one_span_each(requests: list[_Request]) -> list[_Span] | None:
    """The span of each request when every request holds exactly one (one resource, one
    scope, one span) and nothing else; ``None`` otherwise (:func:`_spans_of` one by one)."""
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


def _names(names: list[Any]) -> list[str]:
    """Each span's name as the mapping gives it (``str(name or "span")``)."""
    if set(map(type, names)) == {str} and "" not in names:
        return names
    return [str(name or "span") for name in names]


def _states(statuses: list[dict[str, Any] | None]) -> list[str]:
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
    _scatter(states, where, found)
    return states


def _one_by_one(light: OtlpLight, spans: list[_Span]) -> _KindsTokens | None:
    """Kinds and token columns of ``spans`` from :meth:`OtlpLight._facts`, one at a time."""
    facts = list(map(light._facts, spans))
    if None in facts:
        return None
    kinds = [f[0] for f in facts]  # type: ignore[index]
    tokens = tuple(list(column) for column in zip(*(f[4] for f in facts), strict=True))  # type: ignore[index]
    if not tokens:
        tokens = ([], [], [], [])
    return kinds, tokens  # type: ignore[return-value]


def _scatter(column: Any, where: Any, values: Any) -> None:
    """``column[i] = v`` for each pair, in C (``deque(..., maxlen=0)`` drains the map)."""
    deque(map(column.__setitem__, where, values), maxlen=0)


def _in_mapper_order(spans: list[_Span]) -> list[_Span]:
    """A line's spans in the order the mapper emits them (:func:`parents_first`)."""
    order = parents_first_order(
        [opt_int(s.startTimeUnixNano) or 0 for s in spans],
        [otel_id(s.spanId) for s in spans],
        [otel_id(s.parentSpanId) for s in spans],
    )
    return [spans[k] for k in order]


def _ids(values: list[Any]) -> list[str | None]:
    """:func:`otel_id` of each value; lower-casing in C when all are plain hex-like strings."""
    try:
        lowered = list(map(str.lower, values))
    except TypeError:  # a None or a non-string: one by one
        return list(map(otel_id, values))
    if "" in lowered or any(map(methodcaller("endswith", "="), lowered)):
        return list(map(otel_id, values))
    return lowered  # type: ignore[return-value]


def _times(values: list[Any]) -> list[float | None]:
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


def _spans_of(request: _Request) -> list[_Span]:
    """The request's spans, as :func:`iter_spans` walks them."""
    out: list[_Span] = []
    for rs in request.resourceSpans or ():
        for ss in rs.scopeSpans or rs.instrumentationLibrarySpans or ():
            out.extend(ss.spans or ())
    return out


def _seconds(value: Any) -> float | None:
    """The step's time as the mapped record and the builder give it (``nanos`` → seconds)."""
    seconds = nanos(value)
    return None if seconds is None else epoch_seconds(seconds)


def _facts(raw: _Span) -> tuple[str, str, str, bool, tuple[Any, ...]] | None:
    """(kind, name, status, has error, tokens) of a span, as its native record has them."""
    attrs: dict[str, Any] = {}
    simple = True
    for item in raw.attributes or ():
        key = item.key
        if key in _CONTENT:
            continue
        value = _value(item.value)
        if value is ... and key not in _LISTS:
            return None  # a list or map attribute: the full mapping decides
        attrs[key] = value
        if key not in _SIMPLE:
            simple = False
    name = str(raw.name or "span")
    kind = span_kind(attrs, name)
    status, error = span_status(raw.status, [])
    tokens = _simple_tokens(attrs, kind) if simple else None
    if tokens is None and ... in attrs.values():
        return None  # a list value (unread) and the full rules: decline
    if tokens is None:
        tokens = _full_tokens(attrs, kind)
    return kind, name, "error" if error else status, bool(error), tokens


def _simple_tokens(attrs: dict[str, Any], kind: str) -> tuple[Any, ...] | None:
    """Token counts for the common GenAI attributes (``None``: ask the full rules)."""
    present = [attrs.get(k) for k in _USAGE_KEYS]
    if present == [None, None, None, None]:
        return _NO_TOKENS
    if kind != "llm":
        return None
    for value in present:
        if value is not None and (type(value) is not int or value < 0):
            return None
    provider = attrs.get("gen_ai.provider.name") if "gen_ai.provider.name" in attrs else (
        attrs.get("gen_ai.system"))  # fmt: skip
    usage = usage_attributes(
        *present,
        input_includes_cache=False if str(provider or "").lower() == "anthropic" else None,
    )
    return tuple(usage.get(k) for k in _USAGE_KEYS)


def _full_tokens(attrs: dict[str, Any], kind: str) -> tuple[Any, ...]:
    """Token counts by the full mapping's rules (on the attributes that are not content)."""
    mapped = native_attributes(attrs, kind)
    return tuple(token_value(mapped.get(k)) for k in _USAGE_KEYS)

