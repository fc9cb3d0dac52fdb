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

from itertools import repeat
from operator import add, attrgetter, methodcaller, sub, truediv
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


def _value(raw: Raw) -> Any:
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
        """Index facts of complete lines ``data`` at ``offset``, or ``None`` to decline."""
        if not mapper.takes_light_spans():
            return None
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
        spans: list[_Span] = []
        where: list[int] = []  # the line (0-based in the chunk) of each span
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
        where: list[int],
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
        facts = list(map(self._facts, spans))
        if None in facts:
            return None
        if not facts:
            return LightSteps(n_lines, [], [], [], [], [], [], [], [], [], [], [],
                              ([], [], [], []))  # fmt: skip
        kinds, names, statuses, errors, tokens = zip(*facts, strict=True)
        token_columns = tuple(map(list, zip(*tokens, strict=True)))
        line_starts = list(map(starts.__getitem__, where))
        line_ends = list(map(starts.__getitem__, map(add, where, repeat(1))))
        return LightSteps(
            n_lines=n_lines,
            offsets=list(map(add, line_starts, repeat(offset))),
            lengths=list(map(sub, map(sub, line_ends, line_starts), repeat(1))),
            lines=list(map(add, where, repeat(first_line))),
            span_ids=ids,  # type: ignore[arg-type]
            parent_ids=_ids(list(map(_GET_PARENT, spans))),
            kinds=list(kinds),
            names=list(names),
            statuses=list(statuses),
            errors=list(errors),
            start=_times(list(map(_GET_START, spans))),
            end=_times(list(map(_GET_END, spans))),
            tokens=token_columns,  # type: ignore[arg-type]
        )

    def _facts(self, raw: _Span) -> tuple[str, str, str, bool, tuple[Any, ...]] | None:
        """(kind, name, status, has error, tokens) of a span, as its native record has them."""
        attributes = raw.attributes or ()
        keys = tuple(map(_GET_KEY, attributes))
        plan = self._plans.get(keys, _MISSING)
        if plan is _MISSING:
            plan = self._plans[keys] = _Plan.of(keys)
            if len(self._plans) > 4096:  # files whose key sets never repeat: stay bounded
                self._plans.clear()
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
_GET_KEY = attrgetter("key")
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

    __slots__ = ("kind_at", "kinds", "present", "provider_at", "usage_at")

    def __init__(self, keys: tuple[str, ...]) -> None:
        self.kind_at = [k for k, key in enumerate(keys) if key in _KIND_KEYS]
        #: The keys span_kind tests by presence only (values never read), with a dummy value.
        self.present = {key: True for key in keys if key not in _KIND_KEYS}
        self.usage_at = [keys.index(k) if k in keys else -1 for k in _USAGE_KEYS]
        provider = "gen_ai.provider.name" if "gen_ai.provider.name" in keys else "gen_ai.system"
        self.provider_at = keys.index(provider) if provider in keys else -1
        self.kinds: dict[tuple[Any, ...], str] = {}

    @classmethod
    def of(cls, keys: tuple[str, ...]) -> _Plan | None:
        if len(set(keys)) != len(keys):
            return None  # a repeated key: the last one wins in the mapping; rare, take it slow
        if not all(k in _SIMPLE or k in _CONTENT or k in _LISTS for k in keys):
            return None
        return cls(keys)

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
    """:func:`_seconds` of each value; in C-level passes for plain positive decimal nanos."""
    if set(map(type, values)) != {str}:  # numbers (or none): opt_int keeps ints exact
        return list(map(_seconds, values))
    try:
        numbers = list(map(int, map(float, values)))  # as opt_int reads a string
    except (ValueError, OverflowError):
        return list(map(_seconds, values))
    if not numbers or min(numbers) <= 0 or max(numbers) >= _SECONDS_LIMIT:
        return list(map(_seconds, values))
    return list(map(truediv, numbers, repeat(1e9)))


#: Nanoseconds whose seconds :func:`epoch_seconds` would scale again (>= 1e11 s).
_SECONDS_LIMIT = 10**20


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
    return tuple(_count(mapped.get(k)) for k in _USAGE_KEYS)


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
