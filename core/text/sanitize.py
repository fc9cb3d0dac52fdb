"""Make text from a trace safe to show in a terminal: the one sanitiser everything calls.

Trace content is hostile input. Before any text object is built or any line is printed, C0
and C1 control characters, DEL, escape sequences, bidirectional overrides and invisible
characters are replaced by visible placeholders, so they are seen, not obeyed. Only ``\\n`` and
``\\t`` survive (and ``\\n`` can be folded too, for one-line labels). Copy and export keep the
original bytes; this is for display only.
"""

from __future__ import annotations

import logging
import re

# ESC followed by a CSI/OSC/DCS/... sequence, shown as one placeholder so the payload stays
# readable ("␛[31m" rather than a colour change).
_ESC_SEQUENCE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]?"  # CSI
    r"|\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC, ended by BEL or ST
    r"|[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC
    r"|[@-Z\\-_]?)"  # two-byte sequences
)
_BIDI_AND_INVISIBLE = {
    0x00AD,  # soft hyphen
    0x061C,  # Arabic letter mark
    0x180E,  # Mongolian vowel separator
    *range(0x200B, 0x2010),  # zero-width space/joiners, LRM, RLM
    0x2028,  # line separator: a line break to some terminals and editors
    0x2029,  # paragraph separator
    *range(0x202A, 0x202F),  # bidi embeddings and overrides
    *range(0x2060, 0x2065),  # word joiner, invisible operators
    *range(0x2066, 0x2070),  # bidi isolates, deprecated format characters
    0xFEFF,  # zero-width no-break space (BOM)
    *range(0xFFF9, 0xFFFC),  # interlinear annotation controls
    *range(0xE0000, 0xE0080),  # tag characters: invisible text that hides prompt injections
}
_CONTROL_PICTURES = {i: chr(0x2400 + i) for i in range(0x20)}
_CONTROL_PICTURES[0x7F] = "\u2421"
# Everything the sanitiser replaces, as one character class (C-speed search for the common
# case, text that needs no work).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f"
    + "".join(re.escape(chr(c)) for c in sorted(_BIDI_AND_INVISIBLE))
    + "]"
)


def _placeholder(code: int) -> str:
    if code < 0x20 or code == 0x7F:
        return _CONTROL_PICTURES[code]
    return f"⟨U+{code:04X}⟩"


def _needs_work(text: str) -> bool:
    return _UNSAFE.search(text) is not None


def sanitize_text(text: str, *, keep_newlines: bool = True) -> str:
    """Return ``text`` with every control, escape, bidi override and invisible char visible.

    ``ESC [ 3 1 m`` becomes ``␛[31m``; a BEL becomes ``␇``; U+202E becomes ``⟨U+202E⟩``;
    a Unicode tag character becomes ``⟨U+E0041⟩``; U+2028 becomes ``⟨U+2028⟩``.
    With ``keep_newlines=False`` newlines and tabs become ``⏎`` and ``␉`` (one-line labels).
    """
    if not keep_newlines:
        text = text.replace("\r\n", "\n").replace("\n", "⏎").replace("\t", "␉")
    if text.isascii() and text.isprintable():
        return text
    if not _needs_work(text):
        return text
    text = _ESC_SEQUENCE.sub(lambda m: "␛" + sanitize_text(m.group(0)[1:]), text)
    return _UNSAFE.sub(lambda m: _placeholder(ord(m.group(0))), text)


def one_line(text: str, limit: int | None = None) -> str:
    """Sanitised single-line version of ``text``, cut to ``limit`` characters with ``…``."""
    clean = sanitize_text(text, keep_newlines=False)
    if limit is not None and len(clean) > limit:
        return clean[: max(0, limit - 1)] + "…"
    return clean


class SafeLogFormatter(logging.Formatter):
    """A log formatter whose lines went through :func:`sanitize_text`: a log file read later
    with ``cat`` or ``less`` obeys no escape that a file name or a branch's ``parent_path``
    carried (newlines stay, so tracebacks keep their shape)."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record, sanitised."""
        return sanitize_text(super().format(record))
