"""The run view of the indexed reader: a :class:`~trace_tui.core.model.run.RunView` over columns.

:class:`IndexedRun` answers ``len``/``row``/``step`` from the :class:`StepColumns` of the current
file generation: ``row(i)`` is cheap, ``step(i)`` parses the payload on demand (LRU-cached).
:class:`~trace_tui.core.index.indexer.IndexedSource` fills it.

Threading: the source appends on one worker thread; ``len``/``row``/``step`` may be called from
the UI thread at any time. Steps are *published* by bumping the column count after all their
columns are written, so a reader never sees half a step; a new file generation swaps in a new
column set under a lock, and ``step`` reads under that lock.
"""

from __future__ import annotations

import os
import threading
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from itertools import compress, repeat
from operator import not_
from pathlib import Path
from typing import Any

from trace_tui.core.index.columns import KIND_CODES, NO_TOKENS, STATUS_CODES, StepColumns
from trace_tui.core.index.replay_steps import ReplaySteps
from trace_tui.core.index.store import RecordFiles, Remap, SpillFile, StepLoader
from trace_tui.core.model.run import BranchInfo, Problem, RunInfo, Step, StepRow, Usage


@dataclass(frozen=True, slots=True)
class ScanView:
    """The records of the first ``count`` steps: ``size`` bytes of ``fd`` (the trace, or the
    spill of mapped records when ``spilled``), for :mod:`trace_tui.core.index.byte_search`.

    ``members``: when only some steps have their records in ``fd``, their indices in file
    order (else every step does, in index order). ``light``: ``fd`` is a foreign trace whose
    lines the steps are mapped from again (see :data:`~trace_tui.core.index.columns.
    ORIGIN_SOURCE_LINE`): a line may make several steps, and ``invented`` holds the text the
    mapping may add that its line does not hold. ``other``: the view of the remaining steps.
    """

    cols: StepColumns
    count: int
    fd: int
    spilled: bool
    size: int
    generation: int
    members: array[int] | None = None
    light: bool = False
    invented: frozenset[str] = frozenset()
    other: ScanView | None = None
    #: Spill offsets of the later records that repeat a record's input messages without
    #: writing them (:meth:`~trace_tui.core.index.store.SpillFile.followers`).
    followers: Callable[[int], list[int]] | None = None
    #: The lowest offset the records at or after an offset are read back with (chained
    #: messages, huge strings held apart: :meth:`~trace_tui.core.index.store.SpillFile.
    #: reads_from`); ``None``: each record is read from its own line.
    reads_from: Callable[[int], int] | None = None
    #: Steps replayed from a stateful format's lines: ``near(offset, line)`` gives the steps
    #: whose records may hold the text of the line at ``offset`` (its bytes ``line``), which
    #: may come before their own first line (:meth:`~trace_tui.core.index.replay_steps.
    #: ReplaySteps.reach`).
    near: Callable[[int, bytes], list[int]] | None = None


@dataclass(frozen=True, slots=True)
class FactColumns:
    """Column slices of steps ``start .. start + len(kinds)`` for
    :class:`~trace_tui.core.navigation.run_facts.RunFacts` (kind and status codes in
    ``STEP_KINDS``/``STATUSES`` order; input tokens ``-1`` where not recorded)."""

    start: int
    parents: array[int]
    kinds: bytes
    status: bytes
    input_tokens: array[int]


