"""Claude Code transcript lines kept by reference: the importer's state stays small.

A later line may refer to any earlier one (a call's input is rebuilt from the ``parentUuid``
chain or from ``api-request`` records; a late block reopens a model call), so the importer
used to hold every line's parsed content. With a reader (the indexer's: ``use_reader``), it
keeps, for old lines, only a *ref* (where the line is) and reads the line again when it needs
it; the lines it referred to last stay parsed in a bounded LRU, so the usual case (a call's
input is the previous call's plus the lines since) never reads the trace. Without a reader
(the whole-file readers), every kept line stays parsed, as before.

A ref is the line's offset when a reader is set, else a counter: both grow in file order, so
"before this line" is ``ref < line's ref``.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: ``read(offset)``: the parsed trace line at ``offset``, exactly as it was fed to the mapper
#: (huge strings as their stand-ins), or ``None`` when it cannot be read any more.
LineReader = Callable[[int], "dict[str, Any] | None"]

#: How many referenced lines stay parsed.
RECENT_LINES = 256


class SourceLines:
    """Parsed lines by ref: recent ones in memory, older ones read again (see module doc)."""

    def __init__(self, recent: int | None = None) -> None:
        self._read: LineReader | None = None
        self._recent: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._limit = RECENT_LINES if recent is None else recent
        self._count = 0
        #: Lines read again from the trace (tests and benchmarks look).
        self.reads = 0

    def use_reader(self, read: LineReader | None) -> None:
        """Read old lines through ``read`` (from now on; before any line is fed)."""
        self._read = read

    @property
    def by_reference(self) -> bool:
        """True when old lines are let go and read again."""
        return self._read is not None

    def ref(self, offset: int) -> int:
        """The ref of the line fed now at ``offset`` (one call per fed line that is kept)."""
        if self._read is not None:
            return offset
        self._count += 1
        return self._count

    def keep(self, ref: int, record: dict[str, Any]) -> None:
        """Remember a fed line the state refers to."""
        recent = self._recent
        recent[ref] = record
        if self._read is not None and len(recent) > self._limit:
            recent.popitem(last=False)

    def get(self, ref: int) -> dict[str, Any] | None:
        """The parsed line of ``ref`` (``None``: it cannot be read again; logged)."""
        record = self._recent.get(ref)
        if record is not None or self._read is None:
            return record
        self.reads += 1
        try:
            record = self._read(ref)
        except Exception:  # the trace changed or went away: the state says "not there"
            log.exception("Claude Code line at offset %d could not be read again", ref)
            record = None
        if not isinstance(record, dict):
            log.warning("Claude Code line at offset %d could not be read again", ref)
            return None
        self.keep(ref, record)
        return record


def message_of(record: dict[str, Any] | None) -> dict[str, Any]:
    """A line's ``message`` (empty when it has none)."""
    msg = record.get("message") if record is not None else None
    return msg if isinstance(msg, dict) else {}


def content_blocks(record: dict[str, Any] | None) -> list[Any]:
    """A line's message content as a list of blocks (``None`` blocks included)."""
    msg = message_of(record)
    content = msg.get("content")
    return content if isinstance(content, list) else [content]


def chain_blocks(record: dict[str, Any] | None) -> list[Any]:
    """A line's content blocks as the conversation holds them (``None`` blocks dropped)."""
    return [b for b in content_blocks(record) if b is not None]


def message_id_of(record: dict[str, Any] | None, ref: int | None = None) -> str:
    """The id of an assistant line's message (its ``requestId`` or ``uuid`` if it has none;
    else one of its own: ``line-<ref>``, the same whichever way the line was read)."""
    value = message_of(record).get("id") or (record or {}).get("requestId") or (
        record or {}
    ).get("uuid")
    if value:
        return str(value)
    return f"line-{id(record) if ref is None else ref}"
