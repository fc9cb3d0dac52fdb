"""Where an indexed step's records live, and how a full :class:`Step` is rebuilt on demand.

A native trace's records are its own lines, read back with ``os.pread`` at the offsets the
index kept. A foreign JSON-lines format goes through a stateful mapper (joining a tool call to
its result, say), so one foreign line cannot always be re-mapped alone: the mapped native
records are *spilled*, one JSON line each, to an anonymous temporary file and read back from
there. That costs disk roughly the size of the mapped records and nothing in memory; the trace
itself is never written to.

:class:`StepLoader` parses a step's start record and its ``span_end`` records through
:class:`~trace_tui.core.model.builder.RunBuilder` (the one definition of record semantics) and keeps
recent results in an LRU cache keyed by the record offsets, bounded in entries and bytes.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from trace_tui.core.index.columns import ORIGIN_SOURCE_LINE, StepColumns
from trace_tui.core.index.foreign import position_in_line
from trace_tui.core.io.jsonl import BOM, HUGE_LINE_BYTES, decode_bytes, loads_big
from trace_tui.core.model.builder import RunBuilder
from trace_tui.core.model.run import STEP_KINDS, Run, Step

log = logging.getLogger(__name__)

CACHE_ENTRIES = 512
CACHE_BYTES = 64 * 1024 * 1024
_FIRST_READ = 64 * 1024
_BLOCK = 1024 * 1024
#: Spilled records larger than this are written at once instead of buffered.
_DIRECT_WRITE = 1024 * 1024


def read_line_at(fd: int, offset: int, length: int | None = None) -> bytes:
    """The line starting at ``offset`` (without its newline), at most the huge-line cap.

    Without ``length`` a long line's end is found in 1 MiB blocks first, so the line is read
    once at its own size (a spilled ``span_end`` can hold a 200 MB tool result).
    """
    if length is not None:
        return os.pread(fd, length, offset)
    data = os.pread(fd, _FIRST_READ, offset)
    end = data.find(b"\n")
    if end >= 0 or len(data) < _FIRST_READ:
        return data if end < 0 else data[:end]
    at = offset + len(data)
    while at - offset <= HUGE_LINE_BYTES:
        block = os.pread(fd, _BLOCK, at)
        cut = block.find(b"\n")
        if cut >= 0:
            return os.pread(fd, at + cut - offset, offset)
        at += len(block)
        if len(block) < _BLOCK:
            break
    return os.pread(fd, min(at - offset, HUGE_LINE_BYTES), offset)


class SpillFile:
    """Mapped native records of a foreign trace, one JSON line each, in a temporary file."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="trace-tui-spill-", buffering=0)
        self._pending = bytearray()
        self._size = 0

    @property
    def fd(self) -> int:
        """The file descriptor to ``pread`` from (call :meth:`flush` first)."""
        return self._file.fileno()

    @property
    def size(self) -> int:
        """Bytes written so far (what :meth:`flush` has put in the file)."""
        return self._size

    def append(
        self, offset: int, line: int, record: dict[str, Any], *, large: bool = False
    ) -> tuple[int, int]:
        """Store one record with its source offset and line; returns (spill offset, length).

        ``large``: the record comes from a line over :data:`BIG_STRING_BYTES`, so it may hold
        a string too big for orjson's encoder to write without several copies of it.
        """
        big: list[str] = []
        value: Any = [offset, line, record]
        if large:  # from a line over a megabyte: maybe a huge string
            value = _swap_big_strings(value, big, 0)
        data = _dumps(value)
        if big and data.count(_PLACEHOLDER) == len(big):
            # huge strings are encoded one at a time and written in place (bounded memory)
            return self._write_parts(data, big)
        if big:  # the trace itself holds our placeholder text: the plain (costly) way
            data = _dumps([offset, line, record])
        at = self._size + len(self._pending)
        self._pending += data
        self._pending += b"\n"
        return at, len(data)

    def _write_parts(self, skeleton: bytes, big: list[str]) -> tuple[int, int]:
        """Write ``skeleton`` with each placeholder replaced by its encoded string."""
        self.flush()
        at = self._size
        pieces = skeleton.split(_PLACEHOLDER)
        length = 0
        for k, piece in enumerate(pieces):
            length += self._file.write(piece)
            if k < len(big):
                encoded = _encode_string(big[k])
                length += self._file.write(encoded)
                del encoded
        self._file.write(b"\n")
        self._size += length + 1
        return at, length

    def flush(self) -> None:
        """Write what :meth:`append` buffered (before anyone may read it)."""
        if self._pending:
            self._file.write(self._pending)
            self._size += len(self._pending)
            self._pending.clear()

    def close(self) -> None:
        """Delete the spill (it is anonymous: closing removes it)."""
        self._file.close()


#: Strings longer than this are spilled apart from their record (orjson's encoder reserves
#: several times a string's size while it writes it; a 200 MB string would need a gigabyte).
BIG_STRING_BYTES = 1024 * 1024
_PLACEHOLDER_TEXT = "\x00trace-tui-spilled-string\x00"
_PLACEHOLDER = orjson.dumps(_PLACEHOLDER_TEXT)


