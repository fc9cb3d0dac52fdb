"""A span's kind and token counts from its attribute list, as the full mapping gives them:
in bulk for spans that share one attribute key list (:class:`Plan`), else span by span
(:func:`span_facts`). The rules are the mapping's own
(:func:`~trace_tui.core.formats.shared.otel_attrs.span_kind`,
:func:`~trace_tui.core.formats.shared.otel_attrs.native_attributes`)."""

from __future__ import annotations

from itertools import compress, repeat
from operator import attrgetter, eq, itemgetter
from typing import Any

from trace_tui.core.formats.importers.otlp_spans import span_status
from trace_tui.core.formats.importers.otlp_wire import (
    DECODE_ERRORS,
    DECODE_INTS,
    KeyValue,
    Span,
    attribute_value,
)
from trace_tui.core.formats.shared.common import usage_attributes
from trace_tui.core.formats.shared.otel_attrs import native_attributes, span_kind
from trace_tui.core.model.step import (
    A_USAGE_CACHE_READ,
    A_USAGE_CACHE_WRITE,
    A_USAGE_INPUT,
    A_USAGE_OUTPUT,
    token_value,
)

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


#: Attributes whose values decide a span's kind (:func:`span_kind`).
_KIND_KEYS = ("openinference.span.kind", "gen_ai.operation.name", "langsmith.span.kind",
              "traceloop.span.kind", "llm.request.type")  # fmt: skip

#: Kinds remembered per plan by (name, the kind-deciding values' JSON).
_MAX_KINDS = 65536
_GET_VALUE = attrgetter("value")
_GET_INT = attrgetter("intValue")
#: Kind and the four token columns of a group of spans.
KindsTokens = tuple[list[Any], tuple[list[Any], list[Any], list[Any], list[Any]]]


class Plan:
    """How to read kind and tokens from spans with one attribute key list (the common GenAI
    attributes only; other key lists have no plan and take :func:`span_facts`)."""

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
    def of(cls, keys: tuple[str, ...]) -> Plan | None:
        if len(set(keys)) != len(keys):
            return None  # a repeated key: the last one wins in the mapping; rare, take it slow
        if not all(k in _SIMPLE or k in _CONTENT or k in _LISTS for k in keys):
            return None
        return cls(keys)

    def columns(
        self, members: list[list[KeyValue]], names: list[str]
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
                numbers = list(map(int, map(_GET_INT, DECODE_INTS(b"[" + values + b"]"))))
            except (*DECODE_ERRORS, ValueError, TypeError):
                return None  # not a plain intValue: as attribute_value reads it, span by span
            if numbers and min(numbers) < 0:
                return None
            counts[column] = numbers
        return kinds, counts  # type: ignore[return-value]

    def _kind(self, key: tuple[Any, ...]) -> str:
        """The kind of a span named ``key[0]`` whose kind-deciding values are ``key[1:]``."""
        name, values = key[0], [attribute_value(raw) for raw in key[1:]]
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
        kind_values = tuple(attribute_value(attributes[k].value) for k in self.kind_at)
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
        usage = [None if k < 0 else attribute_value(attributes[k].value) for k in self.usage_at]
        for value in usage:
            if value is not None and (type(value) is not int or value < 0):
                return None
        if usage[2] is None and usage[3] is None:
            return kind, name, status, error, (usage[0], usage[1], None, None)
        at = self.provider_at
        provider = attribute_value(attributes[at].value) if at >= 0 else None
        counts = usage_attributes(
            *usage,
            input_includes_cache=False if str(provider or "").lower() == "anthropic" else None,
        )
        return kind, name, status, error, tuple(counts.get(k) for k in _USAGE_KEYS)


def span_facts(raw: Span) -> tuple[str, str, str, bool, tuple[Any, ...]] | None:
    """(kind, name, status, has error, tokens) of a span, as its native record has them."""
    attrs: dict[str, Any] = {}
    simple = True
    for item in raw.attributes or ():
        key = item.key
        if key in _CONTENT:
            continue
        value = attribute_value(item.value)
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
