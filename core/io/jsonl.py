"""Split a JSON-lines byte stream into records, keeping every bad line visible.

One physical line is one record. Lines are split only on ``b"\\n"``; a trailing ``\\r``, blank
lines and a UTF-8 byte-order mark are tolerated. A line that is not a JSON object becomes a
:class:`CorruptLine` carrying its byte offset and a short, printable preview, and reading goes on.

What counts as corrupt, and why:

* A damaged line that still holds one whole record is *kept* as a :class:`RepairedRecord`
  saying what was done: invalid UTF-8 is decoded with U+FFFD and flagged, and a record
  written after a NUL run on the same line is read from after the run.
* NUL runs (preallocated or torn blocks), torn or spliced records, invalid UTF-8, control
  characters inside strings, ``NaN``/``Infinity`` (not JSON), nesting deeper than the parser's
  limit (orjson stops at 1024 levels, so 100,000 brackets cost nothing), and valid JSON that is
  not an object.
* Integers beyond 64 bits are *kept*: orjson turns them into floats, which would silently lose
  digits, so with ``exact=True`` such a line is re-parsed by the standard library, which keeps
  every digit. Numbers too large for a double (``1e999``) are kept the same way.
* Duplicate keys are not corrupt: the last one wins, as in orjson, msgspec and ``JSON.parse``.
* Lines longer than the reader's cap (:data:`MAX_LINE_BYTES` unless it admits huge lines,
  up to :data:`HUGE_LINE_BYTES`) are reported and skipped with bounded memory; a huge line
  it admits is parsed by msgspec, which needs far less memory than orjson.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson

log = logging.getLogger(__name__)

BOM = b"\xef\xbb\xbf"
#: Lines longer than this are reported and skipped without being held in memory whole.
MAX_LINE_BYTES = 8 * 1024 * 1024
#: The indexed reader (and the tail engine) index lines up to this long as steps: a Claude
#: Code session can hold single lines of 70–200 MB (a pasted file, an image). Such a line is
#: found in bounded blocks, then read whole once, when indexed and when its step is shown.
HUGE_LINE_BYTES = 1024 * 1024 * 1024
#: How many leading bytes of a skipped line are kept for its preview.
PREVIEW_KEEP = 256
_CHUNK = 1024 * 1024
# Digits map to "0", everything else to "."; 19 zeros in a row may be an integer orjson reads
# as a float (beyond 64 bits: 20+ digits, or a 19-digit one below -2**63).
_DIGIT_TABLE = bytes(0x30 if 0x30 <= i <= 0x39 else 0x2E for i in range(256))
_LONG_DIGITS = b"0" * 19
#: What comes before a JSON number's integer part (a run of digits after anything else, say
#: inside a string: a hash, an id, is no number and needs no exact parse).
_NUMBER_START = frozenset(b":,[ \t\r\n")


@dataclass(frozen=True, slots=True)
class RawLine:
    """One physical line: where it starts, its 1-based number and its bytes (no newline)."""

    offset: int
    line: int
    data: bytes
    too_long: bool = False


class RepairedRecord(dict[str, Any]):
    """A record read from a damaged line, kept; ``repair`` says what was done (one line).

    Invalid UTF-8 is decoded with U+FFFD in place of the bad bytes; a record written after a
    run of NUL bytes (a torn or preallocated block) on the same line is read from after the
    run. Readers keep the record and report ``repair`` as a problem, so nothing is silent.
    """

    __slots__ = ("repair",)

    def __init__(self, value: dict[str, Any], repair: str) -> None:
        super().__init__(value)
        self.repair = repair


@dataclass(frozen=True, slots=True)
class CorruptLine:
    """A line that could not be decoded into a JSON object."""

    offset: int
    line: int
    reason: str
    preview: str

    @property
    def message(self) -> str:
        """The one-line description shown to users."""
        return f"corrupt record at offset {self.offset} (line {self.line}): {self.reason}"


def preview_bytes(data: bytes, limit: int = 80) -> str:
    """A short printable preview of raw bytes (undecodable bytes shown as escapes)."""
    text = data[: limit * 4].decode("utf-8", errors="backslashreplace")
    text = "".join(
        ch if ch.isprintable() else f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"
        for ch in text
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def iter_raw_lines(
    stream: IO[bytes], *, start: int = 0, max_line: int = MAX_LINE_BYTES
) -> Iterator[RawLine]:
    """Yield the lines of ``stream`` from byte ``start``, a final unterminated line too.

    Memory stays bounded by ``max_line``: a longer line is yielded once with ``too_long`` set
    and only its first bytes kept (for the preview). A line over :data:`MAX_LINE_BYTES` that
    ``max_line`` admits is yielded without a copy (its ``data`` is then a ``bytearray``).
    """
    stream.seek(start)
    line_start, line_no, chunk_start = start, 0, start
    pending = bytearray()
    too_long = False
    while chunk := stream.read(_CHUNK):
        pos = 0
        while (nl := chunk.find(b"\n", pos)) >= 0:
            line_no += 1
            if not too_long:
                pending += chunk[pos:nl]
                too_long = len(pending) > max_line
            if not too_long and len(pending) > MAX_LINE_BYTES:
                # A huge line is handed over as it is, not copied: its reader owns it now.
                yield RawLine(line_start, line_no, pending, False)  # type: ignore[arg-type]
                pending = bytearray()
            else:
                data = bytes(pending[:PREVIEW_KEEP] if too_long else pending)
                yield RawLine(line_start, line_no, data, too_long)
                pending.clear()
            too_long = False
            pos = nl + 1
            line_start = chunk_start + pos
        if not too_long:
            pending += chunk[pos:]
            if len(pending) > max_line:
                too_long = True
                del pending[PREVIEW_KEEP:]
        chunk_start += len(chunk)
    if pending or too_long:
        yield RawLine(line_start, line_no + 1, bytes(pending), too_long)


def repaired_message(offset: int, line: int | None, record: RepairedRecord) -> str:
    """The one-line problem for a record kept from a damaged line."""
    return f"damaged record at offset {offset} (line {line}) kept: {record.repair}"


def loads_big(data: bytes | memoryview) -> Any:
    """Parse a line of many megabytes with bounded memory (``orjson.JSONDecodeError`` if bad).

    orjson reserves many times a big document's size while it parses it (13× for a 100 MB
    line holding two long strings, measured); msgspec needs about 1.6×. Numbers msgspec
    refuses (integers beyond 64 bits) are left to orjson.
    """
    try:
        import msgspec
    except ImportError:  # pragma: no cover - msgspec is a dependency; orjson is the fallback
        return orjson.loads(data)
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return orjson.loads(data)


def too_long_line(
    offset: int, line: int, length: int, head: bytes, cap: int = MAX_LINE_BYTES
) -> CorruptLine:
    """The problem entry for a line longer than ``cap`` bytes (skipped)."""
    return CorruptLine(
        offset,
        line,
        f"line of {length} bytes is longer than {cap}, skipped",
        preview_bytes(head),
    )


def decode_line(
    raw: RawLine, *, exact: bool = True, max_line: int = MAX_LINE_BYTES
) -> dict[str, Any] | CorruptLine | None:
    """Parse one line: a dict, a :class:`CorruptLine`, or ``None`` for a blank line.

    With ``exact`` (the default) a line holding an integer beyond 64 bits is parsed by the standard
    library so big integers keep every digit; indexing, which only needs a few light fields,
    passes ``exact=False`` to skip that check. ``max_line`` is the cap the line was read with
    (:func:`iter_raw_lines`), named in the problem of a line that was longer.
    """
    if raw.too_long:
        return CorruptLine(
            raw.offset,
            raw.line,
            f"line longer than {max_line} bytes, skipped",
            preview_bytes(raw.data),
        )
    return decode_bytes(raw.data, raw.offset, raw.line, exact=exact)


def decode_bytes(
    data: bytes, offset: int, line: int, *, exact: bool = True
) -> dict[str, Any] | CorruptLine | None:
    """Parse one line's bytes (no newline) found at ``offset``; see :func:`decode_line`."""
    if offset == 0 and data.startswith(BOM):
        data = data[len(BOM) :]
    if data.endswith(b"\r"):
        data = data[:-1]
    if not data[:64].strip() and not data.strip():
        return None
    if len(data) > MAX_LINE_BYTES:
        value = _huge_value(data)
        if value is not _NOT_PARSED:
            return _object_or_corrupt(value, data, offset, line)
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        value = _stdlib_fallback(data, exc)
        if value is None:
            repaired = _repair(data, exc)
            if repaired is not None:
                return repaired
            return CorruptLine(offset, line, _reason(data, exc), preview_bytes(data))
    else:
        if (
            exact
            and len(data) >= 19
            and _has_big_integer(data, data.translate(_DIGIT_TABLE))
        ):
            value = _stdlib_fallback(data, None) or value
    return _object_or_corrupt(value, data, offset, line)


