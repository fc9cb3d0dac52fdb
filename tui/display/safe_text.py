"""The one door every trace-derived string goes through before it is displayed.

Trace text is hostile: escape sequences, C0/C1 controls, bidi overrides and markup lookalikes
such as ``[bold]`` or ``[@click=app.quit]``. :func:`display_str` sanitises with
:func:`trace_tui.core.text.sanitize.sanitize_text` (controls become visible placeholders) after
cutting the string to what can be shown, so a 10 MB value is never scanned whole. Secrets are
masked here too (:mod:`trace_tui.core.text.redact`), before anything is cut, so no widget ever shows
part of a key; the app configures the redactor once (``--no-redact`` turns it off).

:func:`trace_text` wraps the result in a :class:`rich.text.Text`, which is never parsed as
markup. Widgets never build ``Text``/``Content`` from trace strings any other way, and never
pass trace strings to APIs that parse markup (``Static("...")``, ``notify``, ``Tree`` labels,
``DataTable`` str cells).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonpointer import JsonPointerException, set_pointer
from rich.text import Text

from trace_tui.core.text.redact import Redactor
from trace_tui.core.text.sanitize import sanitize_text

#: The most characters any single display string is built from (the rest is cut with "…").
DISPLAY_CAP = 200_000
#: Extra characters redacted beyond a cut, so a secret straddling the cut is still recognised.
REDACT_MARGIN = 16_384

_redactor = Redactor(enabled=True)


def configure_redaction(redactor: Redactor) -> None:
    """Use ``redactor`` for everything shown from now on (called once by the app factory)."""
    global _redactor
    _redactor = redactor


def current_redactor() -> Redactor:
    """The redactor in force (for copying what is shown)."""
    return _redactor


def redact_text(text: str, limit: int | None = None) -> str:
    """``text`` with secrets masked; with ``limit``, only the first ``limit`` characters are
    kept, but the redactor saw a margin beyond them so a secret cut in two is still masked."""
    if limit is None:
        return _redactor.text(text)
    return _redactor.text(text[: limit + REDACT_MARGIN])[:limit]


def display_str(
    value: Any, *, one_line: bool = False, limit: int | None = None, redact: bool = True
) -> str:
    """``value`` as a string safe to show: secrets masked, cut to ``limit`` characters,
    controls made visible.

    With ``one_line`` newlines and tabs become visible symbols (labels, table cells).
    ``redact=False`` is only for text that already went through :func:`display_value`.
    """
    text = value if isinstance(value, str) else str(value)
    cap = DISPLAY_CAP if limit is None else min(limit, DISPLAY_CAP)
    if redact:
        text = _redactor.text(text[: cap + REDACT_MARGIN])
    cut = len(text) > cap
    if cut:
        text = text[: max(0, cap - 1)]
    text = sanitize_text(text, keep_newlines=not one_line)
    if limit is not None and len(text) > limit:  # placeholders made it longer
        text, cut = text[: max(0, limit - 1)], True
    return text + "…" if cut else text


def display_value(value: Any, revealed: Mapping[str, Any] | None = None) -> Any:
    """A structured trace value (JSON) as it may be displayed: a copy with secrets masked,
    except at the JSON pointers in ``revealed``, which hold the raw values the user asked for."""
    shown = _redactor.value(value)
    for pointer, raw in (revealed or {}).items():
        try:
            shown = set_pointer(shown, pointer, raw, inplace=True) if pointer else raw
        except JsonPointerException:
            continue  # the value changed shape since it was revealed: keep it masked
    return shown


def trace_text(
    value: Any, *, style: str = "", one_line: bool = False, limit: int | None = None
) -> Text:
    """A :class:`Text` of trace content: sanitised, cut, never interpreted as markup."""
    return Text(display_str(value, one_line=one_line, limit=limit), style=style, end="")


def plain_notice(value: Any, limit: int = 300) -> str:
    """A one-line sanitised string for notifications (always sent with ``markup=False``)."""
    return display_str(value, one_line=True, limit=limit)
