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

import hashlib
import json
import logging
import os
import tempfile
import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from operator import is_
from typing import Any

import msgspec
import orjson

from trace_tui.core.index.blobs import (
    KEEP_CHARS,
    PLACEHOLDER,
    REF_PREFIX_JSON,
    BlobReader,
    SpilledText,
    decode_huge,
    encoded_pieces,
    join_pieces,
    literal_head,
    needs_swap,
    ref_offset,
    resolve_blobs,
    spilled_text,
    swap_strings,
)
from trace_tui.core.index.blobs import (
    decoded_pieces as _decoded_pieces,
)
from trace_tui.core.index.columns import ORIGIN_REPLAY, ORIGIN_SOURCE_LINE, StepColumns
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
    """Mapped native records of a foreign trace, one JSON line each, in a temporary file.

    Huge strings are written apart, once (blobs: see :mod:`~trace_tui.core.index.blobs`).

    With ``chain_messages`` (an importer whose model calls share their input messages, and
    never change a message, a system prompt or tool definitions once a call has them), a
    model call's ``gen_ai.input.messages`` that starts with the previous call's messages (the
    same objects) is written as the new messages only, with :data:`CHAIN_KEY` ``[spill
    offset, length, count, keys]`` naming the previous record, how many of its messages come
    first, and which :data:`SAME_KEYS` attributes are its very values (written as null, in
    their place). :meth:`RecordFiles.record` puts the record together again;
    :meth:`followers` tells search which later records repeat a record's messages. Every
    :data:`CHAIN_DEPTH` calls (or when less than half is shared) the list is written whole,
    so reading a record back takes a bounded number of reads, and a session's spill grows
    with its messages, not with its calls times its conversation's length.
    """

    def __init__(self, *, chain_messages: bool = False) -> None:
        self._file = tempfile.TemporaryFile(prefix="trace-tui-spill-", buffering=0)
        self._pending = bytearray()
        #: Held while the file or the buffer is written: a view flushes from the screen's
        #: thread while the reader appends (a write exports the buffer: growing it then fails).
        self._writing = threading.RLock()
        self._size = 0
        self._interned = 0
        self._blobs: dict[bytes, SpilledText] = {}
        self._users: dict[int, list[int]] = {}
        self._chain_messages = chain_messages
        #: The last model call's messages (as its step has them), where its record is, how
        #: many records back the last whole list is, and its attributes.
        self._last: tuple[list[Any], int, int, int, dict[str, Any]] | None = None
        #: ``_link_from[k]`` is repeated by the record at ``_link_to[k]`` (both ascending).
        self._link_from = array("q")
        self._link_to = array("q")

    @property
    def fd(self) -> int:
        """The file descriptor to ``pread`` from (call :meth:`flush` first)."""
        return self._file.fileno()

    @property
    def size(self) -> int:
        """Bytes written so far (what :meth:`flush` has put in the file)."""
        return self._size

    def decode_huge(self, data: memoryview) -> Any:
        """The value of a huge line, each string literal over
        :data:`~trace_tui.core.index.blobs.INTERN_BYTES` copied to the spill undecoded and
        replaced by its stand-in (so neither the importer nor its records hold it). Raises
        ``orjson.JSONDecodeError`` if the line is not valid JSON."""
        try:
            return decode_huge(data, self._raw_blob)
        except (msgspec.DecodeError, ValueError):
            return loads_big(data)  # says why the line is bad (or reads what msgspec refused)

    def _raw_blob(self, literal: memoryview) -> SpilledText:
        """Copy a JSON string literal (checked slice by slice) to the spill as a blob; the
        same literal again (a file's text in a message and in the tool's result) is kept once."""
        digest = hashlib.blake2b(literal, digest_size=20).digest()
        known = self._blobs.get(digest)
        if known is not None:
            return known
        head = literal_head(literal)  # raises if the literal is not valid
        with self._writing:
            self.flush()
            at = self._size
            self._file.write(literal)
            self._file.write(b"\n")
            self._size += len(literal) + 1
        self._interned += 1
        self._blobs[digest] = found = spilled_text(head, at, len(literal))
        return found

    def _blob(self, text: str) -> SpilledText:
        """Write ``text`` as one JSON string literal on its own line; its stand-in."""
        with self._writing:
            self.flush()
            at = self._size
            length = 0
            for piece in encoded_pieces(text):
                length += self._file.write(piece)
            self._file.write(b"\n")
            self._size += length + 1
        self._interned += 1
        return spilled_text(text[:KEEP_CHARS], at, length)

    def append(
        self, offset: int, line: int, record: dict[str, Any], *, large: bool = False
    ) -> tuple[int, int]:
        """Store one record with its source offset and line; returns (spill offset, length).

        ``large``: the record comes from a line over :data:`BIG_STRING_BYTES`, so it may hold
        a string too big for orjson's encoder to write without several copies of it.
        """
        messages = self._call_messages(record) if self._chain_messages and not large else None
        if messages is not None:
            return self._append_call(offset, line, record, messages)
        return self._append(offset, line, record, large)

    def _append(
        self, offset: int, line: int, record: dict[str, Any], large: bool
    ) -> tuple[int, int]:
        value: Any = [offset, line, record]
        data = b"" if large else _dumps(value)
        refs: list[str] = []
        if large or (self._interned and needs_swap(data)) or REF_PREFIX_JSON in data:
            big: list[str] = []
            swapped = swap_strings(value, big, self._blob, BIG_STRING_BYTES, refs)
            data = _dumps(swapped)
            if big and data.count(PLACEHOLDER) == len(big):
                # huge strings are encoded one at a time and written in place (bounded memory)
                place = self._write_parts(data, big)
                self._refer(refs, place[0])
                return place
            if big:  # the trace itself holds our placeholder text: the plain (costly) way
                refs.clear()
                data = _dumps(swap_strings(value, None, self._blob, BIG_STRING_BYTES, refs))
        with self._writing:
            at = self._size + len(self._pending)
            self._pending += data
            self._pending += b"\n"
        self._refer(refs, at)
        return at, len(data)

    def _refer(self, refs: list[str], at: int) -> None:
        for ref in dict.fromkeys(refs):
            self._users.setdefault(ref_offset(ref), []).append(at)

    def blob_users(self, offset: int) -> list[int]:
        """Where the records that refer to the blob at ``offset`` are (none if it is not a
        blob): a search hit in a huge string is a hit in those records' steps."""
        return list(self._users.get(offset, ()))

    def append_raw(self, data: bytes) -> tuple[int, int]:
        """Store one spill line already written as JSON (``[offset, line, record]``, no
        newline, no string a huge-string reference could be taken for: a light decoder's
        ``span_end`` with its source line copied in); returns (spill offset, length)."""
        with self._writing:
            at = self._size + len(self._pending)
            self._pending += data
            self._pending += b"\n"
        return at, len(data)

    def _call_messages(self, record: Any) -> list[Any] | None:
        """A model call's input messages worth chaining (see the class doc), else ``None``."""
        if type(record) is not dict or record.get("type") not in ("span_start", "span"):
            return None
        attrs = record.get("attributes")
        messages = attrs.get(MESSAGES_KEY) if type(attrs) is dict else None
        if type(messages) is not list or len(messages) < CHAIN_MIN or CHAIN_KEY in record:
            return None
        return messages

    def _append_call(
        self, offset: int, line: int, record: dict[str, Any], messages: list[Any]
    ) -> tuple[int, int]:
        """Append a model call's record, its messages chained to the previous call's."""
        last = self._last
        shared = _shared_prefix(last[0], messages) if last is not None else 0
        attrs = record["attributes"]
        if last is None or last[3] >= CHAIN_DEPTH or shared < max(1, len(last[0]) // 2):
            out, depth = record, 0
        else:
            before = last[4]
            same = [k for k in SAME_KEYS if attrs.get(k) is not None and attrs[k] is before.get(k)]
            short = {**attrs, MESSAGES_KEY: messages[shared:]}
            for key in same:
                short[key] = None  # a place holder: the key keeps its place
            out = {**record, "attributes": short, CHAIN_KEY: [last[1], last[2], shared, same]}
            depth = last[3] + 1
        at, length = self._append(offset, line, out, False)
        if last is not None and depth:
            self._link_from.append(last[1])
            self._link_to.append(at)
        self._last = (messages, at, length, depth, attrs)
        return at, length

    def followers(self, offset: int) -> list[int]:
        """Spill offsets of the later records whose messages are chained to the record at
        ``offset`` (directly or through each other), in order: search's candidates for a
        word found in that record's messages."""
        froms, tos = self._link_from, self._link_to
        out: list[int] = []
        k = bisect_left(froms, offset)
        while k < len(froms) and froms[k] == offset:
            offset = tos[k]
            out.append(offset)
            k = bisect_left(froms, offset, k)
        return out

    def reads_from(self, offset: int) -> int:
        """The lowest spill offset that a record at or after ``offset`` is read back with:
        the records its messages are chained to (see :meth:`followers`) and the huge strings
        (blobs) those refer to. Where a scan must start to see every record of the steps
        whose records start at ``offset``."""
        froms, tos = self._link_from, self._link_to
        count = len(tos)  # (links are appended from-first by the indexing thread)
        root = offset
        # the first chained record from there has the earliest chain: each call is chained
        # to the call before it, so a later one's chain never starts before it
        k = bisect_left(tos, offset, 0, count)
        while k < count:
            source = froms[k]  # the record tos[k] is chained to
            root = min(root, source)
            j = bisect_left(tos, source, 0, k)
            if j >= k or tos[j] != source:
                break
            k = j
        first = root
        for blob, users in list(self._users.items()):  # huge strings: few
            if users and users[-1] >= root and blob < first:
                first = blob
        return first

    def _write_parts(self, skeleton: bytes, big: list[str]) -> tuple[int, int]:
        """Write ``skeleton`` with each placeholder replaced by its encoded string."""
        with self._writing:
            self.flush()
            at = self._size
            pieces = skeleton.split(PLACEHOLDER)
            length = 0
            for k, piece in enumerate(pieces):
                length += self._file.write(piece)
                if k < len(big):
                    for encoded in encoded_pieces(big[k]):
                        length += self._file.write(encoded)
            self._file.write(b"\n")
            self._size += length + 1
        return at, length

    def flush(self) -> None:
        """Write what :meth:`append` buffered (before anyone may read it; from any thread)."""
        with self._writing:
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


def decode_huge_line(data: memoryview, spill: SpillFile | None) -> Any:
    """The value of a huge line (``orjson.JSONDecodeError`` if it is not valid JSON): through
    the spill (foreign formats), else with each string over
    :data:`~trace_tui.core.index.blobs.INTERN_BYTES` inside the record left as a cut stand-in
    (a native step is read again from the trace when shown, so indexing it never decodes the
    huge string; the record's own fields, which the index keeps, are decoded whole)."""
    if spill is not None:
        return spill.decode_huge(data)
    try:
        return decode_huge(data, lambda literal: spilled_text(literal_head(literal), -1,
                                                              len(literal)), whole_top=True)
    except (msgspec.DecodeError, ValueError):
        return loads_big(data)


def source_value(
    data: bytes, offset: int, huge_at: set[int], spill: SpillFile | None, line: int = 0
) -> dict[str, Any] | None:
    """A foreign trace's line (``data``, without its newline) parsed as the indexer fed it to
    the mapper: through :func:`decode_huge_line` if it was read as a huge line (``offset`` in
    ``huge_at``: its huge strings the spill's same stand-ins), else :func:`decode_bytes`;
    ``None`` when it is not a record (blank, corrupt, not an object)."""
    if offset not in huge_at:
        value = decode_bytes(data, offset, line, exact=True)
        return value if isinstance(value, dict) else None
    view = memoryview(data)
    if view[-1:] == b"\r":
        view = view[:-1]
    if offset == 0 and view[: len(BOM)] == BOM:
        view = view[len(BOM) :]
    try:
        value = decode_huge_line(view, spill)
    except orjson.JSONDecodeError:
        return None
    finally:
        view.release()
    return value if isinstance(value, dict) else None


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:  # integers beyond 64 bits, or a mapper that produced a non-JSON value
        return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")


#: ``remap(value, position, line)``: the native record of a light step from its parsed source
#: line and its line number.
Remap = Callable[[Any, int, int], "dict[str, Any] | None"]
#: ``replay(cols, index, blobs)``: a replayed step's records, each (source offset, source
#: line, record), its first record first (``None``: they cannot be made again), huge strings
#: read through ``blobs`` (counted in the step's size); see
#: :meth:`~trace_tui.core.index.replay_steps.ReplaySteps.records`.
Replay = Callable[
    [StepColumns, int, "BlobReader | None"], "list[tuple[int, int, dict[str, Any]]] | None"
]


@dataclass(frozen=True, slots=True)
class RecordFiles:
    """Where one file generation's step records are read back from.

    ``trace_fd`` reads the trace itself; ``spill_fd`` (foreign formats) the spilled native
    records; ``remap`` (a light decoder's) maps a foreign source line again for steps whose
    ``origin`` is :data:`~trace_tui.core.index.columns.ORIGIN_SOURCE_LINE`; ``replay`` makes
    the records of steps whose ``origin`` is :data:`~trace_tui.core.index.columns.
    ORIGIN_REPLAY` again.
    """

    trace_fd: int | None
    spill_fd: int | None = None
    remap: Remap | None = None
    #: Set for one step's build: its records share each huge string, read once.
    blobs: BlobReader | None = None
    replay: Replay | None = None

    def step_records(
        self, cols: StepColumns, index: int
    ) -> list[tuple[int, int | None, dict[str, Any]]] | None:
        """Every record of step ``index``: its first, then its ``span_end`` records in file
        order (``None`` when the first cannot be read; an unreadable end is left out)."""
        if cols.origin[index] == ORIGIN_REPLAY:
            replay = self.replay
            return replay(cols, index, self.blobs) if replay is not None else None  # type: ignore[return-value]
        start = self.start_record(cols, index)
        if start is None:
            return None
        ends = (self.record(at, None, None) for at in cols.end_offsets(index))
        return [start, *(end for end in ends if end is not None)]

    def start_record(
        self, cols: StepColumns, index: int
    ) -> tuple[int, int | None, dict[str, Any]] | None:
        """(source offset, source line, native record) of step ``index``'s first record."""
        offset, length, line = cols.offset[index], cols.length[index], cols.line[index]
        if cols.origin[index] != ORIGIN_SOURCE_LINE:
            return self.record(offset, length, line)
        if self.trace_fd is None or self.remap is None:
            return None
        value = _source_value([read_line_at(self.trace_fd, offset, length)], offset, line)
        if value is None:
            return None
        record = self.remap(value, position_in_line(cols, index), line)
        return None if record is None else (offset, line, record)

    def record(
        self, offset: int, length: int | None, line: int | None
    ) -> tuple[int, int | None, dict[str, Any]] | None:
        """(source offset, source line, native record) read back from the spill (foreign
        formats) or the trace (native)."""
        if self.spill_fd is not None:
            return read_spilled(self.spill_fd, offset, length, self.blobs)
        if self.trace_fd is None:
            return None
        value = _source_value([read_line_at(self.trace_fd, offset, length)], offset, line)
        return None if value is None else (offset, line, value)


def _source_value(
    data: bytes | list[bytes], offset: int, line: int | None
) -> dict[str, Any] | None:
    """A line of the trace itself, parsed (``None``, logged, when it no longer parses).
    Given in a one-item list, the bytes are let go as soon as they are decoded."""
    raw = data.pop() if isinstance(data, list) else data
    if len(raw) > BIG_STRING_BYTES:
        holder = [raw[len(BOM):] if offset == 0 and raw.startswith(BOM) else raw]
        del raw
        value = _big_record_value(holder)
    else:
        value = decode_bytes(raw, offset, line or 0, exact=True)
    if not isinstance(value, dict):
        log.warning("record at offset %d no longer parses: %s", offset, type(value).__name__)
        return None
    return value


#: The attribute :class:`SpillFile` chains between model calls, and the key of the link.
MESSAGES_KEY = "gen_ai.input.messages"
CHAIN_KEY = "\x00trace-tui.messages-from"
#: Attributes a chained record leaves to the record it links to when they are the very same
#: value (a system prompt, tool definitions: the same for every call of a session).
SAME_KEYS = ("gen_ai.system_instructions", "gen_ai.tool.definitions")
#: Lists shorter than this are written whole; a chain is at most this many records long.
CHAIN_MIN = 8
CHAIN_DEPTH = 64


def _shared_prefix(before: list[Any], now: list[Any]) -> int:
    """How many leading items of ``now`` are the very objects ``before`` starts with."""
    if all(map(is_, before, now)):
        return min(len(before), len(now))
    for k, (old, new) in enumerate(zip(before, now, strict=False)):
        if old is not new:
            return k
    return min(len(before), len(now))  # pragma: no cover (all() said otherwise)


def unchain(
    record: dict[str, Any], at: int, read: Callable[[int, int], dict[str, Any] | None]
) -> dict[str, Any]:
    """``record`` (spilled at ``at``) with its chained messages put back in front of its own
    (``read(offset, length)`` reads an earlier spilled record, itself unchained)."""
    link = record.pop(CHAIN_KEY)
    attrs = record.get("attributes")
    ok = (type(link) is list and len(link) == 4 and all(type(x) is int for x in link[:3])
          and type(link[3]) is list)  # fmt: skip
    if not ok or not isinstance(attrs, dict) or not 0 <= link[0] < at:
        log.warning("spilled record at %d: a bad message link %r", at, link)
        return record
    earlier = read(link[0], link[1])
    before = earlier.get("attributes") if isinstance(earlier, dict) else None
    messages = before.get(MESSAGES_KEY) if isinstance(before, dict) else None
    if not isinstance(before, dict) or not isinstance(messages, list) or len(messages) < link[2]:
        log.warning("spilled record at %d: the record it links to has no messages", at)
        return record
    attrs[MESSAGES_KEY] = messages[: link[2]] + list(attrs.get(MESSAGES_KEY) or [])
    for key in link[3]:
        if isinstance(key, str) and key in before:
            attrs[key] = before[key]
    return record


def read_spilled(
    fd: int, offset: int, length: int | None, blobs: BlobReader | None = None
) -> tuple[int, int | None, dict[str, Any]]:
    """(source offset, source line, native record) of one spilled record, its huge strings
    read back from their blobs (through ``blobs``, which keeps them for the step's other
    records)."""
    data = read_line_at(fd, offset, length)
    src_offset, src_line, record = loads_big(data) if len(data) > BIG_STRING_BYTES \
        else orjson.loads(data)
    if REF_PREFIX_JSON in data:
        del data
        blobs = blobs if blobs is not None else BlobReader(fd)
        record = resolve_blobs(record, blobs)
    if type(record) is dict and CHAIN_KEY in record:
        record = unchain(record, offset, lambda at, size: read_spilled(fd, at, size, blobs)[2])
    return src_offset, src_line, record


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
        while self._cached_bytes > CACHE_BYTES and self._cache:  # a huge step is let go
            self._cached_bytes -= self._cache.popitem(last=False)[1][1]  # before the next
        # the step's records share each huge string, read once (and counted in its size)
        if files.spill_fd is not None:
            files = replace(files, blobs=BlobReader(files.spill_fd))
        step = self._build(cols, index, files)
        size = cols.length[index] + (files.blobs.bytes_read if files.blobs else 0)
        self._cache[key] = (step, size)
        self._cached_bytes += size
        while len(self._cache) > CACHE_ENTRIES or (
            self._cached_bytes > CACHE_BYTES and len(self._cache) > 1
        ):
            _, (_, old) = self._cache.popitem(last=False)
            self._cached_bytes -= old
        return step

    def _build(self, cols: StepColumns, index: int, files: RecordFiles) -> Step:
        records = files.step_records(cols, index)
        if not records:
            return unreadable_step(cols, index, "its record could not be read again")
        (src_offset, src_line, record), *ends = records
        scratch = Run()
        builder = RunBuilder(scratch)
        step = builder.add(record, offset=src_offset, line=src_line)
        if step is None or step.kind != STEP_KINDS[cols.kind[index]]:
            return unreadable_step(cols, index, "the file changed on disk since it was indexed")
        for end in ends:
            builder.add(end[2], offset=end[0], line=end[1])
        step.index = index
        return step

def _big_record_value(data: bytes | list[bytes]) -> Any:
    """A record of many megabytes from the trace itself (its newline already cut). Its huge
    strings are decoded a slice at a time and joined only after the line's bytes are let go
    (given in a one-item list), so the bytes, the pieces and the string are never all held."""
    raw = data.pop() if isinstance(data, list) else data
    view = memoryview(raw)
    if view[-1:] == b"\r":
        view = view[:-1]
    try:
        value = decode_huge(view, _decoded_pieces)
    except (msgspec.DecodeError, ValueError):
        try:
            value = loads_big(view)
        except orjson.JSONDecodeError:
            value = None
    finally:
        view.release()
        del raw
    return join_pieces(value)


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
