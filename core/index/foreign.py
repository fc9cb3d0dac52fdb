"""Foreign JSON-lines formats indexed by their light decoders, as native traces are.

A format with a :class:`~trace_tui.core.formats.base.LightDecoder` hands back the index facts
of a whole chunk of lines (:class:`~trace_tui.core.formats.base.LightSteps`) without building
native records; :func:`apply_light` turns them into a :class:`~trace_tui.core.index.fast.
DecodedChunk` and merges it with the native fast path's :func:`~trace_tui.core.index.fast.
apply_chunk`, marking the steps :data:`~trace_tui.core.index.columns.ORIGIN_SOURCE_LINE`: their
``offset``/``length`` are the source line's, and the step is mapped again from that line when
a view shows it (:class:`~trace_tui.core.index.store.StepLoader`). Nothing is spilled for them.

Declining is always safe: the caller then runs the format's mapper on those lines, as before.
"""

from __future__ import annotations

import gc
import math
from array import array
from itertools import repeat
from typing import Any

from trace_tui.core.formats.base import LightDecoder, LightSteps, RecordMapper
from trace_tui.core.index import fast
from trace_tui.core.index.columns import (
    KIND_CODES,
    NO_TOKENS,
    ORIGIN_SOURCE_LINE,
    STATUS_CODES,
    TOKEN_MAX,
    StepColumns,
)

NAN = math.nan


def apply_light(
    cols: StepColumns,
    decoder: LightDecoder,
    mapper: RecordMapper,
    data: bytes,
    offset: int,
    line: int,
    changed: set[int],
) -> bool:
    """Index complete lines ``data`` (at ``offset``, first line number ``line``) through the
    light decoder; ``False`` (nothing changed, mapper untouched) when it or the merge
    declines them."""
    paused = gc.isenabled()
    if paused:  # a chunk makes many small containers; no cycles among them
        gc.disable()
    try:
        steps = decoder.decode(data, offset, line, mapper)
    finally:
        if paused:
            gc.enable()
    if steps is None:
        return False
    chunk = to_chunk(steps)
    if chunk is None:
        return False
    if not fast.apply_chunk(cols, chunk, data, offset, changed, origin=ORIGIN_SOURCE_LINE):
        return False
    decoder.accept(steps, mapper)
    return True


def to_chunk(steps: LightSteps) -> fast.DecodedChunk | None:
    """The native fast path's columns for ``steps`` (``None`` when a value needs care: an
    empty id, a token count beyond 32 bits)."""
    if "" in steps.span_ids:
        return None
    tokens: list[array[int]] = []
    for values in steps.tokens:
        present = [v for v in values if v is not None]
        if present and (max(present) > TOKEN_MAX or min(present) < -TOKEN_MAX
                        or NO_TOKENS in present):  # fmt: skip
            return None
        tokens.append(array("i", (NO_TOKENS if v is None else v for v in values)))
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
