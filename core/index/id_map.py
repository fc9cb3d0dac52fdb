"""Span id hash -> step index in two flat arrays, with no Python object per step.

A dict of ``hash(span_id) -> index`` costs about 120 bytes per step (its table plus a 64-bit
int key and an int value, each an object of its own). :class:`IdMap` keeps two arrays:

* ``_hashes``: the id hash of every row in row order (``array('l')``, 8 bytes a row) after a
  ``-1`` (a value :func:`hash` never returns): row ``r``'s hash is at ``r + 1``;
* ``_table``: an open-addressing hash table of those references ``r + 1`` (linear probing,
  ``array('I')``, 4 bytes a slot, ``0`` for empty, whose hash ``-1`` matches no key), at most
  a quarter full (fewer probing walks in Python).

That is 24 to 40 bytes per step. Rows are only appended, never removed, so a key's probe chain
never has a hole. Whole chunks are looked up and inserted in C-level passes: ``itemgetter``
gathers the slots' rows and the rows' hashes in one call each, and only the keys whose home
slot holds another key walk their chain in Python.

The first row with a given hash owns it: a later row with the same hash (a real collision of
two span ids) is appended to ``_hashes`` but not to the table, and :meth:`IdMap.append` says so
(:class:`~trace_tui.core.index.columns.StepColumns` keeps that id in its ``collided_ids``).
"""

from __future__ import annotations

import struct
from array import array
from collections import deque
from collections.abc import Sequence
from itertools import compress, repeat
from operator import itemgetter, ne, setitem

#: The hashes' array type: a signed 64-bit int (``array('l')`` fills faster from ints, via
#: :mod:`struct`, where a C long is 64 bits).
_HASH_CODE = "l" if array("l").itemsize == 8 else "q"
#: An empty table slot (slots hold ``row + 1``).
_EMPTY = 0
#: ``_hashes[0]``, the hash of "no row" (an empty slot's): :func:`hash` never returns -1.
_NO_HASH = -1
#: Rows re-inserted per pass when the table grows (bounds the transient lists).
_REBUILD_SLICE = 1 << 15
_MIN_SLOTS = 1 << 10
#: The table has at least this many slots per key.
_SPARSE = 4


