"""Which steps a line of the scanned file belongs to, for :mod:`trace_tui.core.index.byte_search`.

A line that holds the searched bytes is mapped to its steps through the index's offsets: a
step's first record (or source line) by a bisect, a ``span_end`` by its span id, a huge string
held apart in the spill (a blob) through the records that refer to it, and a model call's
messages through the later calls that repeat them without writing them (followers).
"""

from __future__ import annotations

from bisect import bisect_left
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
    if found or view.light:
        return found
    index = end_step(view, block[line_start:line_end], offset)
    return [index] if index >= 0 else []
