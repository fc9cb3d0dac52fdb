"""The fast path for indexing native traces: a chunk decoded in C, columns filled in bulk.

Indexing a chunk of complete lines has two halves:

* :func:`decode_chunk` is *context-free*: msgspec's ``decode_lines`` turns the whole chunk into
  :class:`LightRecord` structs in C (only the light fields; payloads are skipped, never built),
  the field types (``Literal`` kinds, statuses and record types, ``int`` token counts, RFC 3339
  times) are validated by msgspec as it decodes, and the result is a :class:`DecodedChunk` of
  plain lists and arrays. It needs no index state, so it can run anywhere (a worker process).
* :func:`apply_chunk` merges a decoded chunk into :class:`StepColumns` with C-level iterators
  (``map``, ``compress``, ``array.extend``): span ids become indices, parents and depths are
  resolved, ``span_end`` records are merged into their steps.

The fast path only handles the common case: every line one object of type ``span``,
``span_start`` or ``span_end`` with well-typed light fields and new span ids. Anything else
(a ``run`` record, a corrupt or blank line, a duplicate id, an odd status...) makes
:func:`decode_chunk` return ``None`` or :func:`apply_chunk` return ``False`` *before touching
the columns*, and the caller indexes those lines with the builder's rules
(:meth:`StepColumns.add_record`). A test feeds the same traces to both paths and compares every
column.

Known, documented divergence: times are parsed as RFC 3339 by msgspec, which also accepts a
lowercase ``t``/``z`` (the builder's ``fromisoformat`` does not) and rounds, rather than
truncates, digits beyond microseconds.

msgspec is optional: without it :data:`AVAILABLE` is false and every line takes the slow path.
"""

from __future__ import annotations

import gc
import math
from array import array
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import compress, repeat
from operator import add, and_, eq, ge, is_not, lt, ne, not_, or_, sub, truth
from typing import Any, Literal

import orjson

from trace_tui.core.index.columns import (
    FLAG_ERROR,
    KIND_CODES,
    MAX_NAMES,
    NO_TOKENS,
    ORIGIN_RECORD,
    STATUS_CODES,
    TOKEN_ATTRS,
    TOKEN_MAX,
    StepColumns,
    record_preview,
    token_value,
)
from trace_tui.core.model.run import Problem

try:
    import msgspec
except ImportError:  # msgspec is an optional speed-up; the slow path is complete without it
    msgspec = None  # type: ignore[assignment]

AVAILABLE = msgspec is not None
NAN = math.nan
#: Bytes a line may not start with on the fast path: ``decode_lines`` skips a blank line, so
#: with one a chunk's record count could match its line count while a line held two records.
_WHITESPACE = b" \t\r\n"
_STATUS_CODE = {s: STATUS_CODES[s or "unset"] for s in ("ok", "error", "unset", None)}
#: :func:`_link` goes step by step when more than one step in this many is an event.
EVENTS_RATIO = 8
#: A token count the ``span_end`` did not carry (the ints themselves are never -2**63).
END_UNSET = -(2**63)


def _start_status_table() -> dict[tuple[str, str | None, bool], int]:
    """Status code of a new step by (record type, status field, has error), as the builder."""
    table: dict[tuple[str, str | None, bool], int] = {}
    for rtype in ("span", "span_start"):
        for status in ("ok", "error", "unset", None):
            for has_error in (False, True):
                value = status or ("unset" if rtype == "span" else "running")
                if has_error and value not in ("error", "running"):
                    value = "error"
                table[(rtype, status, has_error)] = STATUS_CODES[value]
    return table


_START_STATUS = _start_status_table()
#: Status code after a ``span_end`` by (its status field, the step has an error now).
_END_STATUS = {
    (status, error): STATUS_CODES[status or ("error" if error else "ok")]
    for status in ("ok", "error", "unset", None)
    for error in (False, True)
}

