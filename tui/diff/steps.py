"""The aligned steps of two runs, side by side: one row per aligned pair, any number of rows.

A Line-API :class:`~textual.scroll_view.ScrollView`: only visible rows are drawn, each row's
strip is cached by ``(row, cursor_here, width, version)`` and the cache is cleared when the
styles (theme) change. A row reads::

    ~ │    5 λ lookup_order          │    5 λ lookup_order          │    +56

marker (``=`` same, ``~`` changed, ``+`` added in B, ``-`` removed from B), the left step
(number, kind symbol, name), the right step, and the row's token delta. The widget holds no
diff logic: it is given a :class:`~trace_tui.core.diff.compare.RunDiff` and posts
:class:`AlignedSteps.CursorMoved` when the selected row changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from trace_tui.core.diff.compare import RunDiff
from trace_tui.core.model.run import RunView
from trace_tui.tui.display.glyphs import kind_symbol
from trace_tui.tui.display.safe_text import display_str

#: Width of the token-delta column on the right.
DELTA_WIDTH = 8
#: Cell width of the fixed parts of a row: marker, separators, delta column.
FIXED_WIDTH = 2 + 2 + 3 + 2 + DELTA_WIDTH


class AlignedSteps(ScrollView, can_focus=True):
    """Rows of aligned step pairs with a cursor (see the module docstring)."""

    COMPONENT_CLASSES = {
        "aligned-steps--same",
        "aligned-steps--changed",
        "aligned-steps--added",
        "aligned-steps--removed",
        "aligned-steps--missing",
        "aligned-steps--cursor",
        "aligned-steps--delta",
    }

    DEFAULT_CSS = """
    AlignedSteps {
        overflow-x: hidden;
        overflow-y: scroll;
        background: $surface;
        & > .aligned-steps--same { color: $foreground-muted; }
        & > .aligned-steps--changed { color: $warning; text-style: bold; }
        & > .aligned-steps--added { color: $success; text-style: bold; }
        & > .aligned-steps--removed { color: $error; text-style: bold; }
        & > .aligned-steps--missing { color: $foreground-muted; }
        & > .aligned-steps--delta { color: $foreground-muted; }
        & > .aligned-steps--cursor { background: $block-cursor-blurred-background; }
        &:focus > .aligned-steps--cursor { background: $block-cursor-background; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "down,j",
            "cursor_down",
            "Down",
            show=False,
            id="diff.cursor_down",
            tooltip="Select the next row",
        ),
        Binding(
            "up,k",
            "cursor_up",
            "Up",
            show=False,
            id="diff.cursor_up",
            tooltip="Select the previous row",
        ),
        Binding(
            "pagedown",
            "page_down_rows",
            "Page down",
            show=False,
            id="diff.page_down",
            tooltip="Move a screenful down",
        ),
        Binding(
            "pageup",
            "page_up_rows",
            "Page up",
            show=False,
            id="diff.page_up",
            tooltip="Move a screenful up",
        ),
        Binding(
            "home,g",
            "first_row",
            "First",
            show=False,
            id="diff.first",
            tooltip="Select the first row",
        ),
        Binding(
            "end,G", "last_row", "Last", show=False, id="diff.last", tooltip="Select the last row"
        ),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    @dataclass
    class CursorMoved(Message):
        """The selected row changed."""

        row: int

    def __init__(
        self, *, name: str | None = None, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.diff: RunDiff | None = None
        self._version = 0
        self._digits = 5
        self._cache: LRUCache[tuple[int, bool, int, int], Strip] = LRUCache(2048)

    # ----------------------------------------------------------------- data
    def set_diff(self, diff: RunDiff, row: int | None = None) -> None:
        """Show ``diff`` and select ``row`` (default: the first row)."""
        self.diff = diff
        self._digits = max(3, len(str(max(len(diff.left), len(diff.right)))))
        self._version += 1
        self._cache.clear()
        self.virtual_size = Size(self.size.width, len(diff.rows))
        self.select(row if row is not None else 0, center=True)
        self.refresh()

    @property
    def row_count(self) -> int:
        """How many rows the widget shows."""
        return len(self.diff.rows) if self.diff is not None else 0

    def select(self, row: int, *, center: bool = False) -> None:
        """Move the cursor to ``row`` (clamped) and scroll it into view."""
        if not self.row_count:
            return
        row = max(0, min(row, self.row_count - 1))
        self.cursor = row
        height = max(1, self.scrollable_content_region.height)
        top = self.scroll_offset.y
        if center:
            self.scroll_to(y=max(0, row - height // 3), animate=False, immediate=True)
        elif row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)
        self.refresh()

    def watch_cursor(self, row: int) -> None:
        self.post_message(self.CursorMoved(row))

    def notify_style_update(self) -> None:
        """Styles (the theme) changed: every cached strip is stale."""
        super().notify_style_update()
        self._cache.clear()

    def on_resize(self) -> None:
        if self.diff is not None:
            self.virtual_size = Size(self.size.width, len(self.diff.rows))

    # ----------------------------------------------------------------- actions
    def action_cursor_down(self) -> None:
        self.select(self.cursor + 1)

    def action_cursor_up(self) -> None:
        self.select(self.cursor - 1)

    def action_page_down_rows(self) -> None:
        self.select(self.cursor + max(1, self.scrollable_content_region.height - 1))

    def action_page_up_rows(self) -> None:
        self.select(self.cursor - max(1, self.scrollable_content_region.height - 1))

    def action_first_row(self) -> None:
        self.select(0)

    def action_last_row(self) -> None:
        self.select(self.row_count - 1)

    def on_click(self, event: events.Click) -> None:
        self.select(self.scroll_offset.y + event.y)

    # ----------------------------------------------------------------- drawing
    def render_line(self, y: int) -> Strip:
        """One visible line: a cached strip of the row under it, or blank."""
        row = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if self.diff is None or row >= len(self.diff.rows) or width <= 0:
            return Strip.blank(max(0, width), self.rich_style)
        key = (row, row == self.cursor, width, self._version)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_row(row, key[1], width)
            self._cache[key] = strip
        return strip

    def _render_row(self, row: int, cursor_here: bool, width: int) -> Strip:
        assert self.diff is not None
        diff_row = self.diff.rows[row]
        status_style = self.get_component_rich_style(f"aligned-steps--{diff_row.status}")
        missing = self.get_component_rich_style("aligned-steps--missing")
        column = max(8, (width - FIXED_WIDTH) // 2)
        digits = self._digits
        line = Text(no_wrap=True, end="")
        line.append(f"{diff_row.marker} ", status_style)
        line.append("│ ", missing)
        line.append_text(
            _side(self.diff.left, diff_row.left, column, digits, status_style, missing)
        )
        line.append(" │ ", missing)
        line.append_text(
            _side(self.diff.right, diff_row.right, column, digits, status_style, missing)
        )
        line.append(" │", missing)
        delta = self.diff.deltas(diff_row)["tokens"].change
        text = f"{delta:+,.0f}" if delta else ""
        line.append(f"{text:>{DELTA_WIDTH}}", self.get_component_rich_style("aligned-steps--delta"))
        line.truncate(width, pad=True)
        base = self.rich_style
        over = Style()
        if cursor_here:
            cursor = self.get_component_rich_style("aligned-steps--cursor", partial=True)
            over = Style(bgcolor=cursor.bgcolor, bold=cursor.bold)
            base = base + over
        segments = [
            Segment(seg.text, (base + seg.style if seg.style else base) + over)
            for seg in line.render(self.app.console)
            if seg.text
        ]
        return Strip(segments, width).adjust_cell_length(width, base)


def _side(
    run: RunView, index: int | None, width: int, digits: int, style: Style, missing: Style
) -> Text:
    """One side of a row: ``number symbol name`` cut to ``width`` cells, or a blank."""
    text = Text(no_wrap=True, end="")
    if index is None:
        text.append(f"{'·':>{digits}}", missing)
    else:
        step = run.step(index)
        text.append(f"{step.number:>{digits}} {kind_symbol(step.kind)} ", style)
        text.append(display_str(step.name, one_line=True, limit=width), style)
    text.truncate(width, overflow="ellipsis", pad=True)
    return text
