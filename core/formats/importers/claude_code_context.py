"""What a Claude Code model call was sent, rebuilt from the ``parentUuid`` chain.

Claude Code 2.1 writes the exact request next to the transcript (see
:mod:`.claude_code_requests`). Older transcripts record no request: :class:`ChainStore` keeps
each line's place by ``uuid`` and rebuilds the conversation a call saw by walking
``parentUuid`` links back to the root or to a compaction boundary. That is the conversation as
the transcript shows it; the reminders Claude Code injects are not in it, which the importer
says on the step.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from trace_tui.core.formats.importers.claude_code_refs import SourceLines, chain_blocks
from trace_tui.core.formats.shared.messages import normalize_messages

_MAX_CHAIN = 100_000
#: How many recently built conversations are kept to extend from.
_CACHED = 32


class _Entry:
    """One line on the chain: its uuid, its parent's, role, message id and line ref (``-1``:
    a compaction boundary, no message)."""

    __slots__ = ("message_id", "parent", "ref", "role", "uuid")

    def __init__(self, uuid: str, parent: str | None, role: str, message_id: str | None,
                 ref: int) -> None:  # fmt: skip
        self.uuid, self.parent, self.role = uuid, parent, role
        self.message_id, self.ref = message_id, ref


class ChainStore:
    """Lines by ``uuid`` and the parent links between them; their messages by reference.

    Consecutive calls share most of their conversation, so the conversation last built at a
    few recent lines is cached: the next call only converts the lines added since (read back
    through :class:`~.claude_code_refs.SourceLines`, recent ones still parsed), and the walk
    up the chain stops at the first cached line (linear time over a session, not quadratic).
    Message dicts are shared between calls' lists, never copied.
    """

    def __init__(self, lines: SourceLines | None = None) -> None:
        self._lines = lines if lines is not None else SourceLines()
        self._entries: dict[str, _Entry] = {}
        self._has_child: set[str] = set()
        self._cache: OrderedDict[str, tuple[list[dict[str, Any]], _Entry | None]] = OrderedDict()

    def add(self, uuid: str, parent: str | None, role: str, message_id: str | None,
            ref: int, record: dict[str, Any] | None = None) -> None:  # fmt: skip
        """Remember one line (``record``, at ``ref``; a compaction boundary is added with
        ``ref`` -1 and no record)."""
        if parent:
            known = self._entries.get(parent)
            parent = known.uuid if known is not None else parent  # one copy of the string
            self._has_child.add(parent)
        self._entries[uuid] = _Entry(uuid, parent, role, message_id, ref)
        if record is not None:
            self._lines.keep(ref, record)

    def has_child(self, uuid: str | None) -> bool:
        """True when an earlier line already continued from ``uuid`` (so this one rewinds)."""
        return bool(uuid) and uuid in self._has_child

    def conversation(self, parent: str | None) -> list[dict[str, Any]] | None:
        """Native messages on the path ending at ``parent`` (``None`` when it is unknown)."""
        if not parent or parent not in self._entries:
            return None
        path: list[_Entry] = []
        uuid: str | None = parent
        seen: set[str] = set()
        while uuid and uuid in self._entries and uuid not in self._cache and uuid not in seen:
            seen.add(uuid)
            entry = self._entries[uuid]
            if entry.role == "boundary" or len(path) >= _MAX_CHAIN:
                break
            path.append(entry)
            uuid = entry.parent
        cached = self._cache.get(uuid) if uuid else None
        messages, last = (list(cached[0]), cached[1]) if cached else ([], None)
        for entry in reversed(path):
            blocks = chain_blocks(self._lines.get(entry.ref)) if entry.ref >= 0 else []
            if blocks:
                _extend(messages, last, entry, blocks)
                last = entry
        self._cache[parent] = (messages, last)
        self._cache.move_to_end(parent)
        while len(self._cache) > _CACHED:
            self._cache.popitem(last=False)
        return list(messages)


def _extend(
    messages: list[dict[str, Any]], last: _Entry | None, entry: _Entry, blocks: list[Any]
) -> None:
    """Append one line's messages; a line continuing the previous message merges into a copy.

    Lines of one assistant message (same id) are one message; adjacent user lines are one
    user turn (as the API receives them).
    """
    native = normalize_messages([{"role": entry.role, "content": blocks}])
    if not native:
        return
    continues = (
        last is not None
        and last.role == entry.role
        and (entry.role == "user" or last.message_id == entry.message_id)
    )
    head = native[0]
    if continues and messages and messages[-1].get("role") == head.get("role"):
        merged = dict(messages[-1])
        merged["content"] = _joined(merged.get("content"), head.get("content"))
        if head.get("tool_calls"):
            merged["tool_calls"] = [*merged.get("tool_calls", []), *head["tool_calls"]]
        messages[-1] = merged
        native = native[1:]
    messages.extend(native)


def _joined(left: Any, right: Any) -> Any:
    if left is None or right is None:
        return right if left is None else left
    parts = [{"type": "text", "text": x} if isinstance(x, str) else x for x in (left, right)]
    return [p for x in parts for p in (x if isinstance(x, list) else [x])]
