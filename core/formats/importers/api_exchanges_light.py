"""The light decoder of raw API exchange lines: index facts without mapping the request.

An exchange line holds the whole conversation so far in its request body; the mapper
normalises every message of it on every line. The index needs far less: times, the provider,
the model, the HTTP status, the response's usage and tool calls, and which waiting tool calls
the request sends results for. msgspec decodes each line into a small struct, keeping the
request's messages as raw bytes; the response (small) is read by the mapping's own functions
(:func:`~trace_tui.core.formats.shared.provider_bodies.response_attributes`), so tokens, names
and tool calls are the mapper's by construction.

Tool results: the mapper ends a waiting call when a later request carries a tool message with
its id. A message can only hold an id if the id's characters are in the line; ids are plain
words (letters, digits, ``_.:-``, never a number's or ``None``'s text), so a line that holds
none of the waiting ids, written raw, ends nothing (a line that escapes a plain character as
``\\u00XX`` has every message read). The messages that do hold one are normalised with the
mapping's code, and the ``span_end`` records are built by the mapper's own function and
spilled (:class:`~trace_tui.core.formats.base.LightEnds`). Step ids come from the line number,
so :meth:`ApiExchangeLight.remap` rebuilds a step from its line alone.

Declined (mapped in full instead): a request body written as a JSON string, messages that are
not a list, a method or url that is not a string, waiting ids that are not plain words or more
than :data:`MAX_PENDING` of them, numbers of 20 digits or more, blank lines, and anything that
raises. A test indexes every sample both ways and compares every column and every step.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import msgspec
import orjson
from msgspec import UNSET, Raw, Struct, UnsetType

from trace_tui.core.formats.base import LightEnds, LightSteps
from trace_tui.core.formats.importers.api_exchanges_mapper import (
    ApiExchangeMapper,
    exchange_error,
    exchange_spans,
    exchange_times,
    other_span,
    tool_calls,
    tool_result_end,
)
from trace_tui.core.formats.shared.common import epoch_seconds, usage_attributes
from trace_tui.core.formats.shared.messages import normalize_messages
from trace_tui.core.formats.shared.provider_bodies import (
    guess_provider,
    request_attributes,
    response_attributes,
)
from trace_tui.core.formats.shared.vocabulary import invented_words
from trace_tui.core.model.step import (
    A_USAGE_CACHE_READ,
    A_USAGE_CACHE_WRITE,
    A_USAGE_INPUT,
    A_USAGE_OUTPUT,
)
from trace_tui.core.model.times import epoch_of

#: More tool calls than this waiting for their result: the chunk is mapped in full.
MAX_PENDING = 64


class _Body(Struct, gc=False):
    model: Any = None
    messages: list[Raw] | None | UnsetType = UNSET
    input: list[Raw] | str | None | UnsetType = UNSET
    max_tokens: Raw | UnsetType = UNSET
    system: Raw | UnsetType = UNSET


class _Exchange(Struct, gc=False):
    timestamp: Any = None
    elapsed_ms: Any = None
    method: Any = UNSET
    url: Any = UNSET
    request_body: _Body | None | UnsetType = UNSET  # any other shape declines the chunk
    response_status: Any = None
    response_body: Any = None


_DECODE_EXCHANGE = msgspec.json.Decoder(_Exchange).decode
_DECODE_ANY = msgspec.json.Decoder().decode
_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, RecursionError, UnicodeDecodeError,
           OverflowError, orjson.JSONDecodeError)  # fmt: skip
_WHITESPACE = b" \t\r\n"
#: As :func:`~trace_tui.core.io.jsonl.decode_bytes`: 20 digits in a row take the standard
#: library's parser there (big numbers), so such chunks are declined here.
_DIGIT_TABLE = bytes(0x30 if 0x30 <= i <= 0x39 else 0x2E for i in range(256))
_TWENTY_DIGITS = b"0" * 20
#: A plain character (of a plain id) written as a ``\\u00XX`` escape.
_ESCAPED_PLAIN = re.compile(rb"\\u00[2-7][0-9a-fA-F]")
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.:\-]+")
#: A plain id holds one of these, so no number, ``true``/``false`` or ``null`` prints as it.
_WORDY = re.compile(r"[A-DF-Za-df-z_:]")
_NUMBER_WORDS = frozenset(("True", "False", "None", "inf", "-inf", "nan", "Infinity"))
_USAGE_KEYS = (A_USAGE_INPUT, A_USAGE_OUTPUT, A_USAGE_CACHE_READ, A_USAGE_CACHE_WRITE)


@functools.lru_cache(maxsize=4096)
def _plain(call_id: str) -> bool:
    """Can a message only hold ``call_id`` as a JSON string with its characters written raw
    (or as ``\\u00XX``)?"""
    return (
        _PLAIN_ID.fullmatch(call_id) is not None
        and _WORDY.search(call_id) is not None
        and call_id not in _NUMBER_WORDS
    )


def _seconds(value: float | None) -> float | None:
    """A time (a float from :func:`exchange_times`) as the record and the builder give it:
    ``epoch_of(to_time(value))``, which for a float is :func:`epoch_seconds`."""
    return None if value is None else epoch_seconds(value)


class _Pending:
    """The mapper's waiting tool calls, seen through the changes these lines make: ``ended``
    are gone from ``base`` (answered, or replaced by a later call with the same id), ``added``
    are the calls these lines made that still wait."""

    __slots__ = ("added", "base", "ended")

    def __init__(self, base: dict[str, str]) -> None:
        self.base = base
        self.added: dict[str, str] = {}
        self.ended: dict[str, None] = {}

    def keys(self) -> list[str]:
        ended, added = self.ended, self.added
        return [k for k in self.base if k not in ended and k not in added] + list(added)

    def waiting(self) -> int:
        return len(self.base) - len(self.ended) + len(self.added)

    def pop(self, call_id: str) -> str | None:
        if call_id in self.added:
            return self.added.pop(call_id)
        if call_id in self.base and call_id not in self.ended:
            self.ended[call_id] = None
            return self.base[call_id]
        return None

    def add(self, call_id: str, tool_id: str) -> None:
        if call_id in self.base:  # the mapper's dict entry is replaced: the old call is gone
            self.ended[call_id] = None
        self.added[call_id] = tool_id


_NO_TOKENS: tuple[None, None, None, None] = (None, None, None, None)


class _Chunk:
    """The steps (one row each) and ends of one chunk, filled line by line."""

    def __init__(self) -> None:
        #: (offset, length, line, span id, kind, name, status, start, end, tokens)
        self.rows: list[tuple[Any, ...]] = []
        self.ends = LightEnds([], [], [], [], [], [], [], [])

    def steps(self, n_lines: int) -> LightSteps:
        ends = self.ends if self.ends.span_ids else None
        if not self.rows:
            return LightSteps(n_lines, [], [], [], [], [], [], [], [], [], [], [],
                              ([], [], [], []), ends)  # fmt: skip
        offsets, lengths, lines, ids, kinds, names, statuses, start, end, tokens = map(
            list, zip(*self.rows, strict=True)
        )
        return LightSteps(
            n_lines, offsets, lengths, lines, ids, [None] * len(ids), kinds, names, statuses,
            [status == "error" for status in statuses], start, end,
            tuple(map(list, zip(*tokens, strict=True))), ends,  # type: ignore[arg-type]
        )  # fmt: skip


_Facts = tuple[Any, tuple[int | None, ...], list[dict[str, Any]]]


def _response_facts(provider: str, body: Any) -> _Facts | None:
    """(response model, token counts, tool calls ``{"id", "name"}``) of a plain Anthropic
    message or chat completion, as :func:`~trace_tui.core.formats.shared.provider_bodies.
    response_attributes` and the message normalisation read them; ``None`` for any other
    shape (the caller then runs those)."""
    if type(body) is not dict:
        return None
    usage = body.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    if provider == "anthropic":
        content = body.get("content") or []
        calls: list[dict[str, Any]] = []
        if isinstance(content, list):
            kinds = [b.get("type") if isinstance(b, dict) else None for b in content]
            if "tool_result" in kinds:
                return None
            calls = [{"id": _opt_str(b.get("id")), "name": str(b.get("name") or "")}
                     for b, kind in zip(content, kinds, strict=True) if kind == "tool_use"]
        counts = usage_attributes(
            usage.get("input_tokens"), usage.get("output_tokens"),
            usage.get("cache_read_input_tokens"), usage.get("cache_creation_input_tokens"),
            input_includes_cache=False,
        )  # fmt: skip
        return body.get("model"), tuple(map(counts.get, _USAGE_KEYS)), calls
    if provider != "openai.chat":
        return None
    choices = body.get("choices")
    calls = []
    for choice in choices if isinstance(choices, list) else ():
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict):
            continue
        if ("lc" in message or "parts" in message or message.get("type") is not None
                or isinstance(message.get("content"), list)):  # fmt: skip
            return None
        found = message.get("tool_calls")
        for call in found if isinstance(found, list) else ():
            function = call.get("function") if isinstance(call, dict) else None
            if not isinstance(function, dict):
                return None
            calls.append({"id": _opt_str(call.get("id", call.get("call_id"))),
                          "name": str(function.get("name") or "")})  # fmt: skip
    details = usage.get("prompt_tokens_details")
    details = details if isinstance(details, dict) else {}
    counts = usage_attributes(
        usage.get("prompt_tokens"), usage.get("completion_tokens"),
        details.get("cached_tokens"), usage.get("cache_creation_input_tokens"),
        input_includes_cache=True,
    )  # fmt: skip
    return body.get("model"), tuple(map(counts.get, _USAGE_KEYS)), calls


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _may_hold_tool_message(item: Any) -> bool:
    """Could :func:`~trace_tui.core.formats.shared.messages.normalize_messages` make a tool
    message of this request item? (``False`` only when its shape proves it cannot: a plain
    role message whose role is not a tool's and whose content holds no ``tool_result``.)"""
    if not isinstance(item, dict) or "lc" in item or "parts" in item:
        return True
    kind = item.get("type")
    if kind is not None and kind not in ("message", "reasoning", *_RESPONSES_CALLS):
        return True
    if str(item.get("role") or "user").lower() in ("tool", "function"):
        return True
    content = item.get("content")
    return isinstance(content, list) and any(
        isinstance(block, dict) and block.get("type") == "tool_result" for block in content
    )


#: Responses API items that are the model's own calls (never a tool's result).
_RESPONSES_CALLS = ("function_call", "custom_tool_call", "local_shell_call", "tool_search_call",
                    "web_search_call", "image_generation_call", "mcp_call")  # fmt: skip


def _add_end(
    ends: LightEnds, end: dict[str, Any], raw: bytes, where: tuple[int, int, int]
) -> None:
    """Add a ``span_end`` made from the source line ``raw`` (``end`` without its source): as
    the spill's JSON line with the line copied in, or parsed when a string of it could be
    taken for a huge string's reference."""
    offset, length, line = where
    ends.span_ids.append(end["span_id"])
    ends.offsets.append(offset)
    ends.lengths.append(length)
    ends.lines.append(line)
    ends.end.append(epoch_of(end.get("end_time")))
    ends.statuses.append(end.get("status") or "ok")
    ends.errors.append(bool(end.get("error")))
    if b"\\u0000" in raw:
        end["source"] = orjson.loads(raw)
        ends.records.append(end)
        return
    head = orjson.dumps(end)
    ends.records.append(b"[%d,%d,%s,\"source\":%s}]" % (offset, line, head[:-1], raw))


class ApiExchangeLight:
    """:class:`~trace_tui.core.formats.base.LightDecoder` of API exchange lines (see module
    doc)."""

    def __init__(self) -> None:
        self._settled: tuple[LightSteps, list[str], dict[str, str]] | None = None

    def decode(self, data: bytes, offset: int, first_line: int, mapper: Any) -> LightSteps | None:
        """Index facts of complete lines ``data`` at ``offset``, or ``None`` to decline."""
        if not isinstance(mapper, ApiExchangeMapper):
            return None
        if len(data) >= 20 and _TWENTY_DIGITS in data.translate(_DIGIT_TABLE):
            return None
        pending = _Pending(mapper.pending())
        chunk = _Chunk()
        at, line, n_lines = 0, first_line, 0
        try:
            while at < len(data):
                cut = data.index(b"\n", at)
                raw = data[at:cut]
                if raw[:1] in _WHITESPACE:  # (an empty line too: b"" is in any bytes)
                    return None  # a blank line, or one that may hold two values: the mapper
                where = (offset + at, cut - at, line)
                if not self._line(raw, where, pending, chunk):
                    return None
                at, line, n_lines = cut + 1, line + 1, n_lines + 1
        except _ERRORS:
            return None
        except Exception:  # the mapping's code raised: the mapper reports it on that line
            return None
        steps = chunk.steps(n_lines)
        self._settled = (steps, list(pending.ended), pending.added)
        return steps

    def _line(
        self, raw: bytes, where: tuple[int, int, int], pending: _Pending, chunk: _Chunk
    ) -> bool:
        """Add one line's steps and ends; ``False`` to decline the chunk."""
        exchange = _DECODE_EXCHANGE(raw)
        method, url = exchange.method, exchange.url
        if (method is not UNSET and type(method) is not str) or (
            url is not UNSET and type(url) is not str
        ):
            return False
        request = exchange.request_body
        if request is UNSET:
            request = None
        response = exchange.response_body
        stub = None
        if request is not None:  # what guess_provider looks at: which keys are there
            stub = {k: True for k in ("messages", "input", "max_tokens", "system")
                    if getattr(request, k) is not UNSET}  # fmt: skip
        start, end = exchange_times(exchange.timestamp, exchange.elapsed_ms)
        times = (_seconds(start), _seconds(end))
        _, length, line = where
        provider = guess_provider(None if url is UNSET else url, stub, response)
        if provider is None:
            name = f"{'HTTP' if method is UNSET else method} {'' if url is UNSET else url}"
            chunk.rows.append((*where, f"wire-{line}", "other", name, "ok", *times, _NO_TOKENS))
            return True
        if not self._ends(raw, where, provider, request, start, pending, chunk):
            return False
        facts = _response_facts(provider, response)
        if facts is None:
            attrs = response_attributes(provider, response)
            facts = (attrs.get("gen_ai.response.model"), tuple(attrs.get(k) for k in _USAGE_KEYS),
                     tool_calls(attrs.get("gen_ai.output.messages") or []))  # fmt: skip
        response_model, tokens, calls = facts
        model = request.model if request is not None else None
        model = model or response_model or "model"
        error = exchange_error(exchange.response_status, response)
        rows = chunk.rows
        rows.append((*where, f"wire-{line}", "llm", f"chat {model}", "error" if error else "ok",
                     *times, tokens))  # fmt: skip
        for k, call in enumerate(calls, 1):
            tool_id = f"wire-{line}-tool-{k}"
            rows.append((*where, tool_id, "tool", str(call.get("name") or "tool"), "running",
                         times[1], None, _NO_TOKENS))  # fmt: skip
            call_id = call.get("id")
            if call_id:
                if type(call_id) is not str or not _plain(call_id):
                    return False  # a later request's bytes could not tell its result
                pending.add(call_id, tool_id)
        return pending.waiting() <= MAX_PENDING

    def _ends(
        self,
        raw: bytes,
        where: tuple[int, int, int],
        provider: str,
        request: _Body | None,
        start: float | None,
        pending: _Pending,
        chunk: _Chunk,
    ) -> bool:
        """The ``span_end`` records of the waiting calls whose results this request sends."""
        if request is None:
            return True
        keys = pending.keys()
        if not keys:
            return True
        if len(keys) > MAX_PENDING or not all(map(_plain, keys)):  # (mapped lines added them)
            return False
        escaped = _ESCAPED_PLAIN.search(raw) is not None
        needles = [n for n in map(str.encode, keys) if escaped or n in raw]
        if not needles:
            return True
        items = request.input if provider == "openai.responses" else request.messages
        if type(items) is not list:
            return True  # none, or a plain prompt
        texts = list(map(bytes, items))
        if not escaped:  # only the items that hold a waiting id can end its call
            if len(needles) == 1:
                needle = needles[0]
                texts = [t for t in texts if needle in t]
            else:
                search = re.compile(b"|".join(map(re.escape, needles))).search
                texts = [t for t in texts if search(t)]
        for text in texts:
            value = _DECODE_ANY(text)
            if not _may_hold_tool_message(value):
                continue
            for message in normalize_messages([value]):
                if message.get("role") != "tool":
                    continue
                tool_id = pending.pop(str(message.get("tool_call_id")))
                if tool_id is not None:
                    _add_end(chunk.ends, tool_result_end(tool_id, message, start, None), raw,
                             where)  # fmt: skip
        return True

    def accept(self, steps: LightSteps, mapper: Any) -> None:
        """Bring the mapper's waiting tool calls to where these lines leave them."""
        settled = self._settled
        if settled is None or settled[0] is not steps:
            raise ValueError("accept() of steps this decoder did not just decode")
        mapper.settle(settled[1], settled[2])
        self._settled = None

    def invented(self) -> frozenset[str]:
        """Words of the exchange mapping's own (every string constant of its modules)."""
        return invented_words(*_MAPPING_MODULES)

    def shown(self, value: Any, position: int, holds: Callable[[str], bool]) -> bool:
        """Never sure without mapping: search maps the exchange again."""
        return False

    def remap(self, value: Any, position: int, line: int) -> dict[str, Any] | None:
        """The native record of the ``position``-th step the exchange on line ``line`` makes
        (its ``llm`` or ``other`` step, then its tool calls), as the mapper emitted it."""
        if not isinstance(value, dict):
            return None
        start, end = exchange_times(value.get("timestamp"), value.get("elapsed_ms"))
        provider = guess_provider(
            value.get("url"), value.get("request_body"), value.get("response_body")
        )
        if provider is None:
            return other_span(value, line, start, end) if position == 0 else None
        request = request_attributes(provider, value.get("request_body"))
        spans = exchange_spans(value, line, provider, request, start, end)
        return spans[position] if 0 <= position < len(spans) else None


#: The modules whose code writes an exchange's native records.
_MAPPING_MODULES = (
    "trace_tui.core.formats.importers.api_exchanges_mapper",
    "trace_tui.core.formats.shared.provider_bodies",
    "trace_tui.core.formats.shared.messages",
    "trace_tui.core.formats.shared.common",
    "trace_tui.core.formats.shared.coerce",
    "trace_tui.core.model.step",
)