if msgspec is not None:
    _UNSET: Any = msgspec.UNSET
    _Tokens = int | msgspec.UnsetType

    class LightAttrs(msgspec.Struct, gc=False):
        """The only attributes the index reads: token usage (integers, or absent)."""

        input_tokens: _Tokens = msgspec.field(default=msgspec.UNSET, name=TOKEN_ATTRS[0])
        output_tokens: _Tokens = msgspec.field(default=msgspec.UNSET, name=TOKEN_ATTRS[1])
        cache_read: _Tokens = msgspec.field(default=msgspec.UNSET, name=TOKEN_ATTRS[2])
        cache_write: _Tokens = msgspec.field(default=msgspec.UNSET, name=TOKEN_ATTRS[3])

    class LightRecord(msgspec.Struct, gc=False):
        """The light fields of one native record; everything else is skipped unparsed."""

        type: Literal["span", "span_start", "span_end"]
        span_id: str
        parent_id: str | None = None
        kind: Literal["agent", "llm", "tool", "retrieval", "other", None] = None
        name: str | None = None
        start_time: datetime | float | None = None
        end_time: datetime | float | None = None
        status: Literal["ok", "error", "unset", None] = None
        error: str | None = None
        attributes: LightAttrs | None = None

    _DECODE_LINES = msgspec.json.Decoder(LightRecord).decode_lines
    _DECODE_ERRORS: tuple[type[BaseException], ...] = (
        msgspec.DecodeError,
        msgspec.ValidationError,
        RecursionError,
        UnicodeDecodeError,
        OverflowError,
    )
    _EMPTY_ATTRS = LightAttrs()
    _UNSET_TO_NO_TOKENS = {msgspec.UNSET: NO_TOKENS}
    _UNSET_TO_END_UNSET = {msgspec.UNSET: END_UNSET}


def _getter(name: str) -> Any:
    from operator import attrgetter

    return attrgetter(name)


_GET_TYPE = _getter("type")
_GET = {
    name: _getter(name)
    for name in (
        "span_id",
        "parent_id",
        "kind",
        "name",
        "status",
        "error",
        "start_time",
        "end_time",
        "attributes",
    )
}
_TOKEN_GET = tuple(
    _getter(n) for n in ("input_tokens", "output_tokens", "cache_read", "cache_write")
)


@dataclass(slots=True)
class DecodedChunk:
    """The light facts of a chunk of lines, with no reference to any index (picklable).

    ``starts``: one entry per new step (``span``/``span_start``), in file order; ``ends``:
    one per ``span_end``. Offsets are absolute; ``line`` numbers are 1-based.
    """

    n_lines: int
    offsets: array[int]
    lengths: array[int]
    lines: array[int]
    span_ids: list[str]
    parent_ids: list[str | None]
    kinds: bytes
    names: list[str]
    status: bytes
    flags: bytes
    start: array[float]
    end: array[float]
    tokens: list[array[int]]
    ends: EndRecords | None


@dataclass(slots=True)
class EndRecords:
    """The ``span_end`` records of a chunk, decoded (tokens ``END_UNSET`` where absent)."""

    span_ids: list[str]
    offsets: list[int]
    lines: list[int]
    lengths: list[int]
    end: list[float]
    status: list[str | None]
    has_error: list[bool]
    tokens: list[list[int]]


# ----------------------------------------------------------------- decoding (no state)
def decode_chunk(data: bytes, offset: int, first_line: int) -> DecodedChunk | None:
    """Decode complete lines (``data`` ends with ``\\n``) found at ``offset``, or ``None``.

    ``None`` means "not the common case somewhere in this chunk": the caller splits it and
    takes the slow path where needed. Nothing here depends on the index. The garbage
    collector is paused meanwhile: a chunk makes a hundred thousand small containers, none in
    a cycle, and collections triggered by them cost about a sixth of the time.
    """
    with gc_paused():
        return _decode_chunk(data, offset, first_line)


