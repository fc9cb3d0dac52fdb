"""Huge strings of a foreign trace, written to the spill once and referred to by place.

A Claude Code line can hold a 200 MB pasted file. Its importer puts that text in several
records (the turn's prompt, the raw ``source`` record, later calls' rebuilt conversations) and
keeps it for the calls that follow. So that the text is never decoded while indexing, held by
the importer, or written again for each record, a huge line of a foreign trace is decoded by
:func:`decode_huge`: every string literal over :data:`INTERN_BYTES` is copied as it is (JSON)
to the spill, once, on its own line (a *blob*), and stands in the decoded value as a
:class:`SpilledText` (its first characters and a note, with the blob's place). A record holding
a :class:`SpilledText` is spilled with a *reference* string in its place
(``"\\x00trace-tui-blob:<offset>:<length>\\x00"``), and :func:`resolve_blobs` puts the whole
string back when the record is read (each blob once per step, decoded a slice at a time).

A trace string that itself starts with the reference prefix is written as a blob too, so every
reference string in the spill is one of ours.
"""

from __future__ import annotations

import json.encoder
import os
from typing import Any

import msgspec
import orjson

#: String literals longer than this (bytes of JSON) in a huge line are held in the spill only:
#: longer than any line the reader indexed before huge lines were read (8 MiB), so a step read
#: from a line it indexed before shows exactly what it showed then.
INTERN_BYTES = 8 * 1024 * 1024
#: How many leading characters a :class:`SpilledText` keeps (names, previews).
KEEP_CHARS = 4096
#: Characters encoded per write when a huge string is written (bounded memory).
ENCODE_CHARS = 1024 * 1024
#: Bytes of a blob decoded at a time when it is read back.
DECODE_BYTES = 1024 * 1024
MAX_DEPTH = 64
REF_PREFIX = "\x00trace-tui-blob:"
#: How :data:`REF_PREFIX` looks in JSON written by orjson or the standard library.
REF_PREFIX_JSON = b'"\\u0000trace-tui-blob:'
#: The end of a :class:`SpilledText`'s note: seen in a dumped record, the record holds one.
CUT_NOTE_JSON = b" more bytes held apart from this copy]"


class SpilledText(str):
    """A huge string that lives in the spill: its first :data:`KEEP_CHARS` characters and a
    note, so an importer can name a step from it; ``ref`` says where the whole string is.

    ``str(x)`` keeps it (importers write ``str(text)``), so the reference survives; anything
    built from it (a join, a slice) is a plain string holding the cut text and the note."""

    ref: str

    def __str__(self) -> str:
        return self


def spilled_text(head: str, at: int, length: int) -> SpilledText:
    """The stand-in for a string whose first characters are ``head`` (at most
    :data:`KEEP_CHARS` are kept), written to the spill at ``at`` as ``length`` bytes of JSON."""
    kept = head[:KEEP_CHARS]
    rest = max(0, length - 2 - len(kept.encode("utf-8", "surrogatepass")))
    shown = SpilledText(f"{kept}… [{rest:,}{CUT_NOTE_JSON.decode()}")
    shown.ref = f"{REF_PREFIX}{at}:{length}\x00"
    return shown


def encoded_pieces(text: str) -> Any:
    """``text`` as one JSON string literal, in pieces of about :data:`ENCODE_CHARS`
    characters (the encoders reserve several times what they encode at once)."""
    yield b'"'
    for start in range(0, len(text), ENCODE_CHARS):
        piece = text[start : start + ENCODE_CHARS]
        try:
            yield json.encoder.encode_basestring(piece)[1:-1].encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: escaped, so the JSON stays valid
            yield json.encoder.encode_basestring_ascii(piece)[1:-1].encode("ascii")
    yield b'"'


def needs_swap(data: bytes) -> bool:
    """Does a record dumped as ``data`` hold a :class:`SpilledText` or a string that looks
    like a reference (so it must be written with :func:`swap_strings`)?"""
    return CUT_NOTE_JSON in data or REF_PREFIX_JSON in data


