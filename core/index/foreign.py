"""Foreign JSON-lines formats indexed by their light decoders, as native traces are.

A format with a :class:`~trace_tui.core.formats.base.LightDecoder` hands back the index facts
of a whole chunk of lines (:class:`~trace_tui.core.formats.base.LightSteps`) without building
native records; :func:`apply_light` turns them into a :class:`~trace_tui.core.index.fast.
DecodedChunk` and merges it with the native fast path's :func:`~trace_tui.core.index.fast.
apply_chunk`, marking the steps :data:`~trace_tui.core.index.columns.ORIGIN_SOURCE_LINE`: their
``offset``/``length`` are the source line's, and the step is mapped again from that line when
a view shows it (:class:`~trace_tui.core.index.store.StepLoader`). Nothing is spilled for them.

Lines that end steps of earlier lines (:class:`~trace_tui.core.formats.base.LightEnds`: a tool
call's result in a later request) have those ``span_end`` records spilled, as the mapper's path
spills them, and merged by the native fast path's rules; a chunk whose ends would not each close
a distinct running step of an earlier line is declined.

Declining is always safe: the caller then runs the format's mapper on those lines, as before.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable
from functools import partial
from itertools import compress, repeat
from operator import is_not
from typing import Any

from trace_tui.core.formats.base import LightDecoder, LightEnds, LightSteps, RecordMapper
from trace_tui.core.index import fast
from trace_tui.core.index.columns import (
    KIND_CODES,
    NO_TOKENS,
    ORIGIN_SOURCE_LINE,
    STATUS_CODES,
    TOKEN_MAX,
    StepColumns,
)
from trace_tui.core.model.run import STATUSES

#: ``spill(offset, line, record, length)``: write a native record made from the source line at
#: ``offset`` (``length`` bytes, line number ``line``), or the spill's JSON line of it given as
#: bytes; returns its (spill offset, length).
SpillRecord = Callable[[int, int, "dict[str, Any] | bytes", int], tuple[int, int]]

NAN = math.nan


def apply_light(
    cols: StepColumns,
    decoder: LightDecoder,
    mapper: RecordMapper,
    data: bytes,
    offset: int,
    line: int,
    changed: set[int],
    spill: SpillRecord | None = None,
) -> bool:
    """Index complete lines ``data`` (at ``offset``, first line number ``line``) through the
    light decoder; ``False`` (nothing changed, mapper untouched) when it or the merge
    declines them. ``spill`` takes the ``span_end`` records the lines make, if any."""
    with fast.gc_paused():  # a chunk makes many small containers; no cycles among them
        steps = decoder.decode(data, offset, line, mapper)
    if steps is None:
        return False
    chunk = to_chunk(steps)
    if chunk is None:
        return False
    ends = steps.ends if steps.ends is not None and steps.ends.span_ids else None
    if ends is not None and (spill is None or not _ends_fit(cols, chunk, ends)):
        return False
    if not fast.apply_chunk(cols, chunk, data, offset, changed, origin=ORIGIN_SOURCE_LINE):
        return False
    if ends is not None and spill is not None:
        fast.apply_ends(cols, _spilled(spill, ends), data, offset, changed)
    use_index = getattr(mapper, "use_index", None)
    if use_index is not None:  # the mapper asks the index about light steps, keeps none
        use_index(partial(light_status, cols))
    decoder.accept(steps, mapper)
    return True


def light_status(cols: StepColumns, span_id: str) -> str | None:
    """The status of the step a light decoder indexed with ``span_id`` (``None``: there is
    none; a step the mapper made is the mapper's to remember)."""
    index = cols.index_of(span_id)
    if index < 0 or cols.origin[index] != ORIGIN_SOURCE_LINE:
        return None
    return STATUSES[cols.status[index]]


def _ends_fit(cols: StepColumns, chunk: fast.DecodedChunk, ends: LightEnds) -> bool:
    """Does each end close a distinct step that is running, of an earlier line, with no end
    yet (the fast path's plain case, so its merge writes no problem)?"""
    hashes = list(map(hash, ends.span_ids))
    if len(set(hashes)) != len(hashes) or cols.collided_ids:
        return False
    new = {hash(span_id): k for k, span_id in enumerate(chunk.span_ids)}
    running = STATUS_CODES["running"]
    for span_hash, line in zip(hashes, ends.lines, strict=True):
        k = new.get(span_hash)
        if k is not None:
            if chunk.status[k] != running or chunk.lines[k] >= line:
                return False
            continue
        index = cols.ids.get(span_hash, -1)
        if (
            index < 0
            or cols.status[index] != running
            or cols.end_offset[index] != -1
            or cols.line[index] >= line
        ):
            return False
    return True


def _spilled(spill: SpillRecord, ends: LightEnds) -> fast.EndRecords:
    """``ends`` written to the spill, as the fast path's end records (at their spill offsets)."""
    offsets, lengths = [], []
    for record, at, line, length in zip(ends.records, ends.offsets, ends.lines, ends.lengths,
                                        strict=True):  # fmt: skip
        ref_offset, ref_length = spill(at, line, record, length)
        offsets.append(ref_offset)
        lengths.append(ref_length)
    unset = [fast.END_UNSET] * len(offsets)
    return fast.EndRecords(
        span_ids=ends.span_ids,
        offsets=offsets,
        lines=ends.lines,
        lengths=lengths,
        end=[NAN if v is None else v for v in ends.end],
        status=ends.statuses,  # type: ignore[arg-type]
        has_error=ends.errors,
        tokens=[unset, unset, unset, unset],
    )


def to_chunk(steps: LightSteps) -> fast.DecodedChunk | None:
    """The native fast path's columns for ``steps`` (``None`` when a value needs care: an
    empty id, a token count beyond 32 bits)."""
    if "" in steps.span_ids:
        return None
    tokens: list[array[int]] = []
    for values in steps.tokens:
        column = _token_column(values)
        if column is None:
            return None
        tokens.append(column)
    return fast.DecodedChunk(
        n_lines=steps.n_lines,
        offsets=array("q", steps.offsets),
        lengths=array("I", steps.lengths),
        lines=array("I", steps.lines),
        span_ids=steps.span_ids,
        parent_ids=steps.parent_ids,
        kinds=bytes(map(KIND_CODES.__getitem__, steps.kinds)),
        names=steps.names,
        status=bytes(map(STATUS_CODES.__getitem__, steps.statuses)),
        flags=bytes(map(int, steps.errors)),
        start=_seconds(steps.start),
        end=_seconds(steps.end),
        tokens=tokens,
        ends=None,
    )


def _token_column(values: list[int | None]) -> array[int] | None:
    """A token column (``NO_TOKENS`` where not recorded); ``None`` if a count needs care."""
    if values.count(None) == len(values):
        return array("i", repeat(NO_TOKENS, len(values)))
    present: list[Any] = values
    if None in values:
        present = list(compress(values, map(is_not, values, repeat(None))))
    if max(present) > TOKEN_MAX or min(present) < -TOKEN_MAX or NO_TOKENS in present:
        return None
    if present is values:
        return array("i", values)  # type: ignore[arg-type]
    return array("i", map(_NONE_TO_NO_TOKENS.get, values, values))  # type: ignore[arg-type]


_NONE_TO_NO_TOKENS = {None: NO_TOKENS}


def _seconds(values: list[float | None]) -> array[float]:
    if None not in values:
        return array("d", values)  # type: ignore[arg-type]
    return array("d", (NAN if v is None else v for v in values))


def position_in_line(cols: StepColumns, index: int) -> int:
    """Which of its source line's light steps step ``index`` is (0 for the first)."""
    offset, origin = cols.offset[index], cols.origin
    first = index
    while first > 0 and cols.offset[first - 1] == offset and origin[first - 1]:
        first -= 1
    return index - first


def empty_tokens(n: int) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """Four token columns of ``n`` "not recorded" entries (for decoders without usage)."""
    return tuple(list(repeat(None, n)) for _ in range(4))  # type: ignore[return-value]
