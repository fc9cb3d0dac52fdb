"""The key help (``?``): every binding of the screen, the span tree and the inspector.

Built from the widgets' ``BINDINGS`` class attributes, so the list is always complete and the
README's key table can be generated from the same source
(:func:`~trace_tui.tui.keys.markdown_table`).
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from trace_tui.tui.keys import format_keys


class ScrollingList(VerticalScroll):
    """A scroller that also scrolls with vim keys (``j``/``k``, ``g``/``G``, Ctrl+d/u)."""

    BINDINGS = [
        Binding("j", "scroll_down", "Down", show=False, id="list.down"),
        Binding("k", "scroll_up", "Up", show=False, id="list.up"),
        Binding("g", "scroll_home", "Top", show=False, id="list.top"),
        Binding("G", "scroll_end", "Bottom", show=False, id="list.bottom"),
        Binding("ctrl+d", "page_down", "Page down", show=False, id="list.page_down"),
        Binding("ctrl+u", "page_up", "Page up", show=False, id="list.page_up"),
    ]


class HelpScreen(ModalScreen[None]):
    """All keys, grouped by where they work."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; background: $background 60%; }
    HelpScreen > ScrollingList { width: 96; max-width: 100%; height: 90%;
                                  background: $panel; border: round $primary; padding: 0 1; }
    """

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close", id="help.close",
                        tooltip="Close the key help")]

    def __init__(self, groups: list[tuple[str, list[Binding]]],
                 notes: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._groups = groups
        self._notes = notes

    def compose(self) -> ComposeResult:
        """One table of keys per group."""
        with ScrollingList():
            yield Static(Text("Keys  (Esc closes · ctrl+p opens the command palette)",
                              style="bold"))
            for group, bindings in self._groups:
                table = Table(title=group, title_justify="left", expand=True, box=None,
                              show_header=False, padding=(0, 1))
                table.add_column("keys", style="bold", no_wrap=True, width=18)
                table.add_column("what")
                for b in bindings:
                    table.add_row(Text(format_keys(b.key)), Text(b.tooltip or b.description))
                yield Static(table)
            for note in self._notes:
                yield Static(Text(note, style="dim"))

    def on_mount(self) -> None:
        """Focus the scroller so arrow keys scroll."""
        self.query_one(ScrollingList).focus()

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)

