"""A scrollable document with a selected line, drawn with the Line API (only visible lines).

The inspector shows every view (payload JSON, conversation, context, raw record) in one
:class:`DocumentView`. Lines are :class:`~trace_tui.tui.documents.lines.DocLine` lists whose text is
already sanitised; this widget maps each piece's role to a style (syntax roles from the
Pygments style the theme names, the rest from component classes) and caches the drawn strips
by (line, selected, generation). Enter asks the owner to act on the selected line (fold,
expand); ``y``/``Y`` ask it to copy the line's JSON pointer or value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Offset, Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from trace_tui.tui.display.highlight import role_styles
from trace_tui.tui.documents.lines import DocLine

_ROLES = (
    "note", "heading", "error", "warn", "ok", "dim", "plain", "meta",
    "role-system", "role-user", "role-assistant", "role-tool", "role-other",
)


class DocumentView(ScrollView, can_focus=True):
    """Shows a list of :class:`DocLine` with one selected line; posts messages on actions."""

    DEFAULT_CSS = """
    DocumentView { background: $surface; overflow-x: auto; overflow-y: auto;
                   scrollbar-size-vertical: 1; scrollbar-size-horizontal: 1; }
    DocumentView > .doc--selected { background: $step-cursor; }
    DocumentView:focus > .doc--selected { background: $step-cursor; text-style: bold; }
    DocumentView > .doc--note { color: $text-muted; text-style: italic; }
    DocumentView > .doc--heading { text-style: bold; }
    DocumentView > .doc--error { color: $step-error; text-style: bold; }
    DocumentView > .doc--warn { color: $gauge-warn; text-style: bold; }
    DocumentView > .doc--ok { color: $gauge-ok; }
    DocumentView > .doc--dim { color: $step-future; }
    DocumentView > .doc--plain { }
    DocumentView > .doc--meta { color: $text-muted; }
    DocumentView > .doc--role-system { color: $role-system; text-style: bold; }
    DocumentView > .doc--role-user { color: $role-user; text-style: bold; }
    DocumentView > .doc--role-assistant { color: $role-assistant; text-style: bold; }
    DocumentView > .doc--role-tool { color: $role-tool; text-style: bold; }
    DocumentView > .doc--role-other { text-style: bold; }
    """

    COMPONENT_CLASSES = {"doc--selected", *(f"doc--{role}" for role in _ROLES)}

    BINDINGS = [
        Binding("down,j", "move(1)", "Down", show=False, id="doc.down",
                tooltip="Select the next line"),
        Binding("up,k", "move(-1)", "Up", show=False, id="doc.up",
                tooltip="Select the previous line"),
        Binding("pagedown,ctrl+d", "page(1)", "Page down", show=False, id="doc.page_down",
                tooltip="Move the selection down a page"),
        Binding("pageup,ctrl+u", "page(-1)", "Page up", show=False, id="doc.page_up",
                tooltip="Move the selection up a page"),
        Binding("home,g", "edge(0)", "Top", show=False, id="doc.top",
                tooltip="Select the first line"),
        Binding("end,G", "edge(1)", "Bottom", show=False, id="doc.bottom",
                tooltip="Select the last line"),
        Binding("enter,space", "activate", "Fold/expand", id="doc.activate",
                tooltip="Fold or unfold the selected node, or expand a cut string"),
        Binding("y", "copy('pointer')", "Copy pointer", id="doc.copy_pointer",
                tooltip="Copy the JSON pointer of the selected node to the clipboard"),
        Binding("Y", "copy('value')", "Copy value", show=False, id="doc.copy_value",
                tooltip="Copy the selected node's value as shown (secrets stay masked)"),
        Binding("R", "reveal", "Reveal secret", id="doc.reveal",
                tooltip="Show (or hide again) the raw value of a masked field on this line"),
        Binding("escape", "leave", "Back to steps", show=False, id="doc.leave",
                tooltip="Return focus to the span tree"),
    ]

    @dataclass
    class Activated(Message):
        """Enter (or a click) on a line that has an action."""

        view: DocumentView
        doc_line: DocLine

    @dataclass
    class SelectionChanged(Message):
        """The selected line changed (the owner shows its pointer)."""

        view: DocumentView
        doc_line: DocLine | None

    @dataclass
    class CopyRequested(Message):
        """The user asked to copy the selected line's ``pointer`` or ``value``."""

        view: DocumentView
        doc_line: DocLine
        what: str

    @dataclass
    class RevealRequested(Message):
        """The user asked to show (or hide again) the raw value at the selected line."""

        view: DocumentView
        doc_line: DocLine

    class LeaveRequested(Message):
        """Escape: the user wants to go back to the step list."""

    def __init__(self, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._lines: Sequence[DocLine] = ()
        self.selected = 0
        self._code_style = "github-dark"
        self._generation = 0
        self._cache: LRUCache[tuple[int, bool, int], Strip] = LRUCache(512)
        self._styles: dict[str, Style] | None = None
        self._can: tuple[bool, bool] = (False, False)
        self._content = Size(0, 0)
        self._pass: tuple[Offset, int] | None = None

    # ----------------------------------------------------------------- data in
    @property
    def lines(self) -> Sequence[DocLine]:
        """The document shown."""
        return self._lines

    @property
    def selected_line(self) -> DocLine | None:
        """The selected line, if the document has any."""
        return self._lines[self.selected] if 0 <= self.selected < len(self._lines) else None

    def set_document(self, lines: Sequence[DocLine], *, anchor: str | None = None,
                     keep_scroll: bool = False) -> None:
        """Show ``lines``; select the first line with ``anchor`` (else the top)."""
        self._lines = lines
        self._generation += 1
        self._cache.clear()
        width = max((ln.width for ln in lines[:5000]), default=0)
        self._content = Size(width, len(lines))
        # A new virtual size makes Textual lay out and draw the whole screen again (twice when
        # a scroll bar comes or goes), which costs more than drawing the document. So the size
        # is rounded up, and kept while the new document fits and is not much smaller: jumping
        # between a short step and a long one (g, G) keeps it. Scrolling stops at the
        # document's own end (max_scroll_x/y), never in the spare room.
        old = self.virtual_size
        size = Size(_round_up(width), _round_up(len(lines)))
        if not (_room_for(size.width, old.width) and _room_for(size.height, old.height)):
            self.virtual_size = size
        target = 0
        if anchor is not None:
            target = next((i for i, ln in enumerate(lines) if ln.anchor == anchor), 0)
        if not keep_scroll:
            self.scroll_to(0, 0, animate=False, immediate=True)
        self._select(target)
        self.refresh()

    @property
    def max_scroll_x(self) -> int:
        """The widest line's end, even while the virtual size is kept larger."""
        view = self.container_size.width - self.scrollbar_size_vertical
        return min(super().max_scroll_x, max(0, self._content.width - view))

    @property
    def max_scroll_y(self) -> int:
        """The last line, even while the virtual size is kept larger."""
        view = self.container_size.height - self.scrollbar_size_horizontal
        return min(super().max_scroll_y, max(0, self._content.height - view))

    @property
    def code_style(self) -> str:
        """The Pygments style used for syntax roles."""
        return self._code_style

    def set_code_style(self, name: str) -> None:
        """Use Pygments style ``name`` for syntax roles."""
        if name != self._code_style:
            self._code_style = name
            self.notify_style_update()
            self.refresh()

    def notify_style_update(self) -> None:
        """The theme changed: drop cached styles and strips."""
        super().notify_style_update()
        self._styles = None
        self._cache.clear()

    # ----------------------------------------------------------------- drawing
    def _role_styles(self) -> dict[str, Style]:
        if self._styles is None:
            styles = dict(role_styles(self._code_style))
            for role in _ROLES:
                styles[role] = self.get_component_rich_style(f"doc--{role}", partial=True)
            styles["-base"] = self.rich_style
            styles["-selected"] = self.get_component_rich_style("doc--selected")
            self._styles = styles
        return self._styles

    def render_lines(self, crop: Region) -> list[Strip]:
        """Draw the lines in ``crop``; the scroll offset and width are read once per pass."""
        self._pass = (self.scroll_offset, self.scrollable_content_region.width)
        try:
            return super().render_lines(crop)
        finally:
            self._pass = None

    def render_line(self, y: int) -> Strip:
        """Draw line ``y`` of the viewport from the cache (cropped to the scroll position)."""
        (scroll_x, scroll_y), width = self._pass or (
            self.scroll_offset, self.scrollable_content_region.width)
        index = scroll_y + y
        styles = self._role_styles()
        base = styles["-base"]
        if not 0 <= index < len(self._lines):
            return Strip.blank(width, base)
        selected = index == self.selected
        key = (index, selected, self._generation)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._draw(self._lines[index], selected, base)
            self._cache[key] = strip
        fill = base + styles["-selected"] if selected else base
        return strip.crop_extend(scroll_x, scroll_x + width, fill)

    def _draw(self, doc_line: DocLine, selected: bool, base: Style) -> Strip:
        styles = self._role_styles()
        select = styles["-selected"] if selected else None
        segments = []
        for text, role in doc_line.pieces:
            style = base + styles.get(role, Style.null())
            segments.append(Segment(text, style + select if select else style))
        return Strip(segments)

    # ----------------------------------------------------------------- selection
    def _select(self, index: int) -> None:
        if not self._lines:
            self.selected = 0
            self.post_message(self.SelectionChanged(self, None))
            return
        index = max(0, min(index, len(self._lines) - 1))
        old, self.selected = self.selected, index
        self.refresh_lines(old)
        self.refresh_lines(index)
        height = self.scrollable_content_region.height or 1
        top = self.scroll_offset.y
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False, immediate=True)
        doc_line = self._lines[index]
        can = (doc_line.action is not None, doc_line.anchor is not None)
        if can != self._can:
            self._can = can
            self.refresh_bindings()
        self.post_message(self.SelectionChanged(self, doc_line))

    def action_move(self, delta: int) -> None:
        """Select a line ``delta`` lines away."""
        self._select(self.selected + delta)

    def action_page(self, direction: int) -> None:
        """Move the selection a page up or down."""
        self._select(self.selected + direction * max(1, self.scrollable_content_region.height - 1))

    def action_edge(self, end: int) -> None:
        """Select the first (``0``) or last (``1``) line."""
        self._select(len(self._lines) - 1 if end else 0)

    def action_activate(self) -> None:
        """Ask the owner to act on the selected line (fold, unfold, expand, more)."""
        doc_line = self.selected_line
        if doc_line is not None and doc_line.action:
            self.post_message(self.Activated(self, doc_line))

    def action_copy(self, what: str) -> None:
        """Ask the owner to copy the selected line's pointer or value."""
        doc_line = self.selected_line
        if doc_line is not None and doc_line.anchor is not None:
            self.post_message(self.CopyRequested(self, doc_line, what))

    def action_reveal(self) -> None:
        """Ask the owner to reveal or re-mask the selected line's value."""
        doc_line = self.selected_line
        if doc_line is not None and doc_line.anchor is not None:
            self.post_message(self.RevealRequested(self, doc_line))

    def action_leave(self) -> None:
        """Ask to return to the step list."""
        self.post_message(self.LeaveRequested())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out actions the selected line does not support."""
        doc_line = self.selected_line
        if action == "activate":
            return True if doc_line is not None and doc_line.action else None
        if action in ("copy", "reveal"):
            return True if doc_line is not None and doc_line.anchor is not None else None
        return True

    def on_click(self, event: events.Click) -> None:
        """Select the clicked line; a click on a selected foldable line acts on it."""
        index = self.scroll_offset.y + event.y
        if 0 <= index < len(self._lines):
            again = index == self.selected
            self._select(index)
            if again:
                self.action_activate()


def _room_for(needed: int, kept: int) -> bool:
    """Whether a kept virtual extent ``kept`` still serves a document needing ``needed``."""
    return needed <= kept <= 4 * needed + 128


def _round_up(value: int, step: int = 32) -> int:
    """``value`` rounded up to a multiple of ``step`` (the virtual size of a document)."""
    return -(-value // step) * step
