"""Make text from a trace safe to show in a terminal: the one sanitiser everything calls.

Trace content is hostile input. Before any text object is built or any line is printed, C0
and C1 control characters, DEL, escape sequences, bidirectional overrides and invisible
characters are replaced by visible placeholders, so they are seen, not obeyed. Only ``\\n`` and
``\\t`` survive (and ``\\n`` can be folded too, for one-line labels). Copy and export keep the
original bytes; this is for display only.
"""

from __future__ import annotations

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
    0x061C,
    0x200B,
    0x200C,
    0x200D,
    0x200E,
    0x200F,
    0x202A,
    0x202B,
    0x202C,
    0x202D,
    0x202E,
    0x2060,
    0x2061,
    0x2062,
    0x2063,
    0x2064,
    0x2066,
    0x2067,
    0x2068,
    0x2069,
    0xFEFF,
    0x00AD,
}
_CONTROL_PICTURES = {i: chr(0x2400 + i) for i in range(0x20)}
_CONTROL_PICTURES[0x7F] = "\u2421"


def _placeholder(code: int) -> str:
    if code < 0x20 or code == 0x7F:
        return _CONTROL_PICTURES[code]
    return f"⟨U+{code:04X}⟩"


def _needs_work(text: str) -> bool:
    return any(
        (c < " " and c not in "\n\t") or "\x7f" <= c <= "\x9f" or ord(c) in _BIDI_AND_INVISIBLE
        for c in text
    )


def sanitize_text(text: str, *, keep_newlines: bool = True) -> str:
    """Return ``text`` with every control, escape, bidi override and invisible char visible.

    ``ESC [ 3 1 m`` becomes ``␛[31m``; a BEL becomes ``␇``; U+202E becomes ``⟨U+202E⟩``.
    With ``keep_newlines=False`` newlines and tabs become ``⏎`` and ``␉`` (one-line labels).
    """
    if not keep_newlines:
        text = text.replace("\r\n", "\n").replace("\n", "⏎").replace("\t", "␉")
    if text.isascii() and text.isprintable():
        return text
    if not _needs_work(text):
        return text
    text = _ESC_SEQUENCE.sub(lambda m: "␛" + sanitize_text(m.group(0)[1:]), text)
    out = []
    for ch in text:
        code = ord(ch)
        if (
            (code < 0x20 and ch not in "\n\t")
            or 0x7F <= code <= 0x9F
            or code in _BIDI_AND_INVISIBLE
        ):
            out.append(_placeholder(code))
        else:
            out.append(ch)
    return "".join(out)


def one_line(text: str, limit: int | None = None) -> str:
    """Sanitised single-line version of ``text``, cut to ``limit`` characters with ``…``."""
    clean = sanitize_text(text, keep_newlines=False)
    if limit is not None and len(clean) > limit:
        return clean[: max(0, limit - 1)] + "…"
    return clean
