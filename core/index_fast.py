"""The fast path for indexing native traces: typed partial decoding, columns filled in bulk.

Each line is decoded by msgspec into a :class:`LightRecord` holding only the fields the index
needs (the payload is skipped, not built), and a batch of records is turned into columns with
C-level iterators (``map``, ``compress``, ``array.extend``) instead of a Python loop per step.

The fast path only handles the common case: every line an object of type ``span``,
``span_start`` or ``span_end`` with well-typed light fields and new span ids. Anything else
(a ``run`` record, a corrupt line, a duplicate id, an odd status type...) makes
:func:`index_batch` return ``False`` *before touching the columns*, and the caller indexes that
batch line by line with the builder's rules (:meth:`StepColumns.add_record`). A test feeds the
same traces to both paths and compares every column.

Known, documented divergence: times are parsed as RFC 3339 by msgspec, which also accepts a
lowercase ``t``/``z`` (the builder's ``fromisoformat`` does not) and rounds, rather than
truncates, digits beyond microseconds.

msgspec is optional: without it :data:`AVAILABLE` is false and every batch takes the slow path.
"""

from __future__ import annotations

import math
from array import array
from datetime import UTC, datetime
from itertools import compress, repeat
from operator import add, attrgetter, eq, ge, is_, or_, truth
from typing import Any

import orjson

from trace_tui.core.index_columns import (
    FLAG_ERROR,
    KIND_CODES,
    MAX_NAMES,
    NO_TOKENS,
    STATUS_CODES,
    TOKEN_ATTRS,
    StepColumns,
    record_preview,
    token_value,
)
from trace_tui.core.model import Problem

try:
    import msgspec
except ImportError:  # msgspec is an optional speed-up; the slow path is complete without it
    msgspec = None  # type: ignore[assignment]