class IndexedRun:
    """A :class:`~trace_tui.core.model.run.RunView` over the columns of the current file
    generation."""

    def __init__(self, path: Path, format_name: str) -> None:
        self.path: str | None = str(path)
        self.format_name = format_name
        self.info = RunInfo()
        self.branch: BranchInfo | None = None
        self.generation = 0
        self._cols = StepColumns()
        self._version = 0
        self._lock = threading.RLock()
        self._fd: int | None = None
        self._spill: SpillFile | None = None
        self._loader = StepLoader()
        #: The light decoder's ``remap`` for steps indexed from foreign source lines.
        self._remap: Remap | None = None
        #: The light decoder's ``shown`` (:meth:`~trace_tui.core.formats.base.LightDecoder.
        #: shown`): search's proof that a light step holds a word without mapping it.
        self._shown: Callable[[Any, int, Callable[[str], bool]], bool] | None = None
        #: Text the light decoder's mapping may write that its source line does not hold.
        #: The light decoder's invented words, asked for by the first byte scan (reading
        #: the mapping modules' source takes a quarter of a second).
        self._invented: Callable[[], frozenset[str]] = frozenset
        #: A stateful format's checkpoints and replays (steps indexed from facts).
        self._replay: ReplaySteps | None = None
        #: How many bytes of the file the search may scan: the end of the last complete line
        #: indexed (native), or of the spilled records (foreign); set by the source.
        self.indexed_bytes = 0

    @property
    def problems(self) -> list[Problem]:
        """Problems met in the current generation (corrupt lines, records that break rules)."""
        return self._cols.problems

    @property
    def version(self) -> int:
        """Changes whenever steps are added or updated, or the file starts over."""
        return self._version

    def __len__(self) -> int:
        return self._cols.count

    def row(self, index: int) -> StepRow:
        """The light facts of one step, straight from the columns."""
        return self._cols.row(index)

    def step(self, index: int) -> Step:
        """The full step with its payload, parsed on demand (``IndexError`` if out of range)."""
        with self._lock:
            cols = self._cols
            if not 0 <= index < cols.count:
                raise IndexError(f"step index {index} out of range (0..{cols.count - 1})")
            return self._loader.load(cols, index, self._files(), self.generation)

    def light_attributes(self, index: int, names: tuple[str, ...]) -> dict[str, Any]:
        """Some attributes of step ``index`` read without building the step (policy checks;
        see :func:`~trace_tui.core.index.light.read_attributes`)."""
        from trace_tui.core.index.light import read_attributes

        with self._lock:
            cols = self._cols
            if not 0 <= index < cols.count:
                raise IndexError(f"step index {index} out of range (0..{cols.count - 1})")
            return read_attributes(cols, index, self._files(), names)

    def index_of(self, span_id: str) -> int:
        """The index of the step with this span id, or -1."""
        return self._cols.index_of(span_id)

    def token_totals(self) -> Usage:
        """Summed usage over llm steps (like :meth:`Run.token_totals`)."""
        return self._cols.usage_totals()

    def find(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        start: int = 0,
        backward: bool = False,
    ) -> int:
        """The next (or previous) step index from ``start`` with this status/kind, or -1.

        A C-speed search over one-byte columns: "next error" on a million steps is instant.
        """
        cols = self._cols
        column, code = (
            (cols.status, STATUS_CODES[status]) if status else (cols.kind, KIND_CODES[kind or ""])
        )
        needle = bytes((code,))
        if backward:
            return column.rfind(needle, 0, max(0, min(start + 1, cols.count)))
        return column.find(needle, max(0, start), cols.count)

    def memory_bytes(self) -> int:
        """Bytes held by the index of the current generation (an estimate)."""
        return self._cols.memory_bytes()

    def fact_columns(self, start: int, end: int) -> FactColumns:
        """The columns :class:`RunFacts` reads, for steps ``[start, end)`` (C-speed slices)."""
        cols = self._cols
        end = min(end, cols.count)
        tokens = cols.tokens[0][start:end]
        if NO_TOKENS in tokens or min(tokens, default=0) < 0:
            if cols.big_tokens:  # a count beyond the column's range: step by step
                tokens = array("q", (_recorded(cols.tokens_of(i, 0)) for i in range(start, end)))
            else:  # not recorded (NO_TOKENS) or negative: -1, in C
                tokens = array("q", map(max, tokens, repeat(-1)))
        return FactColumns(start, cols.parent[start:end], bytes(cols.kind[start:end]),
                           bytes(cols.status[start:end]), tokens)

    def order_columns(self, count: int) -> tuple[array[int], array[float]]:
        """Parent positions and start times (``NaN``: none) of the first ``count`` steps, for
        :class:`~trace_tui.core.navigation.run_order.RunOrdering`."""
        cols = self._cols
        return cols.parent[:count], cols.start[:count]

    def scan_view(self) -> ScanView | None:
        """What a byte scan of the records needs, as of now (``None`` before any file)."""
        with self._lock:
            spill, cols = self._spill, self._cols
            fd = spill.fd if spill is not None else self._fd
            if fd is None:
                return None
            count = cols.count
            followers = spill.followers if spill is not None else None
            reads_from = spill.reads_from if spill is not None else None
            if spill is None or self._fd is None or not any(cols.origin[:count]):
                return ScanView(cols, count, fd, spill is not None,
                                spill.size if spill is not None else self.indexed_bytes,
                                self.generation, followers=followers,
                                reads_from=reads_from)  # fmt: skip
            spill.flush()
            origin = cols.origin[:count]
            members = array("i", compress(range(count), origin))
            near = self._replay.reach(cols, count, members) if self._replay is not None else None
            light = ScanView(cols, count, self._fd, False, self.indexed_bytes, self.generation,
                             members, True, self._invented(), near=near)  # fmt: skip
            spilled = array("i", compress(range(count), map(not_, origin)))
            return ScanView(cols, count, fd, True, spill.size, self.generation, spilled,
                            other=light, followers=followers, reads_from=reads_from)  # fmt: skip

    def _files(self) -> RecordFiles:
        """Where this generation's records are read from (call under the lock)."""
        spill = self._spill
        if spill is not None:
            spill.flush()
        replay = self._replay.records if self._replay is not None else None
        return RecordFiles(self._fd, spill.fd if spill is not None else None, self._remap,
                           replay=replay)  # fmt: skip

    # ----------------------------------------------------------------- for the source
    def _swap(self, cols: StepColumns, fd: int | None, spill: SpillFile | None) -> None:
        """Start a new generation: new columns, new file handles, empty cache."""
        with self._lock:
            old_fd, old_spill = self._fd, self._spill
            self._cols, self._fd, self._spill = cols, fd, spill
            self._replay = None
            self.info, self.branch = RunInfo(), None
            self.indexed_bytes = 0
            self.generation += 1
            self._loader.clear()
            self._version += 1
        if old_fd is not None:
            os.close(old_fd)
        if old_spill is not None:
            old_spill.close()

    def _touch(self) -> None:
        self._version += 1


def _recorded(tokens: int | None) -> int:
    """-1 for "not recorded" (or a negative count, which the facts ignore as well)."""
    return tokens if tokens is not None and 0 <= tokens < 2**63 else -1
