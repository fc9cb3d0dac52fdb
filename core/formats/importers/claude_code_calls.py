"""Claude Code model calls by message id: recent ones whole, older ones by reference.

One assistant message becomes one ``llm`` step, however many lines it is split over; a late
line of a message that already ended reopens it (its end is emitted again with every block).
:class:`CallStore` keeps the last :data:`RECENT_CALLS` messages whole; with lines kept by
reference (:mod:`.claude_code_refs`), an older one keeps its span id, parent and line refs and
is made whole again from its lines if a late line reopens it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from trace_tui.core.formats.importers.claude_code_refs import (
    SourceLines,
    content_blocks,
    message_of,
)


@dataclass
class Llm:
    """One model call (an assistant message) as far as its lines go."""

    span_id: str
    blocks: list[Any] = field(default_factory=list)
    usage: dict[str, Any] = field(default_factory=dict)
    stop_reason: Any = None
    end: Any = None
    sources: list[Any] = field(default_factory=list)
    open: bool = True
    parent: str | None = None
    refs: list[int] = field(default_factory=list)  # its lines, in order

    def add(self, rec: dict[str, Any], blocks: list[Any]) -> None:
        """One more line of the message (``blocks``: its content blocks)."""
        msg = message_of(rec)
        self.blocks += [b for b in blocks if b is not None]
        usage = msg.get("usage")
        self.usage = usage if isinstance(usage, dict) else self.usage
        self.stop_reason = msg.get("stop_reason") or self.stop_reason
        self.end = rec.get("timestamp") or self.end


#: How many model calls stay whole after they end (a late block may reopen one); older ones
#: keep their id, parent and lines, and are read again if reopened.
RECENT_CALLS = 64


class CallStore:
    """Model calls by message id (see module doc)."""

    def __init__(self, lines: SourceLines) -> None:
        self._lines = lines
        self._recent: OrderedDict[str, Llm] = OrderedDict()
        #: Older messages, ended: id -> (span id, parent, line refs).
        self._old: dict[str, tuple[str, str | None, tuple[int, ...]]] = {}

    def get(self, message_id: str) -> Llm | None:
        """The call of ``message_id`` (an old one made whole again), or ``None``."""
        llm = self._recent.get(message_id)
        if llm is not None:
            self._recent.move_to_end(message_id)
            return llm
        old = self._old.pop(message_id, None)
        if old is None:
            return None
        llm = Llm(old[0], open=False, parent=old[1], refs=list(old[2]))
        for ref in old[2]:
            line = self._lines.get(ref)
            llm.add(line or {}, content_blocks(line))
        self._put(message_id, llm)
        return llm

    def add(self, message_id: str, span_id: str, parent: str | None) -> Llm:
        """A new call."""
        llm = Llm(span_id, parent=parent)
        self._put(message_id, llm)
        return llm

    def _put(self, message_id: str, llm: Llm) -> None:
        """Keep the last :data:`RECENT_CALLS` calls whole (only when lines are read again:
        without a reader every call stays whole); an open call is never let go."""
        recent = self._recent
        recent[message_id] = llm
        excess = len(recent) - RECENT_CALLS
        if excess <= 0 or not self._lines.by_reference:
            return
        done = []
        for old_id, call in recent.items():  # the oldest first; usually the first one goes
            if not call.open:
                done.append(old_id)
                if len(done) == excess:
                    break
        for old_id in done:
            call = recent.pop(old_id)
            self._old[old_id] = (call.span_id, call.parent, tuple(call.refs))