@contextmanager
def gc_paused() -> Iterator[None]:
    """The garbage collector off for a block (back on after it if it was on)."""
    paused = gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _decode_chunk(data: bytes, offset: int, first_line: int) -> DecodedChunk | None:
    if msgspec is None or offset == 0 or not data.endswith(b"\n"):
        return None  # offset 0 may carry a BOM (and usually the run record)
    try:
        recs = _DECODE_LINES(data)
    except _DECODE_ERRORS:
        return None
    newlines = newline_positions(data)
    starts = [0, *map(add, newlines[:-1], repeat(1))]
    firsts = bytes(map(data.__getitem__, starts))
    if len(recs) != len(newlines) or len(firsts.translate(None, _WHITESPACE)) != len(firsts):
        return None  # a blank line, or one starting with blanks (maybe two records on a line)
    try:
        return _columns(recs, starts, newlines, offset, first_line)
    except (TypeError, OverflowError):  # an unhashable value, a count beyond 32 bits
        return None


def newline_positions(data: bytes) -> list[int]:
    """The position of every newline in ``data`` (a ``find`` loop: memchr-fast)."""
    out: list[int] = []
    append, find = out.append, data.find
    pos = find(b"\n")
    while pos >= 0:
        append(pos)
        pos = find(b"\n", pos + 1)
    return out


def _columns(
    recs: list[Any], starts: list[int], newlines: list[int], offset: int, first_line: int
) -> DecodedChunk | None:
    """Turn decoded records into columns (``None`` when a value needs the builder)."""
    types = list(map(_GET_TYPE, recs))
    is_end = list(map(eq, types, repeat("span_end")))
    is_start = list(map(not_, is_end)) if True in is_end else [True] * len(recs)
    records = list(compress(recs, is_start)) if True in is_end else recs
    sids, parents, kinds, names, statuses, errors, st, en, attrs = (
        list(map(_GET[f], records))
        for f in ("span_id", "parent_id", "kind", "name", "status", "error")
        + ("start_time", "end_time", "attributes")
    )
    if "" in sids or None in kinds:
        return None  # the builder reports these
    if "" in parents:
        parents = [p or None for p in parents]
    if None in names or "" in names:
        names = [n or k for n, k in zip(names, kinds, strict=True)]
    has_error = list(map(truth, errors))
    if None in attrs:
        attrs = [_EMPTY_ATTRS if a is None else a for a in attrs]
    start_col, end_col = _seconds(st), _seconds(en)
    tokens = [_token_column(list(map(get, attrs))) for get in _TOKEN_GET]
    if None in tokens:
        return None
    line_numbers = range(first_line, first_line + len(recs))
    begin = list(map(add, starts, repeat(offset)))
    length = list(map(sub, newlines, starts))
    return DecodedChunk(
        n_lines=len(recs),
        offsets=array("q", compress(begin, is_start)),
        lengths=array("I", compress(length, is_start)),
        lines=array("I", compress(line_numbers, is_start)),
        span_ids=sids,
        parent_ids=parents,
        kinds=bytes(map(KIND_CODES.__getitem__, kinds)),
        names=names,
        status=_status_codes(list(compress(types, is_start)), statuses, has_error),
        flags=bytes(has_error),
        start=start_col,
        end=end_col,
        tokens=tokens,  # type: ignore[arg-type]
        ends=_end_records(recs, is_end, begin, length, line_numbers) if True in is_end else None,
    )


def _status_codes(types: list[str], statuses: list[Any], has_error: list[bool]) -> bytes:
    """Each new step's status code, by the builder's rules (one C-level pass when simple)."""
    if True not in has_error and "span_start" not in types:
        return bytes(map(_STATUS_CODE.__getitem__, statuses))
    return bytes(map(_START_STATUS.__getitem__, zip(types, statuses, has_error, strict=True)))


def _token_column(values: list[Any]) -> array[int] | None:
    """Token counts for a column, ``NO_TOKENS`` where unset; ``None`` if any needs care."""
    if NO_TOKENS in values:
        return None
    return array("i", map(_UNSET_TO_NO_TOKENS.get, values, values))


