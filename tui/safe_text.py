"""The one door every trace-derived string goes through before it is displayed.

Trace text is hostile: escape sequences, C0/C1 controls, bidi overrides and markup lookalikes
such as ``[bold]`` or ``[@click=app.quit]``. :func:`display_str` sanitises with
:func:`trace_tui.core.sanitize.sanitize_text` (controls become visible placeholders) after
cutting the string to what can be shown, so a 10 MB value is never scanned whole. Redaction of
secrets will be added here, in one line, for every widget at once.

:func:`trace_text` wraps the result in a :class:`rich.text.Text`, which is never parsed as
markup. Widgets never build ``Text``/``Content`` from trace strings any other way, and never
pass trace strings to APIs that parse markup (``Static("...")``, ``notify``, ``Tree`` labels,
``DataTable`` str cells).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

from trace_tui.core.sanitize import sanitize_text

#: The most characters any single display string is built from (the rest is cut with "…").
DISPLAY_CAP = 200_000


def display_str(value: Any, *, one_line: bool = False, limit: int | None = None) -> str:
    """``value`` as a string safe to show: cut to ``limit`` characters, controls made visible.

    With ``one_line`` newlines and tabs become visible symbols (labels, table cells).
    """
    text = value if isinstance(value, str) else str(value)
    cap = DISPLAY_CAP if limit is None else min(limit, DISPLAY_CAP)
    cut = len(text) > cap
    if cut:
        text = text[: max(0, cap - 1)]
    text = sanitize_text(text, keep_newlines=not one_line)
    if limit is not None and len(text) > limit:  # placeholders made it longer
        text, cut = text[: max(0, limit - 1)], True
    return text + "…" if cut else text


def display_value(value: Any) -> Any:
    """A structured trace value (JSON) as it may be displayed (the hook for redaction)."""
    return value


def trace_text(
    value: Any, *, style: str = "", one_line: bool = False, limit: int | None = None
) -> Text:
    """A :class:`Text` of trace content: sanitised, cut, never interpreted as markup."""
    return Text(display_str(value, one_line=one_line, limit=limit), style=style, end="")


def plain_notice(value: Any, limit: int = 300) -> str:
    """A one-line sanitised string for notifications (always sent with ``markup=False``)."""
    return display_str(value, one_line=True, limit=limit)
