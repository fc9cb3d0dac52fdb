"""What a Claude Code model call was sent, rebuilt from the ``parentUuid`` chain.

Claude Code 2.1 writes the exact request next to the transcript (see
:mod:`.claude_code_requests`). Older transcripts record no request: :class:`ChainStore` keeps
each line's place by ``uuid`` and rebuilds the conversation a call saw by walking
``parentUuid`` links back to the root or to a compaction boundary. That is the conversation as
the transcript shows it; the reminders Claude Code injects are not in it, which the importer
says on the step.
"""

from __future__ import annotations

from array import array
from collections import OrderedDict
from typing import Any

from trace_tui.core.formats.importers.claude_code_refs import (
    SourceLines,
    chain_blocks,
    message_id_of,
)
from trace_tui.core.formats.shared.messages import normalize_messages

_MAX_CHAIN = 100_000
#: How many recently built conversations are kept to extend from.
_CACHED = 32


#: Role codes of chain entries.
_ROLES = ("user", "assistant", "boundary")


def _key(uuid: str) -> int | str:
    """A uuid as a dict key: a canonical lower-case uuid as its 128-bit number (half the
    memory of the string; no other string maps to that number), anything else as itself."""
    if len(uuid) == 36 and uuid[8] == uuid[13] == uuid[18] == uuid[23] == "-":
        digits = uuid.replace("-", "")
        try:
            number = int(digits, 16)
        except ValueError:
            return uuid
        if format(number, "032x") == digits:
            return number
    return uuid


class ChainStore:
    """Lines by ``uuid`` and the parent links between them; their messages by reference.

    Each uuid gets a *slot* (its number, whether a later line continued from it, and its
    current line: a uuid written again replaces it); each line an entry (its parent's slot,
    role and line ref, in arrays). Consecutive calls share most of their conversation, so the
    conversation last built at a few recent lines is cached (forgotten when a uuid already
    known gets a line: each conversation depends only on the lines so far, not on when it was
    built, so a mapper restored from a checkpoint builds the same): the next call only converts the
    lines added since (read back through :class:`~.claude_code_refs.SourceLines`, recent ones
    still parsed), and the walk up the chain stops at the first cached line (linear time over
    a session, not quadratic). Message dicts are shared between calls' lists, never copied.
    """

    def __init__(self, lines: SourceLines | None = None) -> None:
        self._lines = lines if lines is not None else SourceLines()
        self._slots: dict[int | str, int] = {}
        self._current = array("q")  # slot -> its line's entry (-1: no line with that uuid)
        self._has_child = bytearray()  # slot -> 1 when a line continued from it
        self._parent = array("q")  # entry -> its parent's slot (-1: none)
        self._ref = array("q")  # entry -> its line's ref (-1: a compaction boundary)
        self._role = bytearray()  # entry -> index in _ROLES
        self._slot_of = array("q")  # entry -> its own slot (to rebuild ``_current`` as of)
        self._cache: OrderedDict[int, tuple[list[dict[str, Any]], tuple[str, Any] | None]] = (
            OrderedDict()
        )
        self._last: tuple[str | None, int] = (None, -1)  # the uuid last given a slot

    def _slot(self, uuid: str) -> int:
        if uuid == self._last[0]:  # a line's parent is usually the line before
            return self._last[1]
        key = _key(uuid)
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = len(self._current)
            self._current.append(-1)
            self._has_child.append(0)
        self._last = (uuid, slot)
        return slot

    def _known(self, uuid: str | None) -> int | None:
        """The slot of ``uuid`` if a line with it was added."""
        slot = self._slots.get(_key(uuid)) if uuid else None
        return slot if slot is not None and self._current[slot] >= 0 else None

    def add(self, uuid: str, parent: str | None, role: str, ref: int,
            record: dict[str, Any] | None = None) -> None:  # fmt: skip
        """Remember one line (``record``, at ``ref``; a compaction boundary is added with
        ``ref`` -1 and no record)."""
        parent_slot = -1
        if parent:
            parent_slot = self._slot(parent)
            self._has_child[parent_slot] = 1
        known = len(self._current)
        slot = self._slot(uuid)
        if slot < known and self._cache:  # a line rewritten, or written after its child:
            self._cache.clear()  # a cached conversation may have walked past it otherwise
        self._current[slot] = len(self._ref)
        self._parent.append(parent_slot)
        self._role.append(_ROLES.index(role))
        self._slot_of.append(slot)
        self._ref.append(ref)  # last: a copy "as of" counts entries by it
        if record is not None:
            self._lines.keep(ref, record)

    def mark(self) -> tuple[int, int]:
        """How far the store is (entries, slots): :meth:`as_of` copies that much of it."""
        return len(self._ref), len(self._current)

    def as_of(self, mark: tuple[int, int], lines: SourceLines) -> ChainStore:
        """A new store holding what this one held at ``mark`` (the arrays are only appended
        to, so a count is a prefix; another thread may append meanwhile)."""
        entries, slots = mark
        out = ChainStore(lines)
        out._parent = self._parent[:entries]
        out._ref = self._ref[:entries]
        out._role = self._role[:entries]
        out._slot_of = self._slot_of[:entries]
        out._slots = {k: v for k, v in self._slots.copy().items() if v < slots}
        current = out._current = array("q", [-1]) * slots
        has_child = out._has_child = bytearray(slots)
        for entry, slot in enumerate(out._slot_of):
            current[slot] = entry
        for parent in out._parent:
            if parent >= 0:
                has_child[parent] = 1
        return out

    def has_child(self, uuid: str | None) -> bool:
        """True when an earlier line already continued from ``uuid`` (so this one rewinds)."""
        slot = self._slots.get(_key(uuid)) if uuid else None
        return slot is not None and self._has_child[slot] == 1

    def conversation(self, parent: str | None) -> list[dict[str, Any]] | None:
        """Native messages on the path ending at ``parent`` (``None`` when it is unknown)."""
        top = self._known(parent)
        if top is None:
            return None
        path: list[int] = []
        slot: int = top
        seen: set[int] = set()
        cache, current = self._cache, self._current
        while slot >= 0 and current[slot] >= 0 and slot not in cache and slot not in seen:
            seen.add(slot)
            entry = current[slot]
            if self._role[entry] == 2 or len(path) >= _MAX_CHAIN:  # a compaction boundary
                break
            path.append(entry)
            slot = self._parent[entry]
        cached = cache.get(slot) if slot >= 0 else None
        messages, last = (list(cached[0]), cached[1]) if cached else ([], None)
        for entry in reversed(path):
            ref = self._ref[entry]
            line = self._lines.get(ref) if ref >= 0 else None
            blocks = chain_blocks(line)
            if blocks:
                role = _ROLES[self._role[entry]]
                now = (role, message_id_of(line, ref) if role == "assistant" else None)
                _extend(messages, last, now, blocks)
                last = now
        cache[top] = (messages, last)
        cache.move_to_end(top)
        while len(cache) > _CACHED:
            cache.popitem(last=False)
        return list(messages)


def _extend(
    messages: list[dict[str, Any]],
    last: tuple[str, Any] | None,
    entry: tuple[str, Any],
    blocks: list[Any],
) -> None:
    """Append one line's messages; a line continuing the previous message merges into a copy.

    Lines of one assistant message (same id) are one message; adjacent user lines are one
    user turn (as the API receives them). ``last``/``entry``: (role, message id).
    """
    role, message = entry
    native = normalize_messages([{"role": role, "content": blocks}])
    if not native:
        return
    continues = last is not None and last[0] == role and (role == "user" or last[1] == message)
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