def _object_or_corrupt(
    value: Any, data: bytes, offset: int, line: int
) -> dict[str, Any] | CorruptLine:
    if not isinstance(value, dict):
        return CorruptLine(
            offset, line, f"JSON {_json_kind(value)}, not an object", preview_bytes(data)
        )
    return value


_NOT_PARSED = object()


def _huge_value(data: bytes) -> Any:
    """A line over :data:`MAX_LINE_BYTES` parsed by msgspec (about 1.6× its size, where orjson
    may reserve 13×; integers of any size kept exactly), or ``_NOT_PARSED`` when msgspec
    refuses it (bad JSON, ``1e999``: the ordinary path then says why, or reads it)."""
    try:
        import msgspec
    except ImportError:  # pragma: no cover - msgspec is a dependency
        return _NOT_PARSED
    try:
        return msgspec.json.decode(data)
    except msgspec.DecodeError:
        return _NOT_PARSED


def _has_big_integer(data: bytes, digits: bytes) -> bool:
    """Does ``data`` hold an integer orjson reads as a float: 20+ digits, or 19 after a minus
    sign, where a number starts? (``digits``: ``data`` through :data:`_DIGIT_TABLE`.)"""
    at = digits.find(_LONG_DIGITS)
    while at >= 0:
        start = at
        while start > 0 and digits[start - 1] == 0x30:
            start -= 1
        end = digits.find(b".", at + len(_LONG_DIGITS))
        end = len(digits) if end < 0 else end
        before = data[start - 1] if start > 0 else 0x20
        if before == 0x2D:  # "-": the sign of a number, or a dash in a string
            if (start < 2 or data[start - 2] in _NUMBER_START) and end - start >= 19:
                return True
        elif before in _NUMBER_START and end - start >= 20:
            return True
        at = digits.find(_LONG_DIGITS, end)
    return False


