"""Which steps a span-tree view shows: collapsed subtrees hidden, filter matches kept.

The tree lists steps in step order (row = step when nothing is hidden), so the usual case is
the identity and costs nothing. When steps are collapsed or a filter is set,
:class:`TreeVisibility` keeps the sorted list of shown step indices, built with flat byte
arrays so a million steps take a fraction of a second, and extended incrementally as a live
run grows. A filter keeps its matches *and* their ancestors, so a match is seen in context.

Pure logic over parent indices (see :class:`~trace_tui.core.navigation.run_facts.RunFacts`); no UI.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from itertools import compress


class TreeVisibility:
    """The shown rows of a span tree over ``count`` steps."""

    def __init__(self) -> None:
        self.collapsed: set[int] = set()
        self._matched: bytearray | None = None  # 1 where the filter matched
        self._keep = bytearray()  # matched, or an ancestor of a match
        self._hidden = bytearray()  # has a collapsed ancestor
        self._rows: array[int] | None = None
        self.count = 0

    def clone(self) -> TreeVisibility:
        """An independent copy (to rebuild in a worker and swap in when done)."""
        other = TreeVisibility()
        other.collapsed = set(self.collapsed)
        other._matched = None if self._matched is None else bytearray(self._matched)
        other._keep = bytearray(self._keep)
        other._hidden = bytearray(self._hidden)
        other._rows = None if self._rows is None else array("i", self._rows)
        other.count = self.count
        return other

    # ----------------------------------------------------------------- state
    @property
    def active(self) -> bool:
        """True when something is hidden by collapse or filter."""
        return bool(self.collapsed) or self._matched is not None

    @property
    def filtered(self) -> bool:
        """True while a filter is applied."""
        return self._matched is not None

    def is_match(self, index: int) -> bool:
        """True when the filter matched the step itself (not only a descendant)."""
        matched = self._matched
        return matched is not None and 0 <= index < len(matched) and bool(matched[index])

    @property
    def match_count(self) -> int:
        """How many steps the filter matched."""
        return 0 if self._matched is None else self._matched.count(1)

    # ----------------------------------------------------------------- rows
    def __len__(self) -> int:
        return self.count if self._rows is None else len(self._rows)

    def step_at(self, row: int) -> int:
        """The step index shown at ``row``."""
        return row if self._rows is None else self._rows[row]

    def row_of(self, step: int) -> int | None:
        """The row showing ``step``, or ``None`` when it is hidden."""
        if self._rows is None:
            return step if 0 <= step < self.count else None
        pos = bisect_left(self._rows, step)
        return pos if pos < len(self._rows) and self._rows[pos] == step else None

    def nearest_row(self, step: int) -> int:
        """The row of ``step``, or of the first shown step after it (last row if none)."""
        if self._rows is None:
            return max(0, min(step, self.count - 1))
        pos = bisect_left(self._rows, step)
        return max(0, min(pos, len(self._rows) - 1))

    def rows_upto(self, step: int) -> int:
        """How many rows show steps at or before ``step``."""
        if self._rows is None:
            return max(0, min(step + 1, self.count))
        return bisect_left(self._rows, step + 1)

    # ----------------------------------------------------------------- changes
    def set_filter(self, matches: Iterable[int] | None, count: int, parents: Sequence[int]) -> None:
        """Apply a filter (step indices that matched) or clear it with ``None``; rebuilds.

        A new filter expands everything first, so no match stays hidden in a collapsed step.
        """
        if matches is not None:
            self.collapsed.clear()
        if matches is None:
            self._matched = None
        else:
            self._matched = bytearray(count)
            for index in matches:
                if 0 <= index < count:
                    self._matched[index] = 1
        self.rebuild(count, parents)

    def toggle(self, step: int, count: int, parents: Sequence[int]) -> bool:
        """Collapse or expand ``step``; returns True when it is now collapsed."""
        if step in self.collapsed:
            self.collapsed.discard(step)
        else:
            self.collapsed.add(step)
        self.rebuild(count, parents)
        return step in self.collapsed

    def set_collapsed(self, steps: Iterable[int], count: int, parents: Sequence[int]) -> None:
        """Replace the collapsed set (``[]`` expands everything) and rebuild."""
        self.collapsed = set(steps)
        self.rebuild(count, parents)

    def reveal(self, step: int, count: int, parents: Sequence[int]) -> bool:
        """Expand every collapsed ancestor of ``step``; True when anything changed."""
        changed = False
        parent = parents[step] if 0 <= step < len(parents) else -1
        while parent >= 0:
            if parent in self.collapsed:
                self.collapsed.discard(parent)
                changed = True
            parent = parents[parent]
        if changed:
            self.rebuild(count, parents)
        return changed

    def rebuild(self, count: int, parents: Sequence[int]) -> None:
        """Recompute every shown row for ``count`` steps (O(count), C-speed where possible)."""
        self.count = count
        if not self.active:
            self._rows, self._hidden, self._keep = None, bytearray(), bytearray()
            return
        self._hidden = bytearray(count)
        self._mark_hidden(0, count, parents)
        self._keep = bytearray(count)
        if self._matched is None:
            self._keep = bytearray(b"\x01") * count
        else:
            self._matched.extend(bytes(max(0, count - len(self._matched))))
            for index in compress(range(count), self._matched):
                self._keep_with_ancestors(index, parents)
        shown = bytes(k & (1 - h) for k, h in zip(self._keep, self._hidden, strict=True))
        self._rows = array("i", compress(range(count), shown))

    def extend(self, count: int, parents: Sequence[int], matches: Iterable[int] = ()) -> None:
        """The run grew to ``count`` steps; ``matches`` are new filter matches among them."""
        old = self.count
        if count <= old:
            return
        self.count = count
        if not self.active or self._rows is None:
            return
        self._hidden.extend(bytes(count - old))
        self._mark_hidden(old, count, parents)
        self._keep.extend((b"\x01" if self._matched is None else b"\x00") * (count - old))
        if self._matched is not None:
            self._matched.extend(bytes(count - len(self._matched)))
            for index in matches:
                if 0 <= index < count:
                    self._matched[index] = 1
                    self._keep_with_ancestors(index, parents, insert_below=old)
        for index in range(old, count):
            if self._keep[index] and not self._hidden[index]:
                self._rows.append(index)

    def add_matches(self, matches: Iterable[int], parents: Sequence[int]) -> None:
        """Filter matches found later among steps already counted (a worker caught up)."""
        if self._matched is None or self._rows is None:
            return
        for index in matches:
            if 0 <= index < self.count and not self._matched[index]:
                self._matched[index] = 1
                self._keep_with_ancestors(index, parents, insert_below=self.count)

    def _mark_hidden(self, start: int, end: int, parents: Sequence[int]) -> None:
        if not self.collapsed:
            return
        collapsed, hidden = self.collapsed, self._hidden
        first = max(start, min(self.collapsed) + 1)
        for index in range(first, min(end, len(parents))):
            parent = parents[index]
            if parent >= 0 and (parent in collapsed or hidden[parent]):
                hidden[index] = 1

    def _keep_with_ancestors(
        self, index: int, parents: Sequence[int], *, insert_below: int = 0
    ) -> None:
        """Keep ``index`` and its ancestors; rows below ``insert_below`` are inserted now."""
        keep = self._keep
        while 0 <= index < len(keep) and not keep[index]:
            keep[index] = 1
            if index < insert_below and self._rows is not None and not self._hidden[index]:
                if self.row_of(index) is None:
                    insort(self._rows, index)
            index = parents[index] if index < len(parents) else -1
