"""The bytes a query word leaves in JSON, and finding the lines of a block that hold them.

:func:`needle_forms` turns a folded query word into the byte strings every JSON writer writes
for it (see its doc). :class:`LineFinder` finds the lines of a block of whole lines whose
ASCII-lower-cased bytes hold one of those forms: exactly the lines where
``form in line.lower()``, without lower-casing the block when it can help it.

How, per form (chosen once, from a sample of the file's bytes; measured on a 919 MB native
trace in bench/RESULTS.md):

* **memchr** — when the form holds a byte that has no case (a digit, ``-``, ``_``, ``\\``, a
  byte of a non-ASCII character) and that byte is very rare in the sample: ``bytes.find`` of
  that one byte (memchr, many GB/s) and, at each, the whole form matched case-insensitively
  by a compiled pattern (``(?i:…)`` on bytes folds ASCII letters only, as ``bytes.lower``
  does). The block is never copied.
* **re** — when such a byte is merely rare: a compiled pattern that starts with that byte
  (``re`` scans for a literal first byte in C) followed by the rest of the form
  case-insensitively; the part of the form before the anchor is checked on the spot. The
  block is never copied.
* **lower** — otherwise (letters only, or only common caseless bytes): the block is
  lower-cased once (``bytes.lower``, ASCII only, in C) and the form found with
  ``bytes.find``, as grep would without ``-i``.

All report the same lines; a test checks them against ``form in line.lower()`` on random
bytes, each way forced.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

#: ASCII characters every JSON writer writes as themselves, inside strings and out.
_PLAIN_ASCII = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.!#$%()*+;=?@^`|~")
#: Bytes of a lower-cased form that have an upper-case twin.
_CASED = frozenset(b"abcdefghijklmnopqrstuvwxyz")
#: A caseless anchor is used when it is at most this much (a fraction of the sample's bytes)
#: more frequent than the form's rarest byte: each extra candidate costs a little, and the
#: lowered path costs a copy of the block.
_RAW_SLACK = 0.002
#: A caseless anchor seen at most this often (a fraction of the sample's bytes) is found
#: with ``bytes.find`` of that one byte (memchr) and the form checked there in Python.
_RARE = 1e-4


def _plain(char: str) -> bool:
    """True for a character that can be looked for in the bytes (see :func:`needle_forms`)."""
    if char.isascii():
        return char in _PLAIN_ASCII
    # caseless, printable, never escaped by a JSON writer except into \\uXXXX
    return (
        char.isprintable()
        and char.lower() == char
        and char.upper() == char
        and char not in "\u2028\u2029"
    )


def _escaped(char: str) -> str:
    """``\\uXXXX`` (lower-case hex, as a lower-cased block holds it), surrogates for astral."""
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def needle_forms(term: str) -> tuple[bytes, ...]:
    """The byte forms to look for in lower-cased JSON for a folded query ``term``.

    The longest piece of ``term`` that every JSON writer writes literally (letters, digits
    and a few symbols, or caseless non-ASCII characters in both their raw and escaped
    forms), lower-cased: as UTF-8 and, when it holds non-ASCII characters, with those written
    as ``\\uXXXX``. Empty when ``term`` has no plain character.
    """
    best, run = "", ""
    for char in term:
        if _plain(char):
            run += char
            if len(run) > len(best):
                best = run
        else:
            run = ""
    if not best:
        return ()
    raw = best.encode("utf-8")
    if best.isascii():
        return (raw,)
    return raw, "".join(c if c.isascii() else _escaped(c) for c in best).encode("ascii")


class _Form:
    """How one form is looked for (see the module doc): its ``way`` and anchor."""

    __slots__ = ("form", "way", "anchor", "pattern", "before")

    def __init__(self, form: bytes, sample: bytes, way: str | None) -> None:
        self.form = form
        counts = {byte: sample.count(byte) for byte in set(form)}
        caseless = [i for i, byte in enumerate(form) if byte not in _CASED]
        anchor = min(caseless, key=lambda i: counts[form[i]], default=-1)
        if anchor < 0:
            way = "lower"
        elif way is None:
            seen, size = counts[form[anchor]], len(sample)
            way = ("memchr" if seen <= _RARE * size
                   else "re" if seen <= min(counts.values()) + _RAW_SLACK * size
                   else "lower")
        self.way, self.anchor = way, anchor
        self.before = form[:anchor] if anchor >= 0 else b""
        self.pattern: re.Pattern[bytes] | None = None
        if way == "memchr":  # the whole form, checked where the anchor byte is
            self.pattern = re.compile(b"(?i:" + re.escape(form) + b")")
        elif way == "re":  # the anchor byte, then the rest in any case
            rest = form[anchor + 1:]
            self.pattern = re.compile(re.escape(form[anchor:anchor + 1])
                                      + (b"(?i:" + re.escape(rest) + b")" if rest else b""))

    @property
    def raw(self) -> bool:
        """True when the form is found without lower-casing the block."""
        return self.way != "lower"


class LineFinder:
    """The lines of a block that hold one of ``forms`` (see the module doc).

    ``sample``: some of the bytes to be searched (the first block), lower-cased or not, to
    pick the rarest byte of each form as its anchor. ``way`` forces the way (for tests):
    ``"memchr"`` or ``"re"`` wherever a form has a caseless byte, ``"lower"`` always.
    """

    def __init__(self, forms: tuple[bytes, ...], sample: bytes, way: str | None = None
                 ) -> None:
        sample = sample[: 1 << 20].lower()
        self.forms = [_Form(form, sample, way) for form in forms]
        self.lowers = any(not form.raw for form in self.forms)

    def lines(self, block: bytes, end: int | None = None) -> Iterator[tuple[int, int]]:
        """``(start, end)`` of each line of ``block[:end]`` (whole lines: ``end`` is 0, the
        length, or just after a newline) that holds a form, in the order of the block for
        each form; a line may come once per form."""
        if end is None:
            end = len(block)
        lowered = block.lower() if self.lowers else block
        for form in self.forms:
            if form.pattern is None:
                yield from _lowered_lines(lowered, form.form, end)
            elif form.way == "memchr":
                yield from _rare_lines(block, form.pattern, form.form[form.anchor:][:1],
                                       form.anchor, end)
            else:
                yield from _raw_lines(block, form.pattern, form.before, end)


def _line_around(block: bytes, start: int, at: int, end: int) -> tuple[int, int]:
    """The line of ``block[:end]`` that holds ``block[start:at]``."""
    line_end = block.find(b"\n", at, end)
    return block.rfind(b"\n", 0, start) + 1, end if line_end < 0 else line_end


def _lowered_lines(lowered: bytes, form: bytes, end: int) -> Iterator[tuple[int, int]]:
    pos = lowered.find(form, 0, end)
    while pos >= 0:
        line = _line_around(lowered, pos, pos, end)
        yield line
        pos = lowered.find(form, line[1], end)


def _rare_lines(block: bytes, pattern: re.Pattern[bytes], byte: bytes, anchor: int, end: int
                ) -> Iterator[tuple[int, int]]:
    """Lines where ``pattern`` (the whole form) matches around each ``byte`` (memchr finds
    them: for a byte rarely seen, faster than any pattern scan)."""
    find, match = block.find, pattern.match
    pos = find(byte, 0, end)
    while pos >= 0:
        start = pos - anchor
        if start >= 0 and match(block, start, end):
            line = _line_around(block, start, pos, end)
            yield line
            pos = find(byte, line[1], end)
        else:
            pos = find(byte, pos + 1, end)


def _raw_lines(block: bytes, pattern: re.Pattern[bytes], before: bytes, end: int
               ) -> Iterator[tuple[int, int]]:
    size = len(before)
    search = pattern.search
    found = search(block, 0, end)
    while found is not None:
        at = found.start()
        start = at - size
        if start >= 0 and (not size or block[start:at].lower() == before):
            line = _line_around(block, start, at, end)
            yield line
            found = search(block, line[1], end)
        else:
            # not a whole form: an overlapping one may start inside this candidate
            found = search(block, at + 1, end)