def _repair(data: bytes, exc: Exception) -> RepairedRecord | None:
    """A damaged line that still holds one whole record: read it, say what was done."""
    if b"\x00" in data:
        rest = data[data.rindex(b"\x00") + 1 :]
        value = decode_bytes(rest, 1, 0) if rest.strip() else None
        if isinstance(value, dict):
            skipped = len(data) - len(rest)
            note = f"{skipped} bytes before the record skipped (NUL bytes: a torn write?)"
            if isinstance(value, RepairedRecord):
                note = f"{note}; {value.repair}"
            return RepairedRecord(value, note)
        return None
    if "UTF-8" not in str(exc) and "utf-8" not in str(exc):
        return None
    text = data.decode("utf-8", errors="replace")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    bad = text.count("\ufffd") - data.count("\ufffd".encode())
    return RepairedRecord(value, f"invalid UTF-8: {bad} bad byte sequence(s) shown as U+FFFD")


def _stdlib_fallback(data: bytes, exc: Exception | None) -> Any:
    """Re-parse with the standard library when orjson refused only a number's size.

    Returns ``None`` when the line is corrupt for any other reason. NaN and Infinity stay
    refused (they are not JSON), and so does anything the standard library cannot parse.
    """
    if exc is not None and "number" not in str(exc) and "integer" not in str(exc).lower():
        return None
    try:
        return json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as fallback_exc:
        log.debug("stdlib JSON fallback refused a line too: %s", fallback_exc)
        return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _json_kind(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", type(None): "null"}
    if isinstance(value, bool) or value is None:
        return names[type(value)]
    if isinstance(value, int | float):
        return "number"
    return names.get(type(value), type(value).__name__)


def _reason(data: bytes, exc: Exception) -> str:
    """Why a line is corrupt, in words a person recognises."""
    text = str(exc)
    if b"\x00" in data:
        return "NUL bytes (a torn write or preallocated space)"
    if "UTF-8" in text or "utf-8" in text:
        return "invalid UTF-8"
    if "depth" in text:
        return "nested too deeply"
    if b"NaN" in data or b"Infinity" in data:
        return "not valid JSON (NaN and Infinity are not JSON)"
    if "end of data" in text or "truncated" in text:
        return "not valid JSON (the record is cut short: a torn write?)"
    if "after document" in text or "trailing" in text:
        return "not valid JSON (more after the record: two records spliced together?)"
    short = text.split(":", 1)[0].strip()
    return f"not valid JSON ({short})" if short else "not valid JSON"