AVAILABLE = msgspec is not None
NAN = math.nan
_STARTS = frozenset(("span", "span_start"))
_STATUS_NORMAL = {"ok": "ok", "error": "error", "unset": "unset"}
_SPAN_STATUS = {s: STATUS_CODES[s or "unset"] for s in ("ok", "error", "unset", None)}
_STR_OR_NONE = frozenset((str, type(None)))
_FLOAT_OR_NONE = frozenset((float, type(None)))
_DATETIME_ONLY = frozenset((datetime,))
_DATETIME_OR_NONE = frozenset((datetime, type(None)))
_NONE_TO_NAN: dict[Any, float] = {None: NAN}
# A moment no trace records (1 microsecond into year 1), standing in for "no time" so a
# batch with some missing times still converts in one C-level pass.
_SENTINEL_TIME = datetime(1, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
_NONE_TO_SENTINEL: dict[Any, datetime] = {None: _SENTINEL_TIME}
_SENTINEL_TO_NAN: dict[float, float] = {_SENTINEL_TIME.timestamp(): NAN}


def _start_status_table() -> dict[tuple[str, str | None, bool], int]:
    """Status code of a new step by (record type, status field, has error), as the builder."""
    table: dict[tuple[str, str | None, bool], int] = {}
    for rtype in _STARTS:
        for status in ("ok", "error", "unset", None):
            for has_error in (False, True):
                value = status or ("unset" if rtype == "span" else "running")
                if has_error and value not in ("error", "running"):
                    value = "error"
                table[(rtype, status, has_error)] = STATUS_CODES[value]
    return table


_START_STATUS = _start_status_table()

if msgspec is not None:
    _UNSET: Any = msgspec.UNSET

    class LightAttrs(msgspec.Struct, gc=False):
        """The only attributes the index reads: token usage."""

        input_tokens: Any = msgspec.field(default=msgspec.UNSET, name=TOKEN_ATTRS[0])
        output_tokens: Any = msgspec.field(default=msgspec.UNSET, name=TOKEN_ATTRS[1])
        cache_read: Any = msgspec.field(default=msgspec.UNSET, name=TOKEN_ATTRS[2])
        cache_write: Any = msgspec.field(default=msgspec.UNSET, name=TOKEN_ATTRS[3])

    class LightRecord(msgspec.Struct, gc=False):
        """The light fields of one native record; everything else is skipped unparsed."""

        type: Any = None
        span_id: Any = None
        parent_id: Any = None
        kind: Any = None
        name: Any = None
        start_time: datetime | float | None = None
        end_time: datetime | float | None = None
        status: Any = None
        error: Any = None
        attributes: LightAttrs | None = None

    _DECODE = msgspec.json.Decoder(LightRecord).decode
    _DECODE_ERRORS: tuple[type[BaseException], ...] = (
        msgspec.DecodeError,
        msgspec.ValidationError,
        RecursionError,
        UnicodeDecodeError,
    )
    _EMPTY_ATTRS = LightAttrs()
    _UNSET_TO_NONE = {msgspec.UNSET: NO_TOKENS}
    _UNSET_ONLY = frozenset((type(msgspec.UNSET),))
    _INT_OR_UNSET = frozenset((int, type(msgspec.UNSET)))

_GET_TYPE = attrgetter("type")
_GET_FIELDS = tuple(
    map(
        attrgetter,
        (
            "span_id",
            "parent_id",
            "kind",
            "name",
            "status",
            "error",
            "start_time",
            "end_time",
            "attributes",
        ),
    )
)
_TOKEN_GET = tuple(
    attrgetter(n) for n in ("input_tokens", "output_tokens", "cache_read", "cache_write")
)


def index_batch(
    cols: StepColumns,
    lines: list[bytes],
    offsets: list[int],
    first_line: int,
    changed: set[int] | None = None,
) -> bool:
    """Index complete, newline-free ``lines`` in bulk; ``False`` leaves ``cols`` untouched.

    ``offsets[k]`` is where ``lines[k]`` starts and ``first_line`` is the 1-based number of
    ``lines[0]``. On ``True`` every step and every ``span_end`` of the batch is in ``cols``,
    and the indices of older steps a ``span_end`` updated are added to ``changed``.
    """
    if msgspec is None or cols.collided_ids or (offsets and offsets[0] == 0):
        return False
    try:
        recs = list(map(_DECODE, lines))
    except _DECODE_ERRORS:
        return False
    try:
        plan = _plan(cols, recs)
    except TypeError:  # an unhashable value where a string was expected
        return False
    if plan is None:
        return False
    _apply_starts(cols, plan, lines, offsets, first_line)
    if plan["is_end"] is not None:
        _apply_ends(cols, recs, lines, plan["is_end"], offsets, first_line, changed)
    cols.count += len(plan["hashes"])
    return True


def _plan(cols: StepColumns, recs: list[Any]) -> dict[str, Any] | None:
    """Validate the batch and compute the new steps' columns, or ``None`` for the slow path."""
    types = list(map(_GET_TYPE, recs))
    is_start = list(map(_STARTS.__contains__, types))
    is_end = list(map(eq, types, repeat("span_end"))) if "span_end" in types else None
    if False in is_start and (is_end is None or not all(map(or_, is_start, is_end))):
        return None  # run, branch or unknown records: slow path
    records = list(compress(recs, is_start))
    if not records:
        return _empty_plan(is_start, is_end)
    sids, parents, kinds, names, statuses, errors, starts, ends, attrs = (
        list(map(get, records)) for get in _GET_FIELDS
    )
    if set(map(type, sids)) - {str} or "" in sids:
        return None
    hashes = list(map(hash, sids))
    if len(set(hashes)) != len(hashes) or not cols.ids.keys().isdisjoint(hashes):
        return None
    kind_codes = list(map(KIND_CODES.get, kinds))
    if (
        None in kind_codes
        or set(map(type, names)) - {str}
        or "" in names
        or "" in parents
        or set(map(type, parents)) - _STR_OR_NONE
        or set(map(type, errors)) - _STR_OR_NONE
    ):
        return None
    has_error = list(map(truth, errors))
    if None in attrs:
        attrs = [_EMPTY_ATTRS if a is None else a for a in attrs]
    tokens = [_token_column(list(map(get, attrs))) for get in _TOKEN_GET]
    start_col, end_col = _seconds(starts), _seconds(ends)
    if None in tokens or start_col is None or end_col is None:
        return None
    return {
        "is_start": is_start,
        "is_end": is_end,
        "hashes": hashes,
        "kinds": kind_codes,
        "names": names,
        "parents": parents,
        "has_error": has_error,
        "tokens": tokens,
        "status": _status_codes(list(compress(types, is_start)), statuses, has_error),
        "start": start_col,
        "end": end_col,
    }


def _empty_plan(is_start: list[bool], is_end: list[bool] | None) -> dict[str, Any]:
    return {
        "is_start": is_start,
        "is_end": is_end,
        "hashes": [],
        "kinds": [],
        "names": [],
        "parents": [],
        "has_error": [],
        "tokens": [array("i")] * 4,
        "status": [],
        "start": array("d"),
        "end": array("d"),
    }


def _status_codes(types: list[str], statuses: list[Any], has_error: list[bool]) -> list[int]:
    """Each new step's status code, by the builder's rules (one C-level pass when simple)."""
    normal = list(map(_STATUS_NORMAL.get, statuses))
    if True not in has_error and "span_start" not in types:
        return list(map(_SPAN_STATUS.__getitem__, normal))
    return list(map(_START_STATUS.__getitem__, zip(types, normal, has_error, strict=False)))


def _token_column(values: list[Any]) -> array[int] | None:
    """Token counts for a column, ``NO_TOKENS`` where unset; ``None`` if any needs care."""
    kinds = set(map(type, values))
    if kinds == _UNSET_ONLY:
        return array("i", repeat(NO_TOKENS, len(values)))
    if kinds - _INT_OR_UNSET or NO_TOKENS in values:
        return None
    try:
        return array("i", map(_UNSET_TO_NONE.get, values, values))
    except OverflowError:  # beyond 32 bits: the slow path keeps it exactly
        return None


def _seconds(values: list[Any]) -> array[float] | None:
    """Seconds since the epoch for decoded times (``NaN`` for none), as ``parse_time``."""
    kinds = set(map(type, values))
    if kinds == _DATETIME_ONLY:
        return array("d", map(datetime.timestamp, values))
    if kinds == _DATETIME_OR_NONE:
        stamps = list(map(datetime.timestamp, map(_NONE_TO_SENTINEL.get, values, values)))
        return array("d", map(_SENTINEL_TO_NAN.get, stamps, stamps))
    if not kinds - _FLOAT_OR_NONE:
        return array("d", map(_NONE_TO_NAN.get, values, values))
    return array("d", map(_one_second, values))


def _one_second(value: Any) -> float:
    if value is None:
        return NAN
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def _apply_starts(
    cols: StepColumns, plan: dict[str, Any], lines: list[bytes], offsets: list[int], first: int
) -> None:
    """Append the planned new steps to every column (parents resolved after ids are in)."""
    is_start, hashes = plan["is_start"], plan["hashes"]
    base = cols.count
    indices = range(base, base + len(hashes))
    cols.ids.update(zip(hashes, indices, strict=False))
    parents = plan["parents"]
    pidx = list(map(cols.ids.get, map(hash, parents), repeat(-1)))
    if None in parents:
        for k in compress(range(len(parents)), map(is_, parents, repeat(None))):
            pidx[k] = -1
    if any(map(ge, pidx, indices)):  # a parent that appears later, or itself: an orphan now
        pidx = [p if p < i else -1 for p, i in zip(pidx, indices, strict=False)]
    cols.offset.extend(compress(offsets, is_start))
    cols.length.extend(compress(map(len, lines), is_start))
    cols.line.extend(compress(range(first, first + len(lines)), is_start))
    cols.end_offset.extend(repeat(-1, len(hashes)))
    cols.parent.extend(pidx)
    depth = cols.depth
    depth.extend(map(add, map(depth.__getitem__, map(add, pidx, repeat(1))), repeat(1)))
    cols.name.extend(_name_codes(cols, plan["names"], base))
    cols.kind.extend(plan["kinds"])
    cols.status.extend(plan["status"])
    cols.flags.extend(map(int, plan["has_error"]))
    cols.start.extend(plan["start"])
    cols.end.extend(plan["end"])
    for column, values in zip(cols.tokens, plan["tokens"], strict=False):
        column.extend(values)


def _name_codes(cols: StepColumns, names: list[str], base: int) -> list[int]:
    codes = list(map(cols.name_ids.get, names))
    if None in codes:
        for k in compress(range(len(codes)), map(is_, codes, repeat(None))):
            code = cols.intern(names[k])
            if code == MAX_NAMES:
                cols.loose_names[base + k] = names[k]
            codes[k] = code
    return codes  # type: ignore[return-value]


def _apply_ends(
    cols: StepColumns,
    recs: list[Any],
    lines: list[bytes],
    is_end: list[bool],
    offsets: list[int],
    first: int,
    changed: set[int] | None,
) -> None:
    """Merge each ``span_end`` of the batch into its step, in file order (builder's rules)."""
    for k in compress(range(len(recs)), is_end):
        rec, offset, line = recs[k], offsets[k], first + k
        span_id = rec.span_id
        index = cols.index_of(span_id) if isinstance(span_id, str) else -1
        if index < 0 or cols.line[index] > line:
            cols.add_problem(_unknown_end(span_id, lines[k], offset, line))
            continue
        _merge_end(cols, index, rec, offset)
        if changed is not None and index < cols.count:
            changed.add(index)


def _merge_end(cols: StepColumns, index: int, rec: Any, offset: int) -> None:
    previous = cols.end_offset[index]
    if previous >= 0:
        cols.extra_ends.setdefault(index, []).append(previous)
    cols.end_offset[index] = offset
    end = _one_second(rec.end_time)
    if end == end and end:  # parse_time(...) or the old end time
        cols.end[index] = end
    new_error = not (rec.error is None or rec.error == "")
    error = new_error or bool(cols.flags[index] & FLAG_ERROR)
    cols.flags[index] = FLAG_ERROR if error else 0
    status = _STATUS_NORMAL.get(rec.status) if isinstance(rec.status, str) else None
    cols.status[index] = STATUS_CODES[status or ("error" if error else "ok")]
    attrs = rec.attributes
    if attrs is not None:
        for column, get in enumerate(_TOKEN_GET):
            value = get(attrs)
            if value is not _UNSET:
                cols._set_tokens(index, column, token_value(value))


def _unknown_end(span_id: Any, data: bytes, offset: int, line: int) -> Problem:
    """The same problem the builder reports, with the same preview of the record."""
    return Problem(
        line,
        offset,
        f"span_end for unknown span_id {span_id!r}",
        record_preview(orjson.loads(data)),
    )