def _swap_big_strings(value: Any, big: list[str], depth: int) -> Any:
    """``value`` with every string over :data:`BIG_STRING_BYTES` replaced by a placeholder (the
    strings go to ``big``, in the order they will appear in the dumped JSON)."""
    if isinstance(value, str):
        if len(value) > BIG_STRING_BYTES:
            big.append(value)
            return _PLACEHOLDER_TEXT
        return value
    if depth > 64:
        return value
    if isinstance(value, dict):
        if not any(isinstance(v, (str, dict, list)) for v in value.values()):
            return value
        return {k: _swap_big_strings(v, big, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap_big_strings(v, big, depth + 1) for v in value]
    return value


def _encode_string(text: str) -> bytes:
    """One JSON string, encoded by the standard library (about twice its size at most)."""
    import json.encoder

    return json.encoder.encode_basestring(text).encode("utf-8", "surrogatepass")


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # integers beyond 64 bits, or a mapper that produced a non-JSON value
        return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")


#: ``remap(value, position)``: the native record of a light step from its parsed source line.
Remap = Callable[[Any, int], "dict[str, Any] | None"]


@dataclass(frozen=True, slots=True)
class RecordFiles:
    """Where one file generation's step records are read back from.

    ``trace_fd`` reads the trace itself; ``spill_fd`` (foreign formats) the spilled native
    records; ``remap`` (a light decoder's) maps a foreign source line again for steps whose
    ``origin`` is :data:`~trace_tui.core.index.columns.ORIGIN_SOURCE_LINE`.
    """

    trace_fd: int | None
    spill_fd: int | None = None
    remap: Remap | None = None

    def start_record(
        self, cols: StepColumns, index: int
    ) -> tuple[int, int | None, dict[str, Any]] | None:
        """(source offset, source line, native record) of step ``index``'s first record."""
        offset, length, line = cols.offset[index], cols.length[index], cols.line[index]
        if cols.origin[index] != ORIGIN_SOURCE_LINE:
            return self.record(offset, length, line)
        if self.trace_fd is None or self.remap is None:
            return None
        value = _source_value(read_line_at(self.trace_fd, offset, length), offset, line)
        if value is None:
            return None
        record = self.remap(value, position_in_line(cols, index))
        return None if record is None else (offset, line, record)

    def record(
        self, offset: int, length: int | None, line: int | None
    ) -> tuple[int, int | None, dict[str, Any]] | None:
        """(source offset, source line, native record) read back from the spill (foreign
        formats) or the trace (native)."""
        if self.spill_fd is not None:
            data = read_line_at(self.spill_fd, offset, length)
            big = len(data) > BIG_STRING_BYTES
            src_offset, src_line, record = loads_big(data) if big else orjson.loads(data)
            return src_offset, src_line, record
        if self.trace_fd is None:
            return None
        value = _source_value(read_line_at(self.trace_fd, offset, length), offset, line)
        return None if value is None else (offset, line, value)


def _source_value(data: bytes, offset: int, line: int | None) -> dict[str, Any] | None:
    """A line of the trace itself, parsed (``None``, logged, when it no longer parses)."""
    if len(data) > BIG_STRING_BYTES:
        value = _big_record_value(data[len(BOM):] if offset == 0 and data.startswith(BOM)
                                  else data)
    else:
        value = decode_bytes(data, offset, line or 0, exact=True)
    if not isinstance(value, dict):
        log.warning("record at offset %d no longer parses: %s", offset, type(value).__name__)
        return None
    return value


class StepLoader:
    """Builds full steps from their records on disk, with an LRU cache."""

    def __init__(self) -> None:
        self._cache: OrderedDict[tuple[int, int, int, int], tuple[Step, int]] = OrderedDict()
        self._cached_bytes = 0

    def clear(self) -> None:
        """Forget every cached step (a new file generation started)."""
        self._cache.clear()
        self._cached_bytes = 0

    def load(self, cols: StepColumns, index: int, files: RecordFiles, generation: int) -> Step:
        """The full step at ``index`` (payload parsed now, or taken from the cache)."""
        key = (generation, index, cols.offset[index], cols.end_offset[index])
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit[0]
        step = self._build(cols, index, files)
        size = cols.length[index]
        self._cache[key] = (step, size)
        self._cached_bytes += size
        while len(self._cache) > CACHE_ENTRIES or (
            self._cached_bytes > CACHE_BYTES and len(self._cache) > 1
        ):
            _, (_, old) = self._cache.popitem(last=False)
            self._cached_bytes -= old
        return step

    def _build(self, cols: StepColumns, index: int, files: RecordFiles) -> Step:
        start = files.start_record(cols, index)
        if start is None:
            return unreadable_step(cols, index, "its record could not be read again")
        src_offset, src_line, record = start
        scratch = Run()
        builder = RunBuilder(scratch)
        step = builder.add(record, offset=src_offset, line=src_line)
        if step is None or step.kind != STEP_KINDS[cols.kind[index]]:
            return unreadable_step(cols, index, "the file changed on disk since it was indexed")
        for end_offset in cols.end_offsets(index):
            end = files.record(end_offset, None, None)
            if end is not None:
                builder.add(end[2], offset=end[0], line=end[1])
        step.index = index
        return step

def _big_record_value(data: bytes) -> Any:
    """A record of many megabytes from the trace itself (its newline already cut)."""
    view = memoryview(data)
    if view[-1:] == b"\r":
        view = view[:-1]
    try:
        return loads_big(view)
    except orjson.JSONDecodeError:
        return None
    finally:
        view.release()


def unreadable_step(cols: StepColumns, index: int, why: str) -> Step:
    """A stand-in step that says why its payload is missing (never a silent blank)."""
    log.warning("step %d: %s", index + 1, why)
    row = cols.row(index)
    return Step(
        index=index,
        span_id=f"(step {index + 1})",
        parent_id=None,
        kind=row.kind,
        name=row.name,
        start_time=row.start_time,
        end_time=row.end_time,
        status=row.status,
        error=f"payload unavailable: {why}",
        offset=cols.offset[index],
        line=cols.line[index],
    )
