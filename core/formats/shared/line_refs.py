"""A conversation kept as the places of the lines it is made of (a stateful importer's facts
mode: see ``docs/stateful-formats.md``).

An importer whose model calls take "the conversation so far" keeps it, in facts mode, as this
stand-in for :class:`~trace_tui.core.formats.shared.messages.MessageLog`: ``add`` notes the
offset of the line being mapped (``at``, set by the mapper before each line), ``replace``
starts over from the line being mapped (a compaction whose record holds the new history). A
checkpoint keeps :meth:`mark` (the offsets array is only ever appended to, so a count is a
prefix of it); restoring reads those lines again and adds their items to a real log.
"""

from __future__ import annotations

from array import array
from typing import Any


class LineRefs:
    """Which lines' items a conversation holds (see module doc)."""

    __slots__ = ("at", "base", "refs")

    def __init__(self) -> None:
        #: The offset of the line being mapped.
        self.at = -1
        #: The line whose record replaced the history (``-1``: none, the file's start).
        self.base = -1
        self.refs = array("q")

    def add(self, item: Any) -> None:
        """The item of the line being mapped joins the conversation."""
        self.refs.append(self.at)

    def replace(self, items: Any) -> None:
        """The line being mapped replaced the conversation with ``items``."""
        self.base = self.at
        self.refs = array("q")

    def mark(self) -> tuple[int, array[int], int]:
        """(base line, offsets, how many of them): the conversation as of now."""
        return self.base, self.refs, len(self.refs)