def swap_strings(
    value: Any, big: list[str] | None, blob: Any, big_chars: int, refs: list[str],
    depth: int = 0,
) -> Any:
    """``value`` ready to be spilled: a :class:`SpilledText` becomes its reference, a string
    that starts like one is written as a blob (``blob(text)`` returns its stand-in), and, when
    ``big`` is a list, every other string over ``big_chars`` becomes ``PLACEHOLDER_TEXT`` (the
    strings go to ``big`` in the order they appear in the dumped JSON). The references put in
    go to ``refs``."""
    if isinstance(value, str):
        if isinstance(value, SpilledText):
            refs.append(value.ref)
            return value.ref
        if value.startswith(REF_PREFIX):
            refs.append(blob(value).ref)
            return refs[-1]
        if big is not None and len(value) > big_chars:
            big.append(value)
            return PLACEHOLDER_TEXT
        return value
    if depth > MAX_DEPTH:
        return value
    if isinstance(value, dict):
        if not any(isinstance(v, (str, dict, list)) for v in value.values()):
            return value
        return {k: swap_strings(v, big, blob, big_chars, refs, depth + 1)
                for k, v in value.items()}
    if isinstance(value, list):
        return [swap_strings(v, big, blob, big_chars, refs, depth + 1) for v in value]
    return value


PLACEHOLDER_TEXT = "\x00trace-tui-spilled-string\x00"
PLACEHOLDER = orjson.dumps(PLACEHOLDER_TEXT)


_OBJECT = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ARRAY = msgspec.json.Decoder(list[msgspec.Raw])


def decode_huge(data: memoryview, blob: Any, depth: int = 0, *, whole_top: bool = False
                ) -> Any:
    """The JSON value in ``data`` with every string literal over :data:`INTERN_BYTES` handed
    to ``blob(literal)`` undecoded (its :class:`SpilledText` stands in its place).

    Objects and arrays over the limit are split one level at a time into raw members (views
    of ``data``, no copy); smaller members are decoded whole. ``whole_top``: the top object's
    own string members are decoded whole (a native record's name, ids and error are what the
    index keeps). Raises ``msgspec.DecodeError`` or ``ValueError`` if the JSON is not valid.
    """
    first = bytes(data[:1])
    if first == b'"':
        return blob(data)
    if depth > MAX_DEPTH or first not in (b"{", b"["):
        return _decode_small(data)
    if first == b"{":
        members = _OBJECT.decode(data)
        return {key: _decode_small(memoryview(raw))
                if whole_top and bytes(memoryview(raw)[:1]) == b'"'
                else _member(raw, blob, depth) for key, raw in members.items()}
    return [_member(raw, blob, depth) for raw in _ARRAY.decode(data)]


def _member(raw: msgspec.Raw, blob: Any, depth: int) -> Any:
    view = memoryview(raw)
    if len(view) > INTERN_BYTES:
        return decode_huge(view, blob, depth + 1)
    return _decode_small(view)


def _decode_small(data: memoryview) -> Any:
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:  # integers beyond 64 bits: orjson takes them
        return orjson.loads(data)


def literal_slices(content: memoryview) -> Any:
    """The content of a JSON string literal (quotes cut off) in slices of about
    :data:`DECODE_BYTES`, each cut where no character, escape or surrogate pair is split."""
    start, size = 0, len(content)
    while start < size:
        end = size if size - start <= DECODE_BYTES else _safe_cut(content, start + DECODE_BYTES)
        if end <= start:  # no safe cut near: look further on
            end = _safe_cut_after(content, start + DECODE_BYTES)
        yield content[start:end]
        start = end


def literal_head(literal: memoryview) -> str:
    """The first :data:`KEEP_CHARS` characters of a JSON string literal, checked whole slice
    by slice (``msgspec.DecodeError`` if it is not a valid string)."""
    head = ""
    for piece in literal_slices(literal[1:-1]):
        text = decode_slice(piece)
        if len(head) < KEEP_CHARS:
            head += text[: KEEP_CHARS - len(head)]
    return head


def decode_slice(piece: memoryview) -> str:
    """One slice of a string literal's content, decoded (``msgspec.DecodeError`` if bad)."""
    text = msgspec.json.decode(b'"' + bytes(piece) + b'"')
    if not isinstance(text, str):  # pragma: no cover - a quoted slice is a string
        raise ValueError("not a string")
    return text


_NOT_IN_ESCAPES = frozenset(range(0x20, 0x80)) - frozenset(b'\\"/bfnrtu0123456789abcdefABCDEF')
_SEARCH = 4096


def _safe(content: memoryview, at: int) -> bool:
    """Can the string's content be cut before byte ``at``?"""
    byte = content[at]
    if byte >= 0xC0:  # a UTF-8 lead byte: never inside an escape
        return True
    before = content[at - 1]
    if byte < 0x80 and before in _NOT_IN_ESCAPES:  # the byte before is a character alone
        return True
    if byte == 0x5C:  # a backslash after an even run of them starts an escape...
        run = 0
        while at - run - 1 >= 0 and content[at - run - 1] == 0x5C:
            run += 1
        # ...that must not be the low half of a surrogate pair
        low = bytes(content[at + 1 : at + 3]).lower() in (b"ud",) and \
            bytes(content[at + 3 : at + 4]).lower() in (b"c", b"d", b"e", b"f")
        return run % 2 == 0 and not low
    return False