def _seconds(values: list[Any]) -> array[float]:
    """Seconds since the epoch for decoded times (``NaN`` for none), as ``times.epoch_of``."""
    if None in values:
        present = list(map(is_not, values, repeat(None)))
        out = array("d", repeat(NAN, len(values)))
        _scatter(
            out, compress(range(len(values)), present), _seconds(list(compress(values, present)))
        )
        return out
    try:
        return array("d", map(datetime.timestamp, values))  # the common case: all datetimes
    except TypeError:  # numbers (or a mix)
        return array("d", map(_one_second, values))


def _one_second(value: Any) -> float:
    if value is None:
        return NAN
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def _end_records(
    recs: list[Any], is_end: list[bool], begin: list[int], length: list[int], lines: range
) -> EndRecords:
    ends = list(compress(recs, is_end))
    attrs = [_EMPTY_ATTRS if r.attributes is None else r.attributes for r in ends]
    return EndRecords(
        span_ids=[r.span_id for r in ends],
        offsets=list(compress(begin, is_end)),
        lines=list(compress(lines, is_end)),
        lengths=list(compress(length, is_end)),
        end=[_one_second(r.end_time) for r in ends],
        status=[r.status for r in ends],
        has_error=[bool(r.error) for r in ends],
        tokens=[
            list(map(_UNSET_TO_END_UNSET.get, map(get, attrs), map(get, attrs)))
            for get in _TOKEN_GET
        ],
    )


# ----------------------------------------------------------------- merging (index state)
def apply_chunk(
    cols: StepColumns,
    chunk: DecodedChunk,
    data: bytes,
    base: int,
    changed: set[int],
    origin: int = ORIGIN_RECORD,
) -> bool:
    """Merge a decoded chunk into ``cols``; ``False`` (``cols`` untouched) for the slow path.

    ``data`` holds the chunk's bytes from file offset ``base`` (for problem previews). Indices
    of older steps that changed (a ``span_end`` merged, a child adopted) go to ``changed``.
    """
    if cols.collided_ids:
        return False
    hashes = list(map(hash, chunk.span_ids))
    if not cols.ids.extend_new(hashes):  # a repeated id: the slow path's to report
        return False
    first = cols.count
    indices = range(first, first + len(hashes))
    cols.offset.extend(chunk.offsets)
    cols.length.extend(chunk.lengths)
    cols.line.extend(chunk.lines)
    cols.end_offset.extend(repeat(-1, len(hashes)))
    cols.name.extend(_name_codes(cols, chunk.names, first))
    cols.kind.extend(chunk.kinds)
    cols.status.extend(chunk.status)
    cols.flags.extend(chunk.flags)
    cols.origin.extend(repeat(origin, len(hashes)))
    cols.start.extend(chunk.start)
    cols.end.extend(chunk.end)
    for column, values in zip(cols.tokens, chunk.tokens, strict=True):
        column.extend(values)
    _link(cols, chunk.parent_ids, hashes, indices, changed)
    if chunk.ends is not None:
        _apply_ends(cols, chunk.ends, data, base, changed)
    cols.count += len(hashes)
    return True


