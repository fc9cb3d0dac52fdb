"""Split a JSON-lines byte stream into records, keeping every bad line visible.

One physical line is one record. Lines are split only on ``b"\\n"``; a trailing ``\\r``, blank
lines and a UTF-8 byte-order mark are tolerated. A line that is not a JSON object becomes a
:class:`CorruptLine` carrying its byte offset and a short, printable preview, and reading goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import orjson

BOM = b"\xef\xbb\xbf"
#: Lines longer than this are reported and skipped without being held in memory whole.
MAX_LINE_BYTES = 8 * 1024 * 1024
_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class RawLine:
    """One physical line: where it starts, its 1-based number and its bytes (no newline)."""

    offset: int
    line: int
    data: bytes
    too_long: bool = False


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
    text = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}" for ch in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def iter_raw_lines(
    stream: IO[bytes], *, start: int = 0, max_line: int = MAX_LINE_BYTES
) -> Iterator[RawLine]:
    """Yield the lines of ``stream`` from byte ``start``, a final unterminated line too.

    Memory stays bounded by ``max_line``: a longer line is yielded once with ``too_long`` set
    and only its first bytes kept (for the preview).
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
            yield RawLine(line_start, line_no, bytes(pending[:256] if too_long else pending), too_long)
            pending.clear()
            too_long = False
            pos = nl + 1
            line_start = chunk_start + pos
        if not too_long:
            pending += chunk[pos:]
            if len(pending) > max_line:
                too_long = True
                del pending[256:]
        chunk_start += len(chunk)
    if pending or too_long:
        yield RawLine(line_start, line_no + 1, bytes(pending), too_long)


def decode_line(raw: RawLine) -> dict[str, Any] | CorruptLine | None:
    """Parse one line: a dict, a :class:`CorruptLine`, or ``None`` for a blank line."""
    data = raw.data
    if raw.too_long:
        return CorruptLine(raw.offset, raw.line, f"line longer than {MAX_LINE_BYTES} bytes, skipped", preview_bytes(data))
    if raw.offset == 0 and data.startswith(BOM):
        data = data[len(BOM):]
    if data.endswith(b"\r"):
        data = data[:-1]
    if not data.strip():
        return None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return CorruptLine(raw.offset, raw.line, _short_reason(exc), preview_bytes(data))
    if not isinstance(value, dict):
        return CorruptLine(raw.offset, raw.line, f"JSON {type(value).__name__}, not an object", preview_bytes(data))
    return value


def _short_reason(exc: Exception) -> str:
    text = str(exc).split(":", 1)[0].strip()
    return f"not valid JSON ({text})" if text else "not valid JSON"
