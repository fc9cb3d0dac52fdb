"""Steps of a stateful foreign format, indexed from facts and rebuilt by replaying the mapper.

A format with a :class:`~trace_tui.core.formats.base.Replayable` (Codex rollouts: a model
call's input is the conversation so far) is indexed by its mapper in *facts mode*: the records
carry only what the columns keep, and the steps are marked
:data:`~trace_tui.core.index.columns.ORIGIN_REPLAY` (``offset``/``length``/``line``: the step's
first source line; ``end_offset``: the source line of its last ``span_end``). Nothing is
spilled. Every :data:`CHECKPOINT_LINES` lines (and right after the carried context starts
over) the indexer keeps the facts mapper's :meth:`~trace_tui.core.formats.base.FactsMapper.
checkpoint` here (:meth:`ReplaySteps.add_checkpoint`).

When a view shows such a step, :meth:`ReplaySteps.records` restores a full mapper from the
nearest checkpoint at or before the step's first line, feeds it the trace's lines up to the
line of the step's last ``span_end`` (the end of the file and ``finish()`` for an end the
mapper made there), and hands back that step's records, as the mapper's path would have
spilled them. A few replay *sessions* are kept (LRU), each with the records of the recent
steps it made, so moving forward through a run does not replay again.

Search (:meth:`ReplaySteps.reach`): the text of a line can be in the steps whose lines it lies
among (from a step's first line to the line of its last ``span_end``), and, per the format's
``carried(value)``, in later steps of the context kinds (a model call's input).
"""

from __future__ import annotations

import os
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from trace_tui.core.formats.base import CARRY_ALWAYS, CARRY_NONE, RecordMapper, Replayable
from trace_tui.core.index.blobs import BlobReader, SpilledText
from trace_tui.core.index.columns import KIND_CODES, ORIGIN_REPLAY, STATUS_CODES, StepColumns
from trace_tui.core.index.store import SpillFile, read_line_at, source_value
from trace_tui.core.io.jsonl import HUGE_LINE_BYTES

#: A checkpoint is kept at most every this many lines (the longest replay before a step's
#: first line, when the mapper has a cheap copy of its state there).
CHECKPOINT_LINES = 128
#: Steps whose records a replay session keeps (the oldest go first).
SESSION_STEPS = 256
#: Replay sessions kept (least recently used goes first).
SESSIONS = 4
#: A session behind a step's line is fed on to it when it is at most this far behind (else a
#: nearer checkpoint is restored).
CONTINUE_BYTES = 4 * 1024 * 1024
_BLOCK = 1024 * 1024
_RUNNING = STATUS_CODES["running"]

#: One record a replay made: (source offset, source line, native record).
Placed = tuple[int, int, dict[str, Any]]