def _link(
    cols: StepColumns,
    parents: list[str | None],
    hashes: list[int],
    indices: range,
    changed: set[int],
) -> None:
    """Parents and depths of the new steps, exactly as :meth:`StepColumns.link` step by step.

    In C-level passes whatever the step-by-step rules decide without looking at the tree:
    a step whose parent arrived earlier and is not inside a waiting subtree, and a step whose
    parent has not arrived (it waits at the root, as children written before their parent
    do). The *events* go through :meth:`StepColumns.link` one by one, in file order: a step
    that adopts waiting children, and a step whose parent may be inside a waiting subtree.
    """
    waiting, pending = cols.waiting, cols.pending
    first, n = indices.start, len(parents)
    parent_hashes = list(map(hash, parents))
    pidx = cols.ids.get_many(parent_hashes)
    named = list(map(truth, parents))
    if False in named:  # no parent id (None or empty): a root
        _scatter(pidx, compress(range(n), map(not_, named)), repeat(-1))
    forward = list(map(ge, pidx, indices))  # a parent at or after the step: it waits for it
    if not waiting and not pending and True not in forward and (
        not any(map(and_, map(eq, pidx, repeat(-1)), named))
    ):  # the common case: every parent arrived before its child
        _extend_tree(cols, pidx)
        return
    targets = set(compress(pidx, forward))  # steps of this chunk that will adopt
    if targets:
        _scatter(pidx, compress(range(n), forward), repeat(-1))
    waits = list(map(and_, map(eq, pidx, repeat(-1)), named))
    events = targets
    if waiting:
        events.update(compress(indices, map(waiting.__contains__, hashes)))
    if pending:  # a parent (before this chunk) inside a waiting subtree
        events.update(compress(indices, map(pending.__contains__, pidx)))
    inner = list(compress(indices, map(ge, pidx, repeat(first))))  # parent in this chunk
    if inner:  # ... which may be inside a waiting subtree
        maybe_pending = set(compress(indices, waits)) | events
        for index in inner:
            if pidx[index - first] in maybe_pending:
                maybe_pending.add(index)
                events.add(index)
    if len(events) * EVENTS_RATIO > n:  # many: segments would cost more than they save
        for parent_id, own, index in zip(parents, hashes, indices, strict=True):
            cols.link(index, parent_id, own, changed)
        return
    start = 0
    for event in sorted(events):
        at = event - first
        _bulk(cols, pidx[start:at], parent_hashes[start:at], waits[start:at], first + start)
        cols.link(event, parents[at], hashes[at], changed)
        start = at + 1
    _bulk(cols, pidx[start:], parent_hashes[start:], waits[start:], first + start)


def _bulk(
    cols: StepColumns, pidx: list[int], parent_hashes: list[int], waits: list[bool], first: int
) -> None:
    """Steps that need no tree walk: parent and depth, and the waiting ones at the root."""
    _extend_tree(cols, pidx)
    if True not in waits:
        return
    index = list(compress(range(first, first + len(pidx)), waits))
    keys = list(compress(parent_hashes, waits))
    waiting = cols.waiting
    if keys.count(keys[0]) == len(keys):  # all wait for one parent (the usual root-last file)
        waiting.setdefault(keys[0], []).extend(index)
    else:
        for key, child in zip(keys, index, strict=True):
            waiting.setdefault(key, []).append(child)
    cols.pending.update(zip(index, repeat((), len(index)), strict=True))


def _extend_tree(cols: StepColumns, pidx: list[int]) -> None:
    cols.parent.extend(pidx)
    depth = cols.depth  # extend reads depths appended earlier in this same pass
    depth.extend(map(add, map(depth.__getitem__, map(add, pidx, repeat(1))), repeat(1)))


def _name_codes(cols: StepColumns, names: list[str], base: int) -> list[int]:
    codes = list(map(cols.name_ids.get, names, repeat(-1)))  # -1: not interned yet
    if -1 in codes:
        for k in compress(range(len(codes)), map(eq, codes, repeat(-1))):
            code = cols.intern(names[k])
            if code == MAX_NAMES:
                cols.loose_names[base + k] = names[k]
            codes[k] = code
    return codes


def _apply_ends(
    cols: StepColumns, ends: EndRecords, data: bytes, base: int, changed: set[int]
) -> None:
    """Merge each ``span_end`` into its step, in file order (the builder's rules)."""
    if not _scatter_ends(cols, ends, changed):
        _merge_ends(cols, ends, data, base, changed)


#: For a light decoder's ends (:mod:`~trace_tui.core.index.foreign`), merged after its steps.
apply_ends = _apply_ends