def _safe_cut(content: memoryview, at: int) -> int:
    """The last safe cut at or before ``at`` (searching :data:`_SEARCH` bytes), else -1."""
    for pos in range(at, max(0, at - _SEARCH), -1):
        if _safe(content, pos):
            return pos
    return -1


def _safe_cut_after(content: memoryview, at: int) -> int:
    """The first safe cut after ``at``, or the end of the content."""
    for pos in range(at + 1, len(content) - 12):  # (a pair's low half must be in view)
        if _safe(content, pos):
            return pos
    return len(content)


def ref_offset(ref: str) -> int:
    """Where in the spill the blob a reference stands for starts."""
    return int(ref[len(REF_PREFIX) :].split(":", 1)[0])


class Pieces(list[str]):
    """A huge string decoded a slice at a time, to be joined later (:func:`join_pieces`)."""


def decoded_pieces(literal: memoryview) -> Pieces:
    """A JSON string literal decoded slice by slice (``msgspec.DecodeError`` if bad)."""
    return Pieces(decode_slice(piece) for piece in literal_slices(literal[1:-1]))


def join_pieces(value: Any, depth: int = 0) -> Any:
    """``value`` with every :class:`Pieces` joined into its string (in place; each one's
    pieces let go once joined)."""
    if isinstance(value, Pieces):
        text = "".join(value)
        value.clear()
        return text
    if depth > MAX_DEPTH + 2:
        return value
    if isinstance(value, dict):
        for key in list(value):
            if isinstance(value[key], (dict, list)):
                value[key] = join_pieces(value[key], depth + 1)
    elif isinstance(value, list):
        for k, item in enumerate(value):
            if isinstance(item, (dict, list)):
                value[k] = join_pieces(item, depth + 1)
    return value


class BlobReader:
    """Reads blobs back from a spill, each once while it is kept (one step's records share
    them); ``bytes_read`` counts what was read (for the step cache's accounting)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.bytes_read = 0
        self._texts: dict[str, str] = {}

    def text(self, ref: str) -> str | None:
        """The whole string a reference stands for (``None`` if it cannot be read): read and
        decoded a slice at a time, so only the decoded pieces and the string are held."""
        found = self._texts.get(ref)
        if found is not None:
            return found
        try:
            at, length = (int(n) for n in ref[len(REF_PREFIX) : -1].split(":"))
        except ValueError:
            return None
        pieces: list[str] = []
        try:
            for start, end in _slices_on_disk(self.fd, at + 1, length - 2):
                pieces.append(decode_slice(memoryview(os.pread(self.fd, end - start, start))))
        except (msgspec.DecodeError, ValueError, OSError):
            return None
        self.bytes_read += length
        text = "".join(pieces)
        del pieces
        self._texts[ref] = text
        return text


def _slices_on_disk(fd: int, at: int, length: int) -> Any:
    """(start, end) file positions of a blob's content cut as :func:`literal_slices` cuts."""
    start, stop = at, at + length
    while start < stop:
        if stop - start <= DECODE_BYTES:
            yield start, stop
            return
        window = memoryview(os.pread(fd, min(DECODE_BYTES + _SEARCH, stop - start), start))
        cut = _safe_cut(window, DECODE_BYTES)
        if cut <= 0:
            cut = _safe_cut_after(window, DECODE_BYTES)
            if cut >= len(window):  # no safe place in this window: the rest at once
                yield start, stop
                return
        yield start, start + cut
        start += cut


def resolve_blobs(value: Any, reader: BlobReader, depth: int = 0) -> Any:
    """``value`` (read back from the spill) with every reference replaced, in place, by the
    whole string."""
    if isinstance(value, str):
        if value.startswith(REF_PREFIX):
            text = reader.text(value)
            return value if text is None else text
        return value
    if depth > MAX_DEPTH + 2:
        return value
    if isinstance(value, dict):
        for key in list(value):
            item = value[key]
            if isinstance(item, (str, dict, list)):
                value[key] = resolve_blobs(item, reader, depth + 1)
    elif isinstance(value, list):
        for k, item in enumerate(value):
            if isinstance(item, (str, dict, list)):
                value[k] = resolve_blobs(item, reader, depth + 1)
    return value
