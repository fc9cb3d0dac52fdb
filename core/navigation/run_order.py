"""The run's order of steps: by start time, parents before children, ties by file order.

Files do not keep that order: an OpenTelemetry exporter writes a span when it *ends*, so the
Collector's file has the root last, below its children; other formats interleave bookkeeping.
Storage (a :class:`~trace_tui.core.model.run.Run`'s records, the index's columns) stays in
file order; this module computes the permutation that views show, step numbers included:

``order[k]`` is the file position of the step shown as number ``k + 1``.

A step without a start time takes the start of the step before it in the file (so it stays
where the file put it relative to its neighbours). A step that starts before its parent (clock
skew, or a parent stamped late) is still shown after the parent: each step brings its
not-yet-placed ancestors in first, outermost first.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Sequence
from dataclasses import replace
from operator import eq, lt
from typing import Any

from trace_tui.core.model.run import Step, StepRow


def run_order(parents: Sequence[int], starts: Sequence[float | None]) -> list[int]:
    """The display order of steps given each one's parent position (``-1``: a root) and start.

    ``parents`` and ``starts`` are in file order. Returns file positions in display order.
    """
    count = len(parents)
    keys: list[float] = []
    last = float("-inf")
    for start in starts:
        if start is not None:
            last = start
        keys.append(last)
    # by start, ties in file order (the sort is stable)
    ordered = sorted(range(count), key=keys.__getitem__)
    if _parents_come_first(ordered, parents):
        return ordered  # every step's parent is already placed when it comes: nothing moves
    placed = bytearray(count)
    order: list[int] = []
    for position in ordered:
        if placed[position]:
            continue
        chain = []
        at = position
        while 0 <= at < count and not placed[at] and at not in chain:
            chain.append(at)
            at = parents[at]
        for step in reversed(chain):
            placed[step] = 1
            order.append(step)
    return order


def _parents_come_first(ordered: list[int], parents: Sequence[int]) -> bool:
    """Whether each step's parent (a position in range, else none) comes before it in
    ``ordered``: then :func:`run_order` places no ancestor early. C-level passes."""
    count = len(ordered)
    rank = ranks(ordered)
    rank.append(-1)  # parent -1 (a root): placed
    try:
        if min(parents, default=0) < -1 or max(parents, default=0) >= count:
            return False  # parents out of range: the loop's rule (treated as roots)
        return all(map(lt, map(rank.__getitem__, parents), rank))
    except TypeError:
        return False


def ranks(order: Sequence[int]) -> list[int]:
    """``rank[order[k]] = k`` (the display position of each stored step), in C."""
    rank = [0] * len(order)
    deque(map(rank.__setitem__, order, range(len(order))), maxlen=0)
    return rank


def is_identity(order: Sequence[int]) -> bool:
    """True when the display order is the file order."""
    return all(map(eq, order, range(len(order))))


class OrderedRun:
    """A run view in run order over a view in file order (:func:`run_order`'s permutation).

    Display position ``k`` shows stored step ``order[k]``; rows and steps are given display
    indexes (``index``, ``parent_index``), so every pane, the cursor and time travel work in
    run order while the index keeps its columns in file order. Fast paths that read the
    columns in file order are permuted (``fact_columns``) or mapped (``light_attributes``);
    the byte scan (``scan_view``) is not offered here: :mod:`trace_tui.core.index.search`
    scans the file and maps its hits itself.
    """

    def __init__(self, inner: Any, order: list[int]) -> None:
        self.inner = inner
        self.order = order
        self.rank = ranks(order)
        self._facts: Any = None
        self._display: list[int] | None = None

    # ------------------------------------------- the index's fast paths, in display order
    @property
    def fact_columns(self) -> Any:
        """The index's fact columns permuted into run order (``None`` without an index)."""
        return self._fact_columns if hasattr(self.inner, "fact_columns") else None

    def _fact_columns(self, start: int, end: int) -> Any:
        if self._facts is None:  # this view's steps, in file order, read once
            self._facts = self.inner.fact_columns(0, len(self.order))
        full, shown = self._facts, self.order[start:end]
        if self._display is None:  # once per scan of the view, not once per chunk
            self._display = [*self.rank, -1]  # parent -1 (a root) stays -1
        display = self._display
        if end >= len(self.order):  # the last chunk: let the copies go (14 B/step)
            self._display = self._facts = None
        parents = array("i", map(display.__getitem__, map(full.parents.__getitem__, shown)))
        return type(full)(
            start,
            parents,
            bytes(map(full.kinds.__getitem__, shown)),
            bytes(map(full.status.__getitem__, shown)),
            array(full.input_tokens.typecode, map(full.input_tokens.__getitem__, shown)),
        )

    @property
    def light_attributes(self) -> Any:
        """The index's attribute reader at display positions (``None`` without an index)."""
        return self._light_attributes if hasattr(self.inner, "light_attributes") else None

    def _light_attributes(self, index: int, names: tuple[str, ...]) -> dict[str, Any]:
        return dict(self.inner.light_attributes(self.order[index], names))

    def __len__(self) -> int:
        return len(self.order)

    def __getattr__(self, name: str) -> Any:  # info, branch, path, format_name, problems...
        return getattr(self.inner, name)

    @property
    def version(self) -> int:
        """The stored run's version (this view is replaced, not changed, when order moves)."""
        return int(self.inner.version)

    def position_of(self, stored: int) -> int:
        """The display position of the step stored at ``stored``."""
        return self.rank[stored]

    def row(self, index: int) -> StepRow:
        """The row shown at ``index``, with display indexes."""
        row = self.inner.row(self.order[index])
        parent = self.rank[row.parent_index] if 0 <= row.parent_index < len(self.rank) else -1
        return replace(row, index=index, parent_index=parent)

    def step(self, index: int) -> Step:
        """The step shown at ``index`` (a copy numbered in run order)."""
        return replace(self.inner.step(self.order[index]), index=index)

    def index_of(self, span_id: str) -> int:
        """The display position of the step with this span id, or -1."""
        stored = int(self.inner.index_of(span_id))
        return self.rank[stored] if 0 <= stored < len(self.rank) else -1

    def find(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        start: int = 0,
        backward: bool = False,
    ) -> int:
        """The next (or previous) display position from ``start`` with this status/kind."""
        positions = (
            range(min(start, len(self) - 1), -1, -1)
            if backward
            else range(max(0, start), len(self))
        )
        for i in positions:
            row = self.row(i)
            if (status is None or row.status == status) and (kind is None or row.kind == kind):
                return i
        return -1

    def scan_view(self) -> None:
        """No byte scan over a reordered view (its columns are in file order)."""
        return None


def _parents_and_starts(run: Any, count: int) -> tuple[Sequence[int], list[float | None]]:
    """Each step's parent position and start time, from the index's columns when it has
    them (a million rows are not built), else row by row."""
    columns = getattr(run, "order_columns", None)
    if columns is not None:
        parents, starts = columns(count)
        return parents, [None if s != s else s for s in starts]
    rows = [run.row(i) for i in range(count)]
    return [r.parent_index for r in rows], [r.start_time for r in rows]


class RunOrdering:
    """Keeps the run order of a growing view: cheap while steps arrive in order, a full sort
    when one arrives out of order (a parent written after its children)."""

    def __init__(self) -> None:
        self.order: Sequence[int] = []
        self._last_key = float("-inf")
        self._identity = True
        self._checked = True  # False while steps were taken in file order unchecked
        #: The view last computed, and the (count, version) of the run it was computed for.
        self._view: Any = None
        self._key: tuple[int, Any] | None = None

    def update(self, run: Any, *, settle: bool = True) -> tuple[Any, list[int] | None]:
        """The view to show for ``run`` and, when steps already shown moved, the previous
        order (display position → stored index) so the caller can keep its place.

        With ``settle`` false (the file is still being read for the first time) steps are
        shown in file order until reading is done: one reorder at the end, not one per chunk.
        """
        count = len(run)
        if count < len(self.order):  # the file started over
            self.__init__()  # type: ignore[misc]
        if self._identity and not settle:
            # a range, not a list: this runs after every chunk of a first read
            self.order, self._checked = range(count), False
            return run, None
        if self._identity and self._checked and self._appends_in_order(run, count):
            return run, None
        key = (count, getattr(run, "version", None))
        if key == self._key and key[1] is not None and self._view is not None:
            return self._view, None  # nothing new since the last sort (a reader's idle pass)
        parents, starts = _parents_and_starts(run, count)
        order = run_order(parents, starts)
        previous = list(self.order)
        self.order, self._checked = order, True
        known = [s for s in starts if s is not None]
        self._last_key = max(known, default=float("-inf"))
        self._identity = is_identity(order)
        if self._identity:
            self._view, self._key = None, None
            return run, None
        moved = previous != order[: len(previous)]
        self._view, self._key = OrderedRun(run, order), key
        return self._view, (previous if moved else None)

    def _appends_in_order(self, run: Any, count: int) -> bool:
        """Extend the identity order with steps ``len(order)..count`` if they keep it."""
        start = len(self.order)
        key = self._last_key
        for i in range(start, count):
            row = run.row(i)
            if not -1 <= row.parent_index < i:
                return False
            if row.start_time is not None:
                if row.start_time < key:
                    return False
                key = row.start_time
        if isinstance(self.order, list):
            self.order.extend(range(start, count))
        else:  # the range of a first read: 0..start
            self.order = list(range(count))
        self._last_key = key
        return True
