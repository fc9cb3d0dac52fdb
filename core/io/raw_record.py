"""Read one record's original bytes back from a trace file, for the raw view.

Steps remember the byte offset of their first record; this re-reads that line (at most
``cap`` bytes of it, so a 10 MB line costs no more than the cap) without touching the rest of
the file. The bytes are returned as they are: display code sanitises, copy keeps them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

RAW_CAP = 256 * 1024


@dataclass(frozen=True, slots=True)
class RawRecord:
    """The head of one line of a file: its bytes, and whether the line went on past the cap."""

    offset: int
    data: bytes
    cut: bool

    @property
    def text(self) -> str:
        """The bytes decoded as UTF-8 (invalid bytes shown as escapes)."""
        return self.data.decode("utf-8", errors="backslashreplace")


def read_record_line(path: str | os.PathLike[str], offset: int, cap: int = RAW_CAP) -> RawRecord:
    """The line starting at byte ``offset`` of ``path``, up to ``cap`` bytes (raises OSError)."""
    with open(path, "rb") as stream:
        stream.seek(offset)
        data = stream.read(cap + 1)
    end = data.find(b"\n")
    if end >= 0:
        return RawRecord(offset, data[:end].rstrip(b"\r"), False)
    return RawRecord(offset, data[:cap], len(data) > cap)