class ReplaySteps:
    """The checkpoints of one file generation and the replay sessions that rebuild its steps
    (see module doc). The indexer adds checkpoints on its thread; views call
    :meth:`records` under the run's lock."""

    def __init__(self, replayable: Replayable, fd: int | None, spill: SpillFile | None,
                 huge_at: set[int]) -> None:  # fmt: skip
        self.replayable = replayable
        self.fd = fd
        self.spill = spill
        self.offsets = array("q")
        self.lines = array("q")
        self.states: list[Any] = []
        #: Steps a later line may still add to, at each checkpoint (indices).
        self.open: list[tuple[int, ...]] = []
        #: Lines after which the carried context started over (ascending offsets).
        self.resets = array("q")
        #: Lines the indexer decoded as huge lines (their huge strings held in the spill).
        self.huge = huge_at
        #: Where the indexer called the mapper's ``finish()`` (its records are placed there).
        self.finish_at: int | None = None
        self._sessions: list[_Session] = []
        self._context = bytes(KIND_CODES[kind] for kind in replayable.context_kinds)

    # ----------------------------------------------------------------- indexing
    def add_checkpoint(self, offset: int, line: int, state: Any, open_steps: list[int]) -> None:
        """The facts mapper's state before the line at ``offset`` (number ``line``)."""
        self.states.append(state)
        self.open.append(tuple(i for i in open_steps if i >= 0))
        self.lines.append(line)
        self.offsets.append(offset)  # last: a reader bisects the offsets

    # ----------------------------------------------------------------- rebuilding
    def records(self, cols: StepColumns, index: int,
                blobs: BlobReader | None = None) -> list[Placed] | None:  # fmt: skip
        """Step ``index``'s records (its first record, then its ``span_end`` records in file
        order), made by replaying the mapper; ``None`` if they cannot be made again (the file
        changed). Huge strings are read back through ``blobs`` if given (the step loader's,
        which counts them in the step's size)."""
        start = cols.offset[index]
        target = max(start, cols.end_offset[index])
        session = self._session_for(index, start)
        if session is None:
            return None
        session.keep = index
        session.feed_to(target, cols)
        placed = session.collected.get(index)
        if not placed:
            return None
        if self.huge and self.spill is not None:
            reader = blobs if blobs is not None else BlobReader(self.spill.fd)
            placed = [(at, line, _whole(record, reader)) for at, line, record in placed]
        return placed

    def _session_for(self, index: int, start: int) -> _Session | None:
        sessions = self._sessions
        chosen = next((s for s in sessions if index in s.collected), None)
        if chosen is None:
            behind = [s for s in sessions if not s.finished and s.next_offset <= start
                      and s.collect_from <= start]  # fmt: skip
            best = max(behind, key=lambda s: s.next_offset, default=None)
            k = bisect_right(self.offsets, start) - 1
            if best is not None and (start - best.next_offset <= CONTINUE_BYTES
                                     or k < 0 or self.offsets[k] <= best.next_offset):
                chosen = best
            elif k >= 0:
                chosen = self._restore(k)
            if chosen is None:
                return None
        if chosen in sessions:
            sessions.remove(chosen)
        sessions.insert(0, chosen)
        del sessions[SESSIONS:]
        return chosen

    def _restore(self, k: int) -> _Session | None:
        reader = _Lines(self)
        try:
            mapper = self.replayable.restore(self.states[k], reader.value)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None
        return _Session(self, mapper, self.offsets[k], self.lines[k], reader)

    def decode(self, raw: bytes, offset: int, line: int) -> Any:
        """A source line's value, decoded as the indexer decoded it (``None``: not a record)."""
        return source_value(raw, offset, self.huge, self.spill, line)

    # ----------------------------------------------------------------- search
    def reach(
        self, cols: StepColumns, count: int, members: Any
    ) -> Callable[[int, bytes], list[int]]:
        """``near(offset, line)``: the steps (among ``members``, below ``count``) whose records
        may hold text of the source line at ``offset`` (its bytes ``line``): those whose lines
        it lies among, and later steps of the context kinds it is carried into. Later steps
        already given for a carried line are not given again by the same ``near``."""
        key = cols.offset.__getitem__
        kinds, context = cols.kind, self._context
        #: Carried lines come in file order: the later steps given for the last one (all of
        #: them, or those up to an epoch's end) hold those a later line would give.
        given = {"after": -1, "always": False, "stop": -1}

        def near(offset: int, line: bytes) -> list[int]:
            k = bisect_right(self.offsets, offset) - 1
            since = self.offsets[k] if k >= 0 else 0
            found = [i for i in (self.open[k] if k >= 0 else ()) if i < count
                     and _reaches(cols, i, offset)]  # fmt: skip
            lo = bisect_left(members, since, key=key)
            hi = bisect_right(members, offset, key=key)
            found += [i for i in members[lo:hi] if _reaches(cols, i, offset)]
            if cols.extra_ends:  # a step ended again after a checkpoint saw it ended (a late
                known = set(found)  # line reopened it: a Claude Code message's late block)
                found += [i for i in list(cols.extra_ends) if i < count and i not in known
                          and cols.offset[i] < since and _reaches(cols, i, offset)]  # fmt: skip
            value = self.decode(line, offset, 0)
            carry = self.replayable.carried(value) if value is not None else CARRY_NONE
            if carry == CARRY_NONE:
                return found
            if offset < given["after"]:  # not in file order: start over
                given.update(after=-1, always=False, stop=-1)
            if given["always"]:
                return found
            stop = len(members)
            if carry != CARRY_ALWAYS:
                r = bisect_right(self.resets, offset)
                if r < len(self.resets):
                    stop = bisect_right(members, self.resets[r], key=key)
                if stop == given["stop"]:
                    return found
            given.update(after=offset, always=carry == CARRY_ALWAYS, stop=stop)
            found += [i for i in members[hi:stop] if kinds[i] in context]
            return found

        return near


def _reaches(cols: StepColumns, index: int, offset: int) -> bool:
    """Does step ``index``'s span of lines (first line to its last ``span_end``'s) hold the
    line at ``offset``? (A step still running reaches every later line.)"""
    start = cols.offset[index]
    if start > offset or cols.origin[index] != ORIGIN_REPLAY:
        return False
    end = cols.end_offset[index]
    return end >= offset or start == offset or (end < 0 and cols.status[index] == _RUNNING)