def _scatter_ends(cols: StepColumns, ends: EndRecords, changed: set[int]) -> bool:
    """The common case in C-level passes: each end closes a distinct, earlier, open step."""
    idx = cols.ids.get_many(list(map(hash, ends.span_ids)))
    if (
        -1 in idx
        or len(set(idx)) != len(idx)
        or set(map(cols.end_offset.__getitem__, idx)) != {-1}
        or set(map(cols.status.__getitem__, idx)) != {STATUS_CODES["running"]}
        or not all(map(lt, map(cols.line.__getitem__, idx), ends.lines))
    ):
        return False
    token_columns = [_present(idx, values) for values in ends.tokens]
    if None in token_columns or (cols.big_tokens and any(p[0] for p in token_columns if p)):
        return False  # a count beyond 32 bits, or one replacing a big count: one by one
    _scatter(cols.end_offset, idx, ends.offsets)
    timed = list(map(and_, map(eq, ends.end, ends.end), map(truth, ends.end)))
    _scatter(cols.end, compress(idx, timed), compress(ends.end, timed))
    errors = list(
        map(or_, map(and_, map(cols.flags.__getitem__, idx), repeat(FLAG_ERROR)), ends.has_error)
    )
    _scatter(cols.flags, idx, map(int, errors))
    _scatter(cols.status, idx, map(_END_STATUS.__getitem__, zip(ends.status, errors, strict=True)))
    for column, present in zip(cols.tokens, token_columns, strict=True):
        if present is not None and present[0]:
            _scatter(column, *present)
    count = cols.count
    changed.update(compress(idx, map(lt, idx, repeat(count))))
    return True


def _present(idx: list[int], values: list[int]) -> tuple[list[int], list[int]] | None:
    """(indices, counts) of the ends that carry this token count; ``None`` if one is huge."""
    if values.count(END_UNSET) == len(values):
        return [], []
    keep = list(map(ne, values, repeat(END_UNSET)))
    counts = list(compress(values, keep))
    if max(counts) > TOKEN_MAX or min(counts) < -TOKEN_MAX or NO_TOKENS in counts:
        return None
    return list(compress(idx, keep)), counts


def _scatter(column: Any, where: Any, values: Any) -> None:
    """``column[i] = v`` for each pair, in C (``deque(..., maxlen=0)`` drains the map)."""
    deque(map(column.__setitem__, where, values), maxlen=0)


def _merge_ends(
    cols: StepColumns, ends: EndRecords, data: bytes, base: int, changed: set[int]
) -> None:
    """One end at a time: unknown ends, repeated ends, huge counts."""
    for k, span_id in enumerate(ends.span_ids):
        index, offset, line = cols.index_of(span_id), ends.offsets[k], ends.lines[k]
        if index < 0 or cols.line[index] > line:
            raw = data[offset - base : offset - base + ends.lengths[k]]
            cols.add_problem(_unknown_end(span_id, raw, offset, line))
            continue
        if cols.status[index] != STATUS_CODES["running"]:  # a late end: applied, and said
            raw = data[offset - base : offset - base + ends.lengths[k]]
            cols.add_problem(_late_end(span_id, raw, offset, line))
        previous = cols.end_offset[index]
        if previous >= 0:
            cols.extra_ends.setdefault(index, []).append(previous)
        cols.end_offset[index] = offset
        end = ends.end[k]
        if end == end and end:  # epoch_of(...) or the old end time
            cols.end[index] = end
        error = ends.has_error[k] or bool(cols.flags[index] & FLAG_ERROR)
        cols.flags[index] = FLAG_ERROR if error else 0
        cols.status[index] = STATUS_CODES[ends.status[k] or ("error" if error else "ok")]
        for column, values in enumerate(ends.tokens):
            if values[k] != END_UNSET:
                cols._set_tokens(index, column, token_value(values[k]))
        if index < cols.count:
            changed.add(index)


def _late_end(span_id: Any, data: bytes, offset: int, line: int) -> Problem:
    """The builder's problem for a ``span_end`` of a step that had already ended."""
    return Problem(
        line,
        offset,
        f"span_end for span {span_id!r}, which had already ended; applied over it",
        record_preview(orjson.loads(data)),
    )


def _unknown_end(span_id: Any, data: bytes, offset: int, line: int) -> Problem:
    """The same problem the builder reports, with the same preview of the record."""
    return Problem(
        line,
        offset,
        f"span_end for unknown span_id {span_id!r}",
        record_preview(orjson.loads(data)),
    )
