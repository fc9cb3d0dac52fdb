"""The span tree: one row per step in step order, drawn with the Line API.

Row *i* shows step *i* (indented by its depth), so the time-travel cursor is simply a row, and
a million steps cost only the rows on screen: ``render_line`` fetches the step's light
:class:`~trace_tui.core.model.run.StepRow` and returns a cached strip keyed by everything the row
shows (the row itself, cursor here, later than the cursor, still running at the cursor's time,
width, fold state, theme generation). Collapsed subtrees and filters go through
:class:`~trace_tui.core.navigation.visibility.TreeVisibility`; big rebuilds run in a worker.

The tree owns no cursor logic: it asks for moves with :class:`SpanTree.StepChosen` and the
screen answers with :meth:`SpanTree.set_cursor`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass
from typing import NamedTuple

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from trace_tui.core.model.run import RunView, StepRow
from trace_tui.core.navigation.run_facts import RunFacts
from trace_tui.core.navigation.visibility import TreeVisibility
from trace_tui.tui.display.formatting import fmt_duration, fmt_tokens
from trace_tui.tui.display.glyphs import (
    ERROR_SYMBOL,
    FOLD_CLOSED,
    FOLD_OPEN,
    POLICY_SYMBOLS,
    RUNNING_SYMBOL,
    kind_symbol,
)
from trace_tui.tui.display.safe_text import display_str

#: Up to this many steps, collapse and filter rebuild on the spot; above, in a worker.
SYNC_REBUILD_LIMIT = 200_000
_KINDS = ("agent", "llm", "tool", "retrieval", "other")


def fit_cells(text: str, width: int) -> str:
    """``text`` cut to ``width`` terminal cells (wide characters count two), with "…"."""
    if cell_len(text) <= width:
        return text
    return (chop_cells(text, max(1, width - 1))[0] + "…") if width > 1 else "…"


class _RowLook(NamedTuple):
    """Everything a tree row shows: the key of its drawn strip."""

    row: StepRow
    here: bool
    future: bool
    running_then: bool
    width: int
    fold: int
    context: bool
    generation: int
    digits: int
    mark: str | None
    replay: str | None
    evidence: bool


class SpanTree(ScrollView, can_focus=True):
    """Steps in step order, indented by depth; the cursor row is the step being inspected."""

    DEFAULT_CSS = """
    SpanTree { background: $surface; overflow-x: hidden; overflow-y: auto;
               scrollbar-size-vertical: 1; border-top: solid $pane-divider;
               border-title-color: $text-muted; border-title-align: left; }
    SpanTree > .span-tree--cursor { background: $step-cursor; text-style: bold; }
    SpanTree > .span-tree--agent { color: $step-agent; }
    SpanTree > .span-tree--llm { color: $step-llm; }
    SpanTree > .span-tree--tool { color: $step-tool; }
    SpanTree > .span-tree--retrieval { color: $step-retrieval; }
    SpanTree > .span-tree--other { color: $step-other; }
    SpanTree > .span-tree--error { color: $step-error; text-style: bold; }
    SpanTree > .span-tree--running { color: $step-running; }
    SpanTree > .span-tree--future { color: $step-future; text-style: not bold; }
    SpanTree > .span-tree--number { color: $text-muted; }
    SpanTree > .span-tree--meta { color: $text-muted; }
    SpanTree > .span-tree--match { text-style: underline; }
    SpanTree > .span-tree--context { color: $text-muted; text-style: italic; }
    SpanTree > .span-tree--blocked { color: $step-error; text-style: bold; }
    SpanTree > .span-tree--warned { color: $warning; }
    SpanTree > .span-tree--evidence { color: $step-error; text-style: bold; }
    SpanTree > .span-tree--pending { color: $gauge-warn; text-style: bold; }
    """

    COMPONENT_CLASSES = {
        "span-tree--cursor", "span-tree--error", "span-tree--running", "span-tree--future",
        "span-tree--number", "span-tree--meta", "span-tree--match", "span-tree--context",
        "span-tree--blocked", "span-tree--warned", "span-tree--evidence", "span-tree--pending",
        *(f"span-tree--{kind}" for kind in _KINDS),
    }

    BINDINGS = [
        Binding("down,j", "move(1)", "Next", show=False, id="tree.down",
                tooltip="Move the cursor to the next row (time travel forward)"),
        Binding("up,k", "move(-1)", "Prev", show=False, id="tree.up",
                tooltip="Move the cursor to the previous row (time travel back)"),
        Binding("pagedown,ctrl+d", "page(1)", "Page down", show=False, id="tree.page_down",
                tooltip="Move the cursor down a page"),
        Binding("pageup,ctrl+u", "page(-1)", "Page up", show=False, id="tree.page_up",
                tooltip="Move the cursor up a page"),
        Binding("home,g", "edge(0)", "Start", show=False, id="tree.start",
                tooltip="Rewind to the first step"),
        Binding("end,G", "edge(1)", "End", show=False, id="tree.end",
                tooltip="Jump to the last step (and follow a live trace)"),
        Binding("right,l", "expand", "Expand", show=False, id="tree.expand",
                tooltip="Expand the step's children, or go to its first child"),
        Binding("left,h", "collapse", "Collapse", show=False, id="tree.collapse",
                tooltip="Collapse the step's children, or go to its parent"),
        Binding("space", "toggle_fold", "Fold", show=False, id="tree.toggle",
                tooltip="Collapse or expand the step's children"),
        Binding("minus", "collapse_all", "Collapse all", show=False, id="tree.collapse_all",
                tooltip="Collapse every step that has children"),
        Binding("plus,equals_sign", "expand_all", "Expand all", show=False,
                id="tree.expand_all", tooltip="Expand every collapsed step"),
        Binding("enter", "open", "Inspect", show=False, id="tree.open",
                tooltip="Move focus to the payload inspector"),
    ]

    @dataclass
    class StepChosen(Message):
        """The user asked to move the cursor to step ``index`` (``to_end``: ``G``/End, the last
        row, or ``-1`` before any; while the trace is still being indexed the screen keeps going
        to the true end)."""

        index: int
        _: KW_ONLY
        to_end: bool = False

    class OpenInspector(Message):
        """Enter on a row: focus the inspector."""

    class VisibilityChanged(Message):
        """Rows were hidden or shown (collapse, expand, filter)."""

    def __init__(self, facts: RunFacts, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.facts = facts
        self.visibility = TreeVisibility()
        self._run: RunView | None = None
        self._count = 0
        self._cursor = -1
        self._cursor_start: float | None = None
        self._hide_future = False
        self._generation = 0
        self._cache: LRUCache[_RowLook, Strip] = LRUCache(1024)
        #: What each viewport line was last drawn as: (row number, how the row looked).
        self._drawn: dict[int, tuple[int, _RowLook | None]] = {}
        self._pass: tuple[int, int] | None = None
        self._styles: dict[str, Style] | None = None
        self._rebuilding = False
        self._pending_matches: list[int] = []
        self._marks: Mapping[int, str] = {}
        self._evidence: tuple[tuple[int, int], ...] = ()
        self._replay: Callable[[int], str | None] | None = None

    def on_mount(self) -> None:
        """Say what the columns are."""
        self._update_title()

    def on_resize(self, event: events.Resize) -> None:
        """The columns shown depend on the width: the title names only those."""
        self._update_title()

    def _update_title(self) -> None:
        width = self.scrollable_content_region.width or self.size.width
        parts = ["steps"]
        if self._replay is not None:
            parts.append("how replayed")
        if width >= 34:
            parts.append("time")
        if width >= 52:
            parts.append("tokens in→out")
        self.border_title = " · ".join(parts)

    # ----------------------------------------------------------------- data in
    @property
    def count(self) -> int:
        """How many steps the tree knows."""
        return self._count

    @property
    def cursor(self) -> int:
        """The step index at the cursor (``-1`` when there are no steps)."""
        return self._cursor

    @property
    def row_count(self) -> int:
        """How many rows are shown (after collapse, filter and hiding later steps)."""
        if self._hide_future and self._cursor >= 0:
            return self.visibility.rows_upto(self._cursor)
        return len(self.visibility)

    def set_run(self, run: RunView, count: int, *, scanned: int | None = None,
                reset: bool = False) -> None:
        """Show the first ``count`` steps of ``run`` (a grown or, with ``reset``, new run).

        ``scanned`` steps have their facts (parents) known; while steps are collapsed or
        filtered, only those can be placed, so later ones appear as the scan catches up.
        """
        self._run = run
        if reset:
            self.visibility = TreeVisibility()
            self._cache.clear()
            self._generation += 1
        known = count if scanned is None else min(count, scanned)
        vis = self.visibility
        if not vis.active:
            vis.count = count
        elif known > vis.count:
            vis.extend(known, self.facts.parents())
        elif count < vis.count:
            vis.rebuild(count, self.facts.parents())
        self._count = count
        self._update_size()
        self.refresh()

    def set_marks(self, marks: Mapping[int, str]) -> None:
        """Policy verdicts to mark: ``{step index: "blocked" | "warned"}`` (``{}``: none)."""
        self._marks = marks
        self.refresh()

    def set_evidence(self, ranges: Iterable[tuple[int, int]]) -> None:
        """Steps the verdict at the cursor rests on (inclusive index ranges): a ``┃`` after
        their numbers (``()``: none)."""
        evidence = tuple(ranges)
        if evidence != self._evidence:
            self._evidence = evidence
            self.refresh()

    def set_replay_marks(self, replay: Callable[[int], str | None] | None) -> None:
        """Show a one-cell mark per row saying how a branch's step was answered.

        ``replay(index)`` returns the mark (``=``, ``E``...) or ``None`` for a step the replay
        did not touch; ``None`` turns the column off (a run that is not a branch).
        """
        self._replay = replay
        self._update_title()
        self._generation += 1
        self.refresh()

    def set_cursor(self, index: int, cursor_start: float | None) -> None:
        """Put the cursor on step ``index`` (started at ``cursor_start``) and scroll to it.

        Within the page only the lines that change are repainted; a scroll repaints all."""
        self._cursor, self._cursor_start = index, cursor_start
        if self._hide_future:
            self._update_size()
        top = self.scroll_offset.y
        self.scroll_to_cursor()
        if self._hide_future or self.scroll_offset.y != top:
            self.refresh()
        else:
            self._refresh_changed_rows()

    def set_hide_future(self, hide: bool) -> None:
        """Hide steps after the cursor (True) or show them dimmed (False)."""
        self._hide_future = hide
        self._update_size()
        self.scroll_to_cursor()
        self.refresh()

    def scroll_to_cursor(self) -> None:
        """Scroll so the cursor row is visible."""
        row = self.visibility.row_of(self._cursor)
        if row is None:
            return
        height = max(1, self.scrollable_content_region.height)
        top = self.scroll_offset.y
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    def _update_size(self) -> None:
        self.virtual_size = Size(0, self.row_count)

    # ----------------------------------------------------------------- visibility
    def set_filter(self, matches: Iterable[int] | None) -> None:
        """Show only ``matches`` and their ancestors (``None`` clears the filter)."""
        found = None if matches is None else list(matches)
        self._rebuild(lambda vis, parents: vis.set_filter(found, self._count, parents))

    def add_filter_matches(self, matches: Iterable[int]) -> None:
        """More filter matches arrived (a worker caught up with new steps)."""
        found = list(matches)
        if self._rebuilding:  # applied to the rebuilt visibility when it is swapped in
            self._pending_matches.extend(found)
            return
        if found:
            self.visibility.add_matches(found, self.facts.parents())
            self._changed()

    def reveal(self, index: int) -> None:
        """Expand collapsed ancestors of ``index`` so its row is shown."""
        if self.visibility.collapsed:
            self._rebuild(lambda vis, parents: vis.reveal(index, self._count, parents))

    def _rebuild(self, change: Callable[[TreeVisibility, list[int]], object]) -> None:
        if self._count <= SYNC_REBUILD_LIMIT:
            change(self.visibility, list(self.facts.parents()))
            self._changed()
            return
        draft = self.visibility.clone()
        self._rebuilding = True

        def work() -> None:
            change(draft, list(self.facts.parents()))
            self.app.call_from_thread(self._swap, draft)

        self.run_worker(work, thread=True, exclusive=True, group="tree-visibility",
                        name="tree visibility")

    def _swap(self, visibility: TreeVisibility) -> None:
        self._rebuilding = False
        parents = self.facts.parents()
        if visibility.count < self._count:
            visibility.extend(min(self._count, len(parents)), parents)
        if self._pending_matches:
            visibility.add_matches(self._pending_matches, parents)
            self._pending_matches = []
        self.visibility = visibility
        self._changed()

    def _changed(self) -> None:
        self._generation += 1
        self._update_size()
        rows = len(self.visibility)
        if rows and self._cursor >= 0 and self.visibility.row_of(self._cursor) is None:
            # never leave the cursor on a hidden step: the nearest shown one takes it
            self._choose(self.visibility.step_at(self.visibility.nearest_row(self._cursor)))
        self.scroll_to_cursor()
        self.refresh()
        self.refresh_bindings()
        self.post_message(self.VisibilityChanged())

    # ----------------------------------------------------------------- drawing
    def notify_style_update(self) -> None:
        """The theme changed: drop cached styles and strips."""
        super().notify_style_update()
        self._styles = None
        self._cache.clear()

    def _style(self, name: str) -> Style:
        if self._styles is None:
            self._styles = {c.removeprefix("span-tree--"): self.get_component_rich_style(c)
                            for c in self.COMPONENT_CLASSES}
            self._styles["base"] = self.rich_style
        return self._styles[name]

    def render_lines(self, crop: Region) -> list[Strip]:
        """Draw the lines in ``crop``; the scroll offset and width are read once per pass."""
        self._pass = (self.scroll_offset.y, self.scrollable_content_region.width)
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    def _viewport(self) -> tuple[int, int]:
        """(first row shown, width) of the lines being drawn."""
        return self._pass or (self.scroll_offset.y, self.scrollable_content_region.width)

    def _row_key(self, row_no: int, width: int) -> _RowLook | None:
        """Everything row ``row_no`` shows, as a cache key (``None``: a blank line)."""
        if self._run is None or not 0 <= row_no < self.row_count:
            return None
        index = self.visibility.step_at(row_no)
        row = self._run.row(index)
        here = index == self._cursor
        future = index > self._cursor >= 0
        start = self._cursor_start
        running_then = (not future and not here and start is not None
                        and self._cursor < self._count - 1
                        and row.end_time is not None and row.end_time > start)
        fold = 0
        if self.facts.has_children(index):
            fold = 2 if index in self.visibility.collapsed else 1
        context = self.visibility.filtered and not self.visibility.is_match(index)
        mark = self._marks.get(index) if self._marks else None
        replay = self._replay(index) if self._replay is not None else None
        evidence = any(a <= index <= b for a, b in self._evidence) if self._evidence else False
        return _RowLook(row, here, future, running_then, width, fold, context, self._generation,
                        len(str(self._count)), mark, replay, evidence)

    def render_line(self, y: int) -> Strip:
        """Draw viewport line ``y``: a cache lookup, a row fetch and cheap styling."""
        top, width = self._viewport()
        key = self._row_key(top + y, width)
        self._drawn[y] = (top + y, key)
        base = self._style("base")
        if key is None:
            return Strip.blank(width, base)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._draw(key.row, key.here, key.future, key.running_then, width, key.fold,
                               key.context, base, key.mark, key.replay, key.evidence)
            self._cache[key] = strip
        return strip

    def _refresh_changed_rows(self) -> None:
        """Repaint only the lines whose row would now be drawn differently (the cursor moved
        within the page: usually two lines, not the whole pane)."""
        top, width = self.scroll_offset.y, self.scrollable_content_region.width
        for y in range(self.scrollable_content_region.height):
            row_no = top + y
            if self._drawn.get(y) != (row_no, self._row_key(row_no, width)):
                self.refresh_lines(row_no)

    def _lead(self) -> int:
        """Cells before the indent: the step number, a space, the replay mark column."""
        return len(str(max(1, self._count))) + 1 + (2 if self._replay is not None else 0)

    def _indent(self, row: StepRow, width: int) -> str:
        """The indent drawn before a row's fold mark (deep rows are capped with "┄ ")."""
        fixed = self._lead() + 2 + 2 + len(self._right_columns(row, width, False))
        room = max(4, width - fixed)
        depth = min(row.depth, max(0, (room - 8) // 2))
        return "  " * depth if depth == row.depth else "  " * (depth - 1) + "┄ "

    def _draw(self, row: StepRow, here: bool, future: bool, running_then: bool, width: int,
              fold: int, context: bool, base: Style, mark: str | None = None,
              replay: str | None = None, evidence: bool = False) -> Strip:
        digits = len(str(max(1, self._count)))
        error = row.status == "error" and not running_then
        running = row.status == "running" or running_then
        kind_style = self._style(row.kind if row.kind in _KINDS else "other")
        name_style = self._style("error") if error else (
            self._style("context") if context else Style.null())
        symbol = ERROR_SYMBOL if error else RUNNING_SYMBOL if running else kind_symbol(row.kind)
        symbol_style = self._style("error") if error else (
            self._style("running") if running else kind_style)
        if mark is not None:  # a policy verdict: ⊘ blocked, △ warned (colour is not the only sign)
            symbol = POLICY_SYMBOLS.get(mark, symbol)
            symbol_style = name_style = self._style(mark)
        right = self._right_columns(row, width, running, waiting=replay == "?")
        fixed = self._lead() + 2 + 2 + len(right)
        room = max(4, width - fixed)
        indent = self._indent(row, width)
        name_room = max(1, room - len(indent) - 1)
        name = fit_cells(display_str(row.name, one_line=True, limit=name_room), name_room)
        glyph = {0: "  ", 1: FOLD_OPEN + " ", 2: FOLD_CLOSED + " "}[fold]
        gap = max(1, width - fixed - len(indent) - cell_len(name))
        number = [(f"{row.index + 1:>{digits}} ", self._style("number"))]
        if evidence:  # a step the verdict at the cursor rests on (policy)
            number = [(f"{row.index + 1:>{digits}}", self._style("number")),
                      ("┃", self._style("evidence"))]
        pieces = [
            *number,
            ((replay or " ") + " " if self._replay is not None else "",
             self._style("pending") if replay == "?" else self._style("meta")),
            (indent + glyph, self._style("meta")),
            (symbol + " ", symbol_style),
            (name, name_style),
            (" " * gap, Style.null()),
            (right, self._style("running") if running else self._style("meta")),
        ]
        over = Style.null()
        if future:
            over += self._style("future")
        if here:
            over += self._style("cursor")
        segments = [Segment(text, base + style + over) for text, style in pieces if text]
        return Strip(segments).crop_extend(0, width, base + over)

    @staticmethod
    def _right_columns(row: StepRow, width: int, running: bool, waiting: bool = False) -> str:
        if width < 34:
            return ""
        if waiting:
            when = "waiting"
        elif running:
            when = "running"
        else:
            when = fmt_duration(row.duration)
        text = f"{when:>7}"
        if width >= 52:
            tokens = ""
            if row.input_tokens is not None or row.output_tokens is not None:
                tokens = (f"{fmt_tokens(row.input_tokens) or '?'}→"
                          f"{fmt_tokens(row.output_tokens) or '?'}")
            text += f" {tokens:>11}"
        return text

    # ----------------------------------------------------------------- actions
    def _choose(self, index: int) -> None:
        if 0 <= index < self._count and index != self._cursor:
            self.post_message(self.StepChosen(index))

    def _row_of_cursor(self) -> int:
        return self.visibility.nearest_row(self._cursor)

    def action_move(self, delta: int) -> None:
        """Move the cursor ``delta`` rows."""
        rows = len(self.visibility)
        if rows == 0:
            return
        here = self.visibility.row_of(self._cursor)
        if here is None:
            target = self._row_of_cursor() if delta > 0 else self._row_of_cursor() - 1
        else:
            target = here + delta
        self._choose(self.visibility.step_at(max(0, min(target, rows - 1))))

    def action_page(self, direction: int) -> None:
        """Move the cursor a page up or down."""
        self.action_move(direction * max(1, self.scrollable_content_region.height - 1))

    def action_edge(self, end: int) -> None:
        """Move the cursor to the first or last shown row."""
        rows = len(self.visibility)
        if end:  # no rows yet (the first steps are still being read): the end, when it comes
            last = self.visibility.step_at(rows - 1) if rows else -1
            self.post_message(self.StepChosen(last, to_end=True))
        elif rows:
            self._choose(self.visibility.step_at(0))

    def action_toggle_fold(self) -> None:
        """Collapse or expand the cursor step's children."""
        index = self._cursor
        if self.facts.has_children(index):
            self._rebuild(lambda vis, parents: vis.toggle(index, self._count, parents))

    def action_expand(self) -> None:
        """Expand a collapsed step, or step into its first child."""
        index = self._cursor
        if index in self.visibility.collapsed:
            self.action_toggle_fold()
        elif self.facts.has_children(index):
            self.action_move(1)

    def action_collapse(self) -> None:
        """Collapse an expanded step, or go to its parent."""
        index = self._cursor
        if self.facts.has_children(index) and index not in self.visibility.collapsed:
            self.action_toggle_fold()
        elif self.facts.parent(index) >= 0:
            self._choose(self.facts.parent(index))

    def action_collapse_all(self) -> None:
        """Collapse every step that has children."""
        count = self._count
        has = self.facts.has_children
        self._rebuild(lambda vis, parents: vis.set_collapsed(
            (i for i in range(count) if has(i)), count, parents))

    def action_expand_all(self) -> None:
        """Expand every collapsed step."""
        self._rebuild(lambda vis, parents: vis.set_collapsed((), self._count, parents))

    def action_open(self) -> None:
        """Ask the screen to focus the inspector."""
        self.post_message(self.OpenInspector())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out moves and folds that cannot happen from here."""
        if self._rebuilding and action in ("toggle_fold", "expand", "collapse", "collapse_all",
                                           "expand_all"):
            return None
        if action == "toggle_fold":
            return True if self.facts.has_children(self._cursor) else None
        if action == "expand_all":
            return True if self.visibility.collapsed else None
        if action == "move" and parameters:
            row = self.visibility.row_of(self._cursor)
            if row is not None and parameters[0] == -1 and row == 0:
                return None
            if row is not None and parameters[0] == 1 and row >= len(self.visibility) - 1:
                return None
        return True

    def on_click(self, event: events.Click) -> None:
        """Click a row to move the cursor there; click its fold mark to fold it."""
        offset = event.get_content_offset(self)  # inside the border: row 0 is the first row
        if offset is None or self._run is None:
            return
        row_no = self.scroll_offset.y + offset.y
        if not 0 <= row_no < self.row_count:
            return
        index = self.visibility.step_at(row_no)
        width = self.scrollable_content_region.width
        fold_x = self._lead() + len(self._indent(self._run.row(index), width))
        if self.facts.has_children(index) and fold_x <= offset.x <= fold_x + 1:
            self._rebuild(lambda vis, parents: vis.toggle(index, self._count, parents))
        self._choose(index)