class _Lines:
    """Reads source lines a block at a time (the conversation's lines come in file order)."""

    def __init__(self, steps: ReplaySteps) -> None:
        self.steps = steps
        self._at = 0
        self._block = b""

    def raw(self, offset: int) -> bytes | None:
        """The line at ``offset`` without its newline (``None``: no whole line there)."""
        block, at = self._block, self._at
        if at <= offset < at + len(block):
            cut = block.find(b"\n", offset - at)
            if cut >= 0:
                return block[offset - at : cut]
        fd = self.steps.fd
        if fd is None:
            return None
        data = os.pread(fd, _BLOCK, offset)
        cut = data.find(b"\n")
        if cut >= 0:
            self._at, self._block = offset, data
            return data[:cut]
        line = read_line_at(fd, offset)
        return line if len(line) <= HUGE_LINE_BYTES else None

    def value(self, offset: int) -> Any:
        """The parsed line at ``offset`` (``None`` if it does not read)."""
        raw = self.raw(offset)
        return None if raw is None else self.steps.decode(raw, offset, 0)


class _Session:
    """A full mapper replaying from a checkpoint, with the records of the steps it made."""

    def __init__(self, steps: ReplaySteps, mapper: RecordMapper, offset: int, line: int,
                 reader: _Lines) -> None:  # fmt: skip
        self.steps = steps
        self.mapper = mapper
        self.next_offset = offset
        self.next_line = line
        self.collect_from = offset
        self.finished = False
        #: The step being made (never let go while its records are collected).
        self.keep = -1
        self.collected: OrderedDict[int, list[Placed]] = OrderedDict()
        self._reader = reader

    def feed_to(self, target: int, cols: StepColumns) -> None:
        """Feed lines until the line at ``target`` is in (or the mapper's ``finish()`` when
        ``target`` is where the indexer called it)."""
        steps, reader = self.steps, self._reader
        finish_at = steps.finish_at
        to_finish = finish_at is not None and target >= finish_at  # (past an unended line)
        while not self.finished and (self.next_offset <= target or to_finish):
            at = self.next_offset
            if finish_at is not None and at >= finish_at:
                self._take(self.mapper.finish(), finish_at, 0, cols)
                self.finished = True
                return
            raw = reader.raw(at)
            if raw is None:  # the file changed (or ends in a part line): stop here
                self.finished = True
                return
            line = self.next_line
            self.next_offset, self.next_line = at + len(raw) + 1, line + 1
            value = steps.decode(raw, at, line)
            if isinstance(value, dict):
                try:
                    records = list(self.mapper.feed(value, offset=at, line=line))
                except Exception:  # as the indexer: the line gives nothing (a problem there)
                    continue
                self._take(records, at, line, cols)

    def _take(self, records: Any, offset: int, line: int, cols: StepColumns) -> None:
        collected = self.collected
        for record in records:
            if type(record) is not dict:
                continue
            kind, span_id = record.get("type"), record.get("span_id")
            if type(span_id) is not str:
                continue
            index = cols.index_of(span_id)
            if index < 0 or index >= cols.count:
                continue
            if kind == "span_end":
                placed = collected.get(index)
                if placed is not None:
                    placed.append((offset, line, record))
            elif (kind in ("span", "span_start") and offset >= self.collect_from
                  and cols.offset[index] == offset and cols.origin[index] == ORIGIN_REPLAY
                  and index not in collected):  # fmt: skip
                collected[index] = [(offset, line, record)]
                if len(collected) > SESSION_STEPS:
                    oldest = next(iter(collected))
                    if oldest == self.keep:  # the step being made stays
                        collected.move_to_end(oldest)
                        oldest = next(iter(collected))
                    dropped = collected.pop(oldest)
                    self.collect_from = max(self.collect_from, dropped[0][0] + 1)


def _whole(value: Any, reader: BlobReader, depth: int = 0) -> Any:
    """``value`` with each huge string's stand-in replaced by the whole string, as a record
    read back from the spill has it."""
    if isinstance(value, SpilledText):
        text = reader.text(value.ref)
        return value if text is None else text
    if depth > 66 or not isinstance(value, (dict, list)):
        return value
    if isinstance(value, dict):
        return {k: _whole(v, reader, depth + 1) for k, v in value.items()}
    return [_whole(v, reader, depth + 1) for v in value]
