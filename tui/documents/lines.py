"""Lines of a document shown by :class:`~trace_tui.tui.widgets.doc_view.DocumentView`.

Every inspector view (payload JSON, conversation, context, raw record) is built as a list of
:class:`DocLine`: already-sanitised text pieces tagged with a *role* (``key``, ``str``,
``role-user``, ``note`` ...) that the view maps to a style when it draws the line. Keeping
styles out of the document lets a theme change restyle without rebuilding, and lets the view
draw only the lines on screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len, chop_cells

from trace_tui.tui.display.safe_text import display_str, redact_text

Piece = tuple[str, str]
_CHUNK = 100_000


@dataclass(frozen=True, slots=True)
class DocLine:
    """One line: ``pieces`` of (safe text, role); ``anchor`` ties it to a JSON pointer or item.

    ``action`` says what Enter does on this line: ``fold`` / ``unfold`` a container,
    ``expand`` a cut string, ``more`` to show more items or characters.
    """

    pieces: tuple[Piece, ...]
    anchor: str | None = None
    action: str | None = None

    @property
    def text(self) -> str:
        """The line's plain text."""
        return "".join(text for text, _ in self.pieces)

    @property
    def width(self) -> int:
        """The line's width in terminal cells."""
        return sum(cell_len(text) for text, _ in self.pieces)


def line(*pieces: Piece, anchor: str | None = None, action: str | None = None) -> DocLine:
    """Build a :class:`DocLine` from (text, role) pieces that are already safe."""
    return DocLine(tuple(p for p in pieces if p[0]), anchor, action)


def wrap_text(
    value: str, width: int, *, limit: int, redact: bool = True
) -> tuple[list[str], int]:
    """Mask secrets in and sanitise ``value`` (at most ``limit`` characters), wrap to ``width``.

    Returns the wrapped lines and how many characters of ``value`` were left out.
    ``redact=False`` is for values that already went through ``display_value``.
    """
    width = max(8, width)
    shown = redact_text(value, limit) if redact else value[:limit]
    left = max(0, len(value) - limit)
    out: list[str] = []
    safe = "".join(
        display_str(shown[i : i + _CHUNK], redact=False) for i in range(0, len(shown), _CHUNK)
    )
    for raw in safe.split("\n"):
        out.extend(wrap_indented(raw.replace("\t", "    "), width))
    return out, left


def wrap_indented(text: str, width: int) -> list[str]:
    """Wrap one line, keeping its indent: continuation lines hang two cells further in.

    Pretty-printed JSON stays readable when a long value wraps (its nesting still shows).
    """
    body = text.lstrip(" ")
    indent = text[: len(text) - len(body)]
    if not indent or cell_len(text) <= width or len(indent) > width // 2:
        return wrap_words(text, width)
    hang = indent + "  "
    pieces = wrap_words(body, max(8, width - len(hang)))
    return [indent + pieces[0], *(hang + piece for piece in pieces[1:])]


def wrap_words(text: str, width: int) -> list[str]:
    """Wrap one line at spaces to ``width`` cells; words longer than a line are cut."""
    if cell_len(text) <= width:
        return [text]
    out: list[str] = []
    current, used = "", 0
    for word in text.split(" "):
        size = cell_len(word)
        if current and used + 1 + size <= width:
            current, used = f"{current} {word}", used + 1 + size
            continue
        if current or out:
            out.append(current)
        if size <= width:
            current, used = word, size
            continue
        pieces = chop_cells(word, width)
        out.extend(pieces[:-1])
        current, used = pieces[-1], cell_len(pieces[-1])
    out.append(current)
    return out
