"""Which steps a line of the scanned file belongs to, for :mod:`trace_tui.core.index.byte_search`.

A line that holds the searched bytes is mapped to its steps through the index's offsets: a
step's first record (or source line) by a bisect, a ``span_end`` by its span id, a huge string
held apart in the spill (a blob) through the records that refer to it, and a model call's
messages through the later calls that repeat them without writing them (followers).

A step's records need not be near each other: a ``span_end`` may come much later in the file
(or, for a step mapped from a foreign source line, be spilled), a call's messages may be
chained to earlier records. :func:`window_start` says where a scan must start to see every
record of some steps, :func:`late_steps` which steps still have records after a point.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import compress
from typing import Any

import orjson

from trace_tui.core.index.run_view import IndexedRun, ScanView
from trace_tui.core.index.store import read_line_at


def parts(view: ScanView) -> list[ScanView]:
    """The view, and the view of the steps whose records are in another file."""
    return [view] if view.other is None else [view, view.other]


def step_of(view: ScanView, offset: int, block: bytes, line_start: int, line_end: int) -> int:
    """The step whose record is the line at ``offset`` (its first record or a ``span_end``),
    or -1 (a run record, a corrupt line, a line not indexed yet)."""
    cols, count = view.cols, view.count
    index = bisect_left(cols.offset, offset, 0, count)
    if index < count and cols.offset[index] == offset:
        return index
    return end_step(view, block[line_start:line_end], offset)


def blob_steps(run: IndexedRun, view: ScanView, offset: int) -> list[int]:
    """The steps whose records refer to the huge string (blob) at ``offset`` in the spill."""
    spill = run._spill
    found: list[int] = []
    for at in spill.blob_users(offset) if spill is not None else ():
        if at >= view.size:
            continue
        line = read_line_at(view.fd, at)  # the record without its huge strings: small
        if view.members is None:
            found.append(step_of(view, at, line, 0, len(line)))
        else:
            found.extend(members_at(view, at, line, 0, len(line)))
        if view.followers is not None:  # later calls that repeat the message holding it
            found.extend(followers(view, at))
    return found


def end_step(view: ScanView, line: bytes, offset: int) -> int:
    """The step a ``span_end`` record at ``offset`` updated, or -1."""
    cols, count = view.cols, view.count
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return -1
    record = value[2] if view.spilled and isinstance(value, list) and len(value) == 3 else value
    if not isinstance(record, dict) or record.get("type") != "span_end":
        return -1
    span_id = record.get("span_id")
    if not isinstance(span_id, str):
        return -1
    index = cols.index_of(span_id)
    if 0 <= index < count and offset in cols.end_offsets(index):
        return index
    return -1


def followers(view: ScanView, offset: int) -> list[int]:
    """The steps whose first records repeat the input messages of the record at ``offset``
    (chained to it in the spill), as far as they are indexed."""
    assert view.followers is not None
    cols, out = view.cols, []
    steps: Any = view.members if view.members is not None else range(view.count)
    for at in view.followers(offset):
        k = bisect_left(steps, at, key=cols.offset.__getitem__)
        if k >= len(steps):
            break
        if cols.offset[steps[k]] == at:
            out.append(steps[k])
    return out


def members_at(
    view: ScanView, offset: int, block: bytes, line_start: int, line_end: int
) -> list[int]:
    """The steps of a view with ``members`` whose record (or source line) is at ``offset``;
    a ``span_end`` in the spill is found by its span id, as in :func:`step_of`."""
    members, cols = view.members, view.cols
    assert members is not None
    at = bisect_left(members, offset, key=cols.offset.__getitem__)
    found: list[int] = []
    while at < len(members) and cols.offset[members[at]] == offset:
        found.append(members[at])
        at += 1
    if view.near is not None:  # replayed steps whose records may hold this line's text
        found += view.near(offset, block[line_start:line_end])
    if found or view.light:
        return found
    index = end_step(view, block[line_start:line_end], offset)
    return [index] if index >= 0 else []


def window_start(view: ScanView, start: int, stop: int) -> int | None:
    """The lowest offset in ``view``'s file of a record of a step in ``[start, stop)`` (their
    first records, the ends spilled for steps mapped from source lines, the records and huge
    strings those are read with), or ``None`` when none is in this file."""
    cols, members = view.cols, view.members
    first: int | None
    if view.near is not None:  # replayed steps may hold text of lines before their own
        return 0
    if members is None:
        first = cols.offset[start] if start < min(stop, view.count) else None
    else:
        lo, hi = bisect_left(members, start), bisect_left(members, stop)
        first = cols.offset[members[lo]] if lo < hi else None
    if view.spilled and view.other is not None:  # the spill holds ends of steps in the other
        end = _first_end(view, start, min(stop, view.count))
        if end is not None and (first is None or end < first):
            first = end
    if first is not None and view.reads_from is not None:
        first = view.reads_from(first)
    return first


def _first_end(view: ScanView, start: int, stop: int) -> int | None:
    """The lowest offset of a ``span_end`` of a step in ``[start, stop)``."""
    cols = view.cols
    first = min(filter((0).__le__, cols.end_offset[start:stop]), default=None)
    for index, more in list(cols.extra_ends.items()):  # steps ended more than once: few
        if start <= index < stop and more and (first is None or min(more) < first):
            first = min(more)
    return first


def late_steps(view: ScanView, lo: int, hi: int, scanned: int) -> list[int]:
    """The steps in ``[lo, hi)`` with a record in ``view``'s file at or after ``scanned``
    (their first record, or a ``span_end``, not read yet by a scan that got that far), sorted.
    (A record is never read back with a later one: see :func:`window_start`.)"""
    cols, members = view.cols, view.members
    hi = min(hi, view.count)
    if lo >= hi:
        return []
    if members is None:
        found = set(range(bisect_left(cols.offset, scanned, lo, hi), hi))
    else:
        a, b = bisect_left(members, lo), bisect_left(members, hi)
        found = set(members[bisect_left(members, scanned, a, b, key=cols.offset.__getitem__):b])
    if not view.light or view.near is not None:  # the ends of every step are in this file
        found.update(compress(range(lo, hi), map(scanned.__le__, cols.end_offset[lo:hi])))
    return sorted(found)
