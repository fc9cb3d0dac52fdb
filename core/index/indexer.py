"""The indexed reader: any JSON-lines trace, of any size, opened and followed without loading it.

:class:`IndexedSource` implements :class:`~trace_tui.core.model.source.TraceSource`. Each
:meth:`~IndexedSource.update` reads a bounded slice of the file through the tail engine
(:class:`~trace_tui.core.tail.follower.TailReader`), so the first screen can be drawn after the
first
megabyte while a gigabyte file is still being indexed, and a live file is followed by the same
code. Native traces take the fast path (:mod:`trace_tui.core.index.fast`); foreign formats run
their :class:`~trace_tui.core.formats.base.RecordMapper` line by line and spill the mapped
records (:mod:`trace_tui.core.index.store`).

Native lines are indexed a whole slice at a time (decoded in C, merged in bulk); a piece the
bulk path declines (a run record, a corrupt line...) is halved until the bad lines are found and
indexed one by one with the builder's rules. Everything runs in one process: a helper process
decoding part of each slice on the second core was tried and lost on the benchmark
(``bench/RESULTS.md``, "The indexing helper process is gone").

:class:`~trace_tui.core.index.run_view.IndexedRun` (re-exported here) is the run view the source
fills: ``row(i)`` is cheap, ``step(i)`` parses the payload on demand. ``update`` runs on one
worker thread; readers on other threads see only fully published steps (see that module).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from itertools import accumulate, repeat
from operator import add
from pathlib import Path
from typing import Any

from trace_tui.core.formats import FormatError, RecordMapper, TraceFormat
from trace_tui.core.formats.base import HEAD_BYTES, FactsMapper, LightDecoder
from trace_tui.core.formats.registry import detect_head, head_of
from trace_tui.core.index import fast as index_fast
from trace_tui.core.index.columns import (
    ORIGIN_RECORD,
    ORIGIN_REPLAY,
    ORIGIN_SOURCE_LINE,
    StepColumns,
)
from trace_tui.core.index.foreign import apply_light, position_in_line
from trace_tui.core.index.replay_steps import CHECKPOINT_LINES, ReplaySteps
from trace_tui.core.index.run_view import IndexedRun
from trace_tui.core.index.store import (
    BIG_STRING_BYTES,
    SpillFile,
    decode_huge_line,
    read_line_at,
    source_value,
)
from trace_tui.core.io.heap import trim_heap
from trace_tui.core.io.jsonl import (
    BOM,
    HUGE_LINE_BYTES,
    MAX_LINE_BYTES,
    CorruptLine,
    RepairedRecord,
    decode_bytes,
    preview_bytes,
    repaired_message,
    too_long_line,
)
from trace_tui.core.io.trace_path import TraceOpenError
from trace_tui.core.model.builder import RunBuilder
from trace_tui.core.model.run import Problem, Run
from trace_tui.core.model.source import SourceUpdate
from trace_tui.core.tail.follower import (
    HugeLine,
    Lines,
    LongLine,
    Reset,
    TailItem,
    TailReader,
)
from trace_tui.core.tail.watch import ChangeWaiter

log = logging.getLogger(__name__)

#: Bytes read per slice; the first update reads a small slice so the first screen is quick.
SLICE_BYTES = 4 * 1024 * 1024
FIRST_SLICE_BYTES = 256 * 1024
#: One update keeps reading slices until this much time has passed (or the file ends).
UPDATE_SECONDS = 0.05
#: On the fast path, a piece of this many lines or fewer that the bulk decoder declines (a
#: corrupt line, a run record...) is indexed line by line; larger pieces are halved first.
BATCH_LINES = 64
#: Once this many steps are indexed, the id map makes room for the steps the rest of the file
#: probably holds (at the same bytes per step), instead of regrowing as they come.
SIZE_ID_MAP_AFTER = 1_000


class IndexedSource:
    """A line-oriented trace as a :class:`~trace_tui.core.model.source.TraceSource` (see module
    doc).

    ``fmt=None`` detects the format when the first complete line arrives (a followed path
    that does not exist yet, or is still empty). ``follow=False`` reads the file as it is now:
    an unterminated last line counts, and the mapper is flushed at the end.
    """

    def __init__(
        self,
        path: str | Path,
        fmt: TraceFormat | None = None,
        *,
        follow: bool = False,
        drain_quiet: float | None = None,
        use_light: bool = True,
    ) -> None:
        self.path = Path(path)
        self.follow = follow
        self._fmt = fmt
        self.format_name = fmt.name if fmt is not None else "unknown"
        self._tail = TailReader(self.path, follow=follow, max_line=HUGE_LINE_BYTES)
        if drain_quiet is not None:  # how long a rotated-away file must be quiet (tests: 0)
            self._tail.drain_quiet = drain_quiet
        try:
            self._tail.open_now()
        except ValueError as exc:
            raise TraceOpenError(str(exc)) from None
        self.run = IndexedRun(self.path, self.format_name)
        self._mapper: RecordMapper | None = None
        self._meta = Run()
        self._updating = threading.Lock()
        self._waiter: ChangeWaiter | None = None
        self._flushed = False
        self._sized = False  # the id map made room for the whole file
        self._trimmed = False  # the heap was trimmed after the first full read
        self._stash: list[TailItem] = []
        self._failed: str | None = None
        self._first = True
        self._light: LightDecoder | None = None
        #: A stateful format indexed from facts (its mapper in facts mode, and where its
        #: steps are replayed from); see :mod:`~trace_tui.core.index.replay_steps`.
        self._replay: ReplaySteps | None = None
        self._facts: FactsMapper | None = None
        self._since_checkpoint = 0
        self._epoch = 0
        #: Index through the format's light decoder (or from a stateful format's facts) when
        #: it has one (tests turn it off to compare with the mapper's path).
        self.use_light = use_light
        self._new_generation()

    # ----------------------------------------------------------------- protocol
    def update(self) -> SourceUpdate:
        """Index what is new (about :data:`UPDATE_SECONDS` of work at most); see the protocol."""
        with self._updating:
            return self._update()

    def wait(self, timeout: float) -> None:
        """Block until the file may have changed (event or short poll), at most ``timeout``.

        Only a viewer that follows the file calls ``wait``, so a source opened without
        ``follow`` starts following here (an unterminated last line already shown stays shown).
        """
        if not self.follow:
            self.follow = self._tail.follow = True
            self._tail.finished = False
        if self._waiter is None:
            self._waiter = ChangeWaiter(self.path, use_events=self.follow)
        self._waiter.wait(timeout)

    def close(self) -> None:
        """Stop watching and close every file handle."""
        if self._waiter is not None:
            self._waiter.close()
        self._tail.close()
        self.run._swap(StepColumns(), None, None)

    # ----------------------------------------------------------------- updating
    def _update(self) -> SourceUpdate:
        run = self.run
        before, version = len(run), run.version
        state = _UpdateState()
        deadline = time.monotonic() + UPDATE_SECONDS
        while self._failed is None:
            budget = FIRST_SLICE_BYTES if self._first else SLICE_BYTES
            items, self._stash = self._stash or self._tail.read(budget), []
            for k, item in enumerate(items):
                if isinstance(item, Reset) and self._old_generation_pending(state, before):
                    self._stash = items[k:]  # report the old file's last steps first
                    break
                self._handle(item, state)
            self._publish()
            if self._stash or self._first or self._tail.caught_up or time.monotonic() > deadline:
                break
        self._first = False
        if self._tail.finished and not self._flushed:
            self._flush_mapper()
        if self._tail.caught_up and not self._stash and not self._trimmed:
            self._trimmed = True  # the first full read is done: give its freed heap back
            trim_heap()
        if run.version == version and (len(run) != before or state.changed):
            run._touch()
        added = len(run) if state.reset else len(run) - before
        changed = () if state.reset else tuple(sorted(i for i in state.changed if i < before))
        size = max(self._tail.size, 1)
        return SourceUpdate(
            added=added,
            changed=changed,
            reset=state.reset,
            notice=state.notices[0] if state.notices else None,
            notices=tuple(state.notices[1:]),
            complete=not self._stash and (self._tail.caught_up or self._failed is not None),
            progress=min(1.0, self._tail.offset / size) if not self._tail.caught_up else 1.0,
        )

    def _old_generation_pending(self, state: _UpdateState, before: int) -> bool:
        """Before a reset: did this update add or change steps the caller has not seen?"""
        if not self._flushed:
            self._flush_mapper()
        if state.reset:  # a reset earlier in this update: every step now is unseen
            return len(self.run) > 0
        return len(self.run) != before or bool(state.changed)

    def _handle(self, item: TailItem, state: _UpdateState) -> None:
        if isinstance(item, Lines):
            self._lines(item, state)
        elif isinstance(item, HugeLine):
            self._read_huge_line(item, state)
        elif isinstance(item, LongLine):
            bad = too_long_line(item.offset, item.line, item.length, item.head, HUGE_LINE_BYTES)
            self.run._cols.add_problem(Problem(bad.line, bad.offset, bad.message, bad.preview))
        elif isinstance(item, Reset):
            if not self._flushed:
                self._flush_mapper()
            self._new_generation()
            state.reset = True
            state.notices.append(item.notice)
        else:
            state.notices.append(item.text)

    def _new_generation(self) -> None:

        cols = StepColumns(verify_id=self._verify_id)
        fd = os.dup(self._tail.fd) if self._tail.fd is not None else None
        chain = getattr(self._fmt.mapper, "CHAINS_MESSAGES", False) if self._fmt else False
        spill = (
            SpillFile(chain_messages=chain)
            if self._fmt is not None and self._fmt.name != "native"
            else None
        )
        self.run._swap(cols, fd, spill)
        self._mapper = self._fmt.mapper() if self._fmt is not None and self._fmt.mapper else None
        self._huge_at: set[int] = set()  # lines decoded as huge lines (strings spilled)
        light = self._fmt.light if self._fmt is not None and self.use_light else None
        self._light = light() if light is not None and self._mapper is not None else None
        self.run._remap = self._light.remap if self._light is not None else None
        self.run._shown = self._light.shown if self._light is not None else None
        self.run._invented = self._light.invented if self._light is not None else frozenset
        replayable = self._fmt.replay if self._fmt is not None and self.use_light else None
        self._replay = self._facts = None
        if replayable is not None and self._mapper is not None:
            self._facts = replayable.facts()
            self._mapper = self._facts
            self._replay = ReplaySteps(replayable, fd, spill, self._huge_at)
            self.run._invented = replayable.invented
        self.run._replay = self._replay
        self._since_checkpoint, self._epoch = CHECKPOINT_LINES, 0
        use_reader = getattr(self._mapper, "use_reader", None)
        if use_reader is not None:  # the mapper keeps old lines by reference
            use_reader(self._read_source)
        self._meta = Run()
        self._flushed = False
        self._sized = False
        self._trimmed = False

    def _publish(self) -> None:
        spill = self.run._spill
        if spill is not None:
            spill.flush()
        self.run.indexed_bytes = self._tail.offset
        cols = self.run._cols
        if not self._sized and cols.count >= SIZE_ID_MAP_AFTER and self._tail.offset > 0:
            self._sized = True
            cols.ids.reserve(cols.count * self._tail.size // self._tail.offset)

    # ----------------------------------------------------------------- lines
    def _lines(self, item: Lines, state: _UpdateState) -> None:
        if self._fmt is None and not self._detect(item, state):
            return
        data = item.data
        if len(data) > SLICE_BYTES and data.find(b"\n") == len(data) - 1:
            self._huge_line(data, item.offset, item.line, state)
            return
        fast = self._fmt is not None and self._fmt.name == "native" and index_fast.AVAILABLE
        if fast and not data.isascii():
            fast = _valid_utf8(data)
        if fast:
            self._fast_lines(data, item.offset, item.line, state)
        elif self._light is not None:
            self._light_lines(data, item.offset, item.line, state)
        else:
            self._slow_lines(data, item.offset, item.line, state)

    def _fast_lines(self, data: bytes, offset: int, line: int, state: _UpdateState) -> None:
        """Complete native lines in bulk (see :meth:`_in_bulk`)."""
        cols = self.run._cols

        def take(data: bytes, offset: int, line: int) -> bool:
            chunk = index_fast.decode_chunk(data, offset, line)
            return chunk is not None and index_fast.apply_chunk(
                cols, chunk, data, offset, state.changed
            )

        self._in_bulk(data, offset, line, state, take)

    def _light_lines(self, data: bytes, offset: int, line: int, state: _UpdateState) -> None:
        """Foreign lines through the format's light decoder (see :meth:`_in_bulk`)."""
        light, mapper, cols = self._light, self._mapper, self.run._cols
        assert light is not None and mapper is not None
        spill = self._spill_record if self.run._spill is not None else None

        def take(data: bytes, offset: int, line: int) -> bool:
            return apply_light(cols, light, mapper, data, offset, line, state.changed, spill)

        self._in_bulk(data, offset, line, state, take)

    def _in_bulk(self, data: bytes, offset: int, line: int, state: _UpdateState,
                 take: Callable[[bytes, int, int], bool]) -> None:
        """Complete lines through a bulk path (``take``: ``False`` when it declines a piece,
        having changed nothing). A declined piece is halved, and at :data:`BATCH_LINES` lines
        or fewer it is indexed line by line (the builder's rules, the format's mapper). The
        first line of the file always goes line by line: it may carry a BOM and usually makes
        the run record."""
        if offset == 0:
            cut = data.index(b"\n") + 1
            self._slow_lines(data[:cut], 0, line, state)
            data, offset, line = data[cut:], cut, line + 1
            if not data:
                return
        if take(data, offset, line):
            return
        if data.count(b"\n") <= BATCH_LINES:
            self._slow_lines(data, offset, line, state)
            return
        cut = data.find(b"\n", len(data) // 2, len(data) - 1)
        if cut < 0:
            cut = data.rfind(b"\n", 0, len(data) // 2)
        cut += 1
        self._in_bulk(data[:cut], offset, line, state, take)
        self._in_bulk(data[cut:], offset + cut, line + data.count(b"\n", 0, cut), state, take)

    def _spill_record(
        self, offset: int, line: int, record: dict[str, Any] | bytes, length: int
    ) -> tuple[int, int]:
        """A light decoder's ``span_end`` record, spilled as :meth:`_record` spills one (or
        given already as the spill's JSON line)."""
        assert self.run._spill is not None
        if isinstance(record, bytes):
            return self.run._spill.append_raw(record)
        return self.run._spill.append(offset, line, record, large=length > BIG_STRING_BYTES)

    def _slow_lines(self, data: bytes, offset: int, line: int, state: _UpdateState) -> None:
        """Complete lines, one at a time, through the builder's rules (the garbage collector
        paused, as for the fast paths: an importer's state and records hold no cycles, and
        collections walking a stateful importer's live state cost ~18 % of a Claude Code
        session's index)."""
        lines = data.split(b"\n")
        lines.pop()  # data ends with a newline: the last piece is empty
        starts = accumulate(map(add, map(len, lines), repeat(1)), initial=offset)
        with index_fast.gc_paused():
            for k, (raw, at) in enumerate(zip(lines, starts, strict=False)):
                self._slow_line(raw, at, line + k, state)

    def _read_huge_line(self, item: HugeLine, state: _UpdateState) -> None:
        """A line over 8 MiB: read once here and let go as soon as it is parsed."""
        if self._fmt is None or self._tail.fd is None:
            bad = too_long_line(item.offset, item.line, item.length, b"", MAX_LINE_BYTES)
            self.run._cols.add_problem(Problem(bad.line, bad.offset, bad.message, bad.preview))
            return
        data = os.pread(self._tail.fd, item.length + 1, item.offset)
        if len(data) != item.length + 1 or not data.endswith(b"\n"):
            message = "the file changed while this long line was being read"
            self.run._cols.add_problem(Problem(item.line, item.offset, message))
            return
        holder = [data]
        del data
        self._huge_line(holder, item.offset, item.line, state)

    def _huge_line(
        self, data: bytes | list[bytes], offset: int, line: int, state: _UpdateState
    ) -> None:
        """One line longer than a slice (``data`` ends with its newline), parsed in place: no
        copy of the line is made, so memory stays about the line plus its parsed value. Given
        in a one-item list, the bytes are let go right after parsing."""
        raw = data.pop() if isinstance(data, list) else data
        size = len(raw) - 1
        preview = raw[:256]
        view = memoryview(raw)[:size]
        if view[-1:] == b"\r":
            view = view[:-1]
        if offset == 0 and view[: len(BOM)] == BOM:
            view = view[len(BOM) :]
        import orjson

        spill = self.run._spill  # foreign: huge strings go to the spill once, undecoded
        try:
            value = decode_huge_line(view, spill)  # huge strings never decoded here
        except orjson.JSONDecodeError as exc:
            message = f"corrupt line of {size} bytes: {exc}"
            self.run._cols.add_problem(Problem(line, offset, message, preview_bytes(preview)))
            return
        finally:
            view.release()
            del raw
        if not isinstance(value, dict):
            message = f"a line of {size} bytes that is not a JSON object"
            self.run._cols.add_problem(Problem(line, offset, message, preview_bytes(preview)))
            return
        self._huge_at.add(offset)
        self._value(value, offset, size, line, state, preview)

    def _slow_line(self, data: bytes, offset: int, line: int, state: _UpdateState) -> None:
        """One line with the builder's rules: corrupt lines become problems, never errors."""
        cols = self.run._cols
        native = self._fmt is not None and self._fmt.name == "native"
        value = decode_bytes(data, offset, line, exact=not native)
        if value is None:
            return
        if isinstance(value, CorruptLine):
            cols.add_problem(Problem(line, offset, value.message, value.preview))
            return
        self._value(value, offset, len(data), line, state, data)

    def _value(
        self,
        value: dict[str, Any],
        offset: int,
        length: int,
        line: int,
        state: _UpdateState,
        data: bytes,
    ) -> None:
        """A decoded line (``data``: its bytes, or their start, for previews): a native record,
        or a foreign one for the format's mapper."""
        cols = self.run._cols
        native = self._fmt is not None and self._fmt.name == "native"
        if isinstance(value, RepairedRecord):
            cols.add_problem(Problem(line, offset, repaired_message(offset, line, value)))
        if native:
            self._record(value, offset, length, line, state)
            return
        assert self._mapper is not None
        if self._facts is not None:
            self._checkpoint(offset, line)
        try:
            records = list(self._mapper.feed(value, offset=offset, line=line))
        except Exception as exc:  # a bug in one importer must not stop reading the file
            log.exception(
                "the %s importer failed on the record at offset %d", self.format_name, offset
            )
            cols.add_problem(
                Problem(line, offset, f"importer failed on this record: {exc}", preview_bytes(data))
            )
            return
        if self._facts is not None and self._facts.epoch != self._epoch:
            assert self._replay is not None  # the context starts over after this line
            self._epoch = self._facts.epoch
            self._replay.resets.append(offset)
            self._since_checkpoint = CHECKPOINT_LINES
        for record in records:
            self._record(record, offset, length, line, state)

    def _checkpoint(self, offset: int, line: int) -> None:
        """Keep the facts mapper's state before this line, every
        :data:`~trace_tui.core.index.replay_steps.CHECKPOINT_LINES` lines at most (when it has
        a cheap copy: else at the next line that has one)."""
        self._since_checkpoint += 1
        if self._since_checkpoint < CHECKPOINT_LINES:
            return
        facts, replay = self._facts, self._replay
        assert facts is not None and replay is not None
        state = facts.checkpoint()
        if state is None and offset > 0:
            return
        cols = self.run._cols
        replay.add_checkpoint(offset, line, state, [cols.index_of(s) for s in facts.open_steps()])
        self._since_checkpoint = 0

    def _record(
        self, record: Any, offset: int, length: int, line: int | None, state: _UpdateState
    ) -> None:
        cols = self.run._cols
        rtype = record.get("type") if isinstance(record, dict) else None
        if rtype in ("run", "branch"):
            self._meta_record(record, offset, line)
            return
        ref_offset, ref_length = offset, length
        spill = self.run._spill
        origin = ORIGIN_REPLAY if self._facts is not None else ORIGIN_RECORD
        if spill is not None and origin == ORIGIN_RECORD:
            ref_offset, ref_length = spill.append(
                offset, line or 0, record, large=length > BIG_STRING_BYTES
            )
        before = cols.count
        index = cols.add_record(
            record,
            offset=offset,
            line=line,
            ref_offset=ref_offset,
            ref_length=ref_length,
            changed=state.changed,
            origin=origin,
        )
        if index is not None and index < before:
            state.changed.add(index)

    def _meta_record(self, record: dict[str, Any], offset: int, line: int | None) -> None:
        builder = RunBuilder(self._meta)
        builder.add(record, offset=offset, line=line)
        self.run.info, self.run.branch = self._meta.info, self._meta.branch
        for problem in self._meta.problems:
            self.run._cols.add_problem(problem)
        self._meta.problems.clear()

    def _flush_mapper(self) -> None:
        """The file is finished: records an importer still holds are added now."""
        self._flushed = True
        if self._mapper is None or self._fmt is None or self._fmt.name == "native":
            return
        state = _UpdateState()
        if self._replay is not None:
            self._replay.finish_at = self._tail.offset
        try:
            records = list(self._mapper.finish())
        except Exception as exc:
            log.exception("the %s importer failed at the end of the file", self.format_name)
            self.run._cols.add_problem(Problem(None, None, f"importer failed at the end: {exc}"))
            return
        for record in records:
            self._record(record, self._tail.offset, 0, 0, state)
        self._publish()

    def _read_source(self, offset: int) -> dict[str, Any] | None:
        """The trace line at ``offset`` parsed as it was fed to the mapper (a huge line's
        strings as the same stand-ins: the spill keeps each once), or ``None``. A mapper
        keeping old lines by reference reads them here (``use_reader``)."""
        fd = self.run._fd
        if fd is None:
            return None
        return source_value(read_line_at(fd, offset), offset, self._huge_at, self.run._spill)

    def _verify_id(self, index: int, span_id: str) -> bool:
        """Re-read step ``index``'s record: does it really carry ``span_id``? (hash check)."""
        run, cols = self.run, self.run._cols
        if cols.origin[index] == ORIGIN_REPLAY and run._replay is not None:
            with run._lock:
                placed = run._replay.records(cols, index)
            return not placed or placed[0][2].get("span_id") == span_id
        fd = run._spill.fd if run._spill is not None else run._fd
        if fd is None:
            return True
        if run._spill is not None:
            run._spill.flush()
        import orjson

        light = cols.origin[index] == ORIGIN_SOURCE_LINE and run._remap is not None
        if light and run._fd is not None:
            fd = run._fd
        data = read_line_at(fd, cols.offset[index], cols.length[index])
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError:
            return True
        if light and run._remap is not None:
            value = run._remap(value, position_in_line(cols, index), cols.line[index])
        record = value[2] if isinstance(value, list) else value
        return not isinstance(record, dict) or record.get("span_id") == span_id

    # ----------------------------------------------------------------- formats
    def _detect(self, item: Lines, state: _UpdateState) -> bool:
        """Pick the format from the first lines of a file that did not exist at open."""
        fmt = detect_from_bytes(self.path, item.data[:HEAD_BYTES])
        if isinstance(fmt, str) or not fmt.line_oriented:
            why = fmt if isinstance(fmt, str) else f"{fmt.title} cannot be followed line by line"
            self._failed = f"{self.path}: {why}"
            state.notices.append(self._failed)
            return False
        self._fmt, self.format_name = fmt, fmt.name
        self.run.format_name = fmt.name
        self._new_generation()
        return True


class _UpdateState:
    """What one update has seen so far."""

    __slots__ = ("changed", "notices", "reset")

    def __init__(self) -> None:
        self.changed: set[int] = set()
        self.notices: list[str] = []
        self.reset = False


def detect_from_bytes(path: Path, data: bytes) -> TraceFormat | str:
    """The format of a file whose first bytes are ``data``, or a message saying what was seen.

    The registry's rule (:func:`~trace_tui.core.formats.registry.detect_head`) on bytes this
    reader already holds (so a path that turned into a FIFO is never opened again to sniff it).
    """
    try:
        return detect_head(head_of(path, data))
    except FormatError as exc:
        return str(exc)


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