class IdMap:
    """``hash(span_id) -> row`` for rows appended in order (the ``k``-th key is row ``k``).

    Keys are :func:`hash` values: any int in the signed 64-bit range except ``-1``.
    """

    __slots__ = ("_hashes", "_mask", "_mapped", "_shadowed", "_table")

    def __init__(self) -> None:
        self._hashes = array(_HASH_CODE, [_NO_HASH])
        self._table = array("I", [_EMPTY]) * _MIN_SLOTS
        self._mask = _MIN_SLOTS - 1
        self._mapped = 0  # keys in the table
        self._shadowed: set[int] = set()  # refs (row + 1) whose hash an earlier row owns

    # ----------------------------------------------------------------- lookups
    def __len__(self) -> int:
        """The number of rows (owning their hash or not)."""
        return len(self._hashes) - 1

    def get(self, key: int, default: int = -1) -> int:
        """The row whose hash is ``key``, or ``default``."""
        table, hashes, mask = self._table, self._hashes, self._mask
        slot = key & mask
        ref = table[slot]
        while ref:
            if hashes[ref] == key:
                return ref - 1
            slot = (slot + 1) & mask
            ref = table[slot]
        return default

    def __contains__(self, key: int) -> bool:
        return self.get(key) >= 0

    def get_many(self, keys: list[int]) -> list[int]:
        """The row of each key (``-1`` where absent), in C-level passes."""
        if len(keys) < 2:
            return [self.get(key) for key in keys]
        table, hashes, mask = self._table, self._hashes, self._mask
        slots = [key & mask for key in keys]
        refs = itemgetter(*slots)(table)
        found = itemgetter(*refs)(hashes)
        rows = [ref - 1 for ref in refs]
        if found == tuple(keys):
            return rows
        todo = list(compress(range(len(keys)), map(ne, found, keys)))  # absent, or further on
        if len(todo) > 1:
            todo = list(compress(todo, itemgetter(*todo)(refs)))  # the absent are done
        for k in todo:
            key, slot, ref = keys[k], slots[k], refs[k]
            while ref and hashes[ref] != key:
                slot = (slot + 1) & mask
                ref = table[slot]
            rows[k] = ref - 1
        return rows

    def hash_of(self, row: int) -> int:
        """The hash appended for ``row``."""
        if not 0 <= row < len(self):
            raise IndexError(row)
        return self._hashes[row + 1]

    # ----------------------------------------------------------------- appending
    def append(self, key: int) -> bool:
        """Append a row with hash ``key``; ``False`` when an earlier row owns that hash (the
        row is kept, shadowed: lookups of ``key`` still find the earlier row)."""
        ref = len(self._hashes)
        owned = self.get(key) < 0
        if owned:
            self._reserve(1)
            self._put(key, ref)
            self._mapped += 1
        else:
            self._shadowed.add(ref)
        self._hashes.append(key)
        return owned

    def extend_new(self, keys: list[int]) -> bool:
        """Append a row per key if every key is new and they are distinct; else ``False``
        with nothing changed."""
        if len(keys) < 2:
            return not keys or (self.get(keys[0]) < 0 and self.append(keys[0]))
        self._reserve(len(keys))
        slots = self._chain_ends(keys)
        if slots is None:
            return False
        first = len(self._hashes)
        if not self._place(keys, range(first, first + len(keys)), slots):
            return False
        self._hashes.frombytes(_packer(len(keys)).pack(*keys))  # cheaper than extend
        return True

    def reserve(self, rows: int) -> None:
        """Make room for ``rows`` rows in all now (a caller that knows about how many are
        coming saves the table's regrowths)."""
        self._reserve(rows - len(self))

    # ----------------------------------------------------------------- comparing
    def __eq__(self, other: object) -> bool:
        """Same rows with the same hashes (the lookups are a function of them)."""
        if not isinstance(other, IdMap):
            return NotImplemented
        return self._hashes == other._hashes

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"IdMap({len(self)} rows, {len(self._table)} slots)"

    def memory_bytes(self) -> int:
        """Bytes held by the two arrays (and the rare shadowed rows)."""
        shadowed = self._shadowed.__sizeof__() + 32 * len(self._shadowed)
        return self._hashes.__sizeof__() + self._table.__sizeof__() + shadowed

    # ----------------------------------------------------------------- the table
    def _chain_ends(self, keys: Sequence[int]) -> list[int] | None:
        """The first empty slot of each key's probe chain (where it would go), or ``None``
        when a key is present."""
        table, hashes, mask = self._table, self._hashes, self._mask
        slots = [key & mask for key in keys]
        refs = itemgetter(*slots)(table)
        if refs.count(_EMPTY) == len(refs):
            return slots
        for k in compress(range(len(refs)), refs):  # the home slot is taken
            key, slot, ref = keys[k], slots[k], refs[k]
            while ref:
                if hashes[ref] == key:
                    return None
                slot = (slot + 1) & mask
                ref = table[slot]
            slots[k] = slot
        return slots

    def _place(self, keys: Sequence[int], refs: range | list[int], slots: list[int]) -> bool:
        """Put absent keys at the empty slots their chains end at; where several end at one
        slot, one takes it and the others probe on. ``False`` (nothing changed) when two keys
        are equal (equal keys' chains end at the same slot)."""
        table = self._table
        _scatter(table, slots, refs)
        taken = itemgetter(*slots)(table) if len(slots) > 1 else (table[slots[0]],)
        if taken != tuple(refs):  # a slot several keys ended at: the last one took it
            losers = list(compress(range(len(slots)), map(ne, taken, refs)))
            at = refs.index if isinstance(refs, range) else {r: k for k, r in enumerate(refs)}.get
            met: dict[int, set[int]] = {}  # slot -> the keys that ended there
            for k in losers:
                slot = slots[k]
                keys_there = met.get(slot)
                if keys_there is None:
                    winner = at(table[slot])  # the key that took the slot
                    assert winner is not None
                    keys_there = met[slot] = {keys[winner]}
                if keys[k] in keys_there:
                    _scatter(table, slots, repeat(_EMPTY))
                    return False
                keys_there.add(keys[k])
            for k in losers:
                self._put(keys[k], refs[k])
        self._mapped += len(slots)
        return True

    def _put(self, key: int, ref: int) -> None:
        """Put ``key`` at the first empty slot of its chain (the caller counts it)."""
        table, mask = self._table, self._mask
        slot = key & mask
        while table[slot]:
            slot = (slot + 1) & mask
        table[slot] = ref

    def _reserve(self, more: int) -> None:
        """Keep at least :data:`_SPARSE` slots per key with ``more`` keys added: double the
        table and put every owning row in again."""
        size = len(self._table)
        if (self._mapped + more) * _SPARSE <= size:
            return
        while (self._mapped + more) * _SPARSE > size:
            size *= 2
        self._table = array("I")  # let go of the old table first
        self._table = array("I", [_EMPTY]) * size
        self._mask = size - 1
        self._mapped = 0
        hashes, shadowed = self._hashes, self._shadowed
        for first in range(1, len(hashes), _REBUILD_SLICE):
            keys = hashes[first : first + _REBUILD_SLICE].tolist()
            refs: range | list[int] = range(first, first + len(keys))
            if shadowed:
                owners = [ref not in shadowed for ref in refs]
                keys = list(compress(keys, owners))
                refs = list(compress(refs, owners))
            if len(keys) > 1:
                slots = self._chain_ends(keys)
                assert slots is not None  # owners' hashes are distinct
                self._place(keys, refs, slots)
            elif keys:
                self._put(keys[0], refs[0])
                self._mapped += 1


def _packer(count: int) -> struct.Struct:
    """A packer of ``count`` hashes as the hashes' array holds them."""
    packer = _PACKERS.get(count)
    if packer is None:
        if len(_PACKERS) > 64:
            _PACKERS.clear()
        packer = _PACKERS[count] = struct.Struct(f"{count}{_HASH_CODE}")
    return packer


_PACKERS: dict[int, struct.Struct] = {}


def _scatter(values: array[int], where: Sequence[int], new: Sequence[int] | repeat[int]) -> None:
    """``values[i] = v`` for each pair, in C (``operator.setitem`` is a cheaper call than the
    array's own ``__setitem__``; ``deque(..., maxlen=0)`` drains the map)."""
    deque(map(setitem, repeat(values), where, new), maxlen=0)
