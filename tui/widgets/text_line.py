"""A one-line widget showing a :class:`rich.text.Text`, updated without a layout pass.

``Static.update`` asks for a new layout of the screen (its size might change); for lines of
fixed height that change on every key press (the inspector's summary and pointer) that is
wasted work, so this widget only repaints itself.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class TextLine(Widget):
    """One line of (already safe) text."""

    DEFAULT_CSS = """
    TextLine { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._text = Text()

    @property
    def text(self) -> Text:
        """What the line shows."""
        return self._text

    def set_text(self, text: Text) -> None:
        """Show ``text`` (repaint only)."""
        if text != self._text:
            self._text = text
            self.refresh()

    def render(self) -> Text:
        """The text."""
        return self._text
