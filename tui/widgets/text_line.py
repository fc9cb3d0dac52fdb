"""One-line (and few-line) text widgets drawn without Textual's generic text pipeline.

``Static.update`` asks for a new layout of the screen (its size might change); for lines of
fixed height that change on every key press (the inspector's summary and pointer, the status
line, the gauge) that is wasted work, so these widgets only repaint themselves. And Textual's
own drawing of a Rich ``Text`` (a conversion to its ``Content``, then to strips, with link and
selection styles) costs about a tenth of a millisecond per line, several times a press:
:func:`text_strips` turns a ``Text`` that is never wrapped into strips directly, and
:class:`TextLines` keeps them until the text, the width or the widget's style changes.
"""

from __future__ import annotations

from functools import lru_cache

from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget


def text_strips(text: Text, width: int, base: Style, console: Console) -> list[Strip]:
    """``text`` as one strip per line, each cut to ``width`` cells with "…" (never wrapped),
    ``base`` (the widget's colours) beneath every piece: what Textual draws for a widget with
    ``text-wrap: nowrap; text-overflow: ellipsis``, down to the ``offset`` of each piece that
    Textual's mouse text selection reads."""
    strips = []
    for y, line in enumerate(text.split("\n", allow_blank=True)):
        if line.cell_len > width:
            line.truncate(width, overflow="ellipsis")
        segments, x = [], 0
        # Rich applies the text's own style only through its spans: a text without any is
        # one piece in that style
        pieces = line.render(console) if line.spans else [
            Segment(line.plain, console.get_style(line.style) if line.style else None)]
        for seg in pieces:
            if seg.text:
                style = base + seg.style if seg.style else base
                segments.append(Segment(seg.text, style + _offset(x, y)))
                x += len(seg.text)
        strips.append(Strip(segments))
    return strips


@lru_cache(4096)
def _offset(x: int, y: int) -> Style:
    """The style that tells Textual where in the widget's text a piece starts."""
    return Style.from_meta({"offset": (x, y)})


class TextLines(Widget):
    """A widget whose lines come from a ``Text`` (:meth:`shown_text`), drawn by :func:`text_strips`
    and kept until the text, the width or the widget's style changes."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._drawn: tuple[Text, int, Style, list[Strip]] | None = None

    def shown_text(self) -> Text:
        """What the widget shows."""
        raise NotImplementedError

    def render(self) -> Text:
        """The text (for Textual's own uses: sizes, wrapping, selection)."""
        return self.shown_text()

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the text, cut to the width."""
        width, base = self.content_size.width, self.rich_style
        text = self.shown_text()
        drawn = self._drawn
        if drawn is None or drawn[0] is not text or drawn[1] != width or drawn[2] != base:
            drawn = self._drawn = (text, width, base,
                                   text_strips(text, width, base, self.app.console))
        strips = drawn[3]
        return strips[y] if y < len(strips) else Strip.blank(width, base)


class TextLine(TextLines):
    """One line of (already safe) text (``text-wrap: wrap`` in CSS: wrapped by Textual)."""

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

    def shown_text(self) -> Text:
        """What the line shows."""
        return self._text

    def set_text(self, text: Text) -> None:
        """Show ``text`` (repaint only)."""
        if text != self._text:
            self._text = text
            self.refresh()

    def render_line(self, y: int) -> Strip:
        """Line ``y``: drawn here unless the CSS asks for wrapping (Textual wraps)."""
        if self.styles.text_wrap != "nowrap":
            return Widget.render_line(self, y)
        return super().render_line(y)
