"""Compact per-step facts for navigating a run of any size: errors, tool calls, llm calls, peaks.

A viewer of a million-step run cannot ask "where is the next error?" by walking every step on
each key press. :class:`RunFacts` reads each step's light row once (in the reader's worker
thread, as steps arrive) and keeps a few bytes per step in flat arrays: the parent index, the
kind and status flags, and sorted index lists of errors, tool calls and model calls with their
input tokens. Every question the screen asks is then a bisect.

It reads only through :class:`~trace_tui.core.model.run.RunView`, so it serves the in-memory run
and the indexed reader alike. Methods are thread-safe: one thread scans, another queries.
This module knows nothing about the UI.
"""

from __future__ import annotations

import threading
from array import array
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from trace_tui.core.model.run import RunView, StepRow

KIND_CODES: dict[str, int] = {"agent": 0, "llm": 1, "tool": 2, "retrieval": 3, "other": 4}
KIND_NAMES: tuple[str, ...] = ("agent", "llm", "tool", "retrieval", "other")
_KIND_MASK = 0x07
_ERROR = 0x08
_RUNNING = 0x10
_HAS_CHILDREN = 0x20


@dataclass(frozen=True, slots=True)
class Peak:
    """The largest recorded prompt (input tokens) among model calls, and where it was."""

    index: int
    input_tokens: int


class RunFacts:
    """Per-step flags and sorted index lists, filled incrementally by :meth:`scan`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.generation = 0
        #: Changes whenever anything here changes (rows scanned, rows refreshed, reset).
        self.version = 0
        self._clear()

    def _clear(self) -> None:
        self._parents = array("i")
        self._flags = bytearray()
        self._errors = array("i")
        self._tools = array("i")
        self._calls = array("i")  # tool and retrieval steps: what t/T jump between
        self._llm = array("i")
        self._llm_input = array("q")  # -1 where usage was not recorded
        self._llm_best = array("i")  # position in _llm of the prefix maximum, -1 if none

    # ----------------------------------------------------------------- building
    def reset(self) -> None:
        """Forget everything (the file was truncated or replaced)."""
        with self._lock:
            self._clear()
            self.generation += 1
            self.version += 1

    @property
    def count(self) -> int:
        """How many steps have been scanned."""
        return len(self._flags)

    def scan(self, run: RunView, upto: int | None = None, *, chunk: int = 50_000) -> int:
        """Read rows ``count .. upto`` (at most ``chunk`` of them); returns how many were read."""
        start = self.count
        end = min(len(run) if upto is None else upto, start + chunk)
        if end <= start:
            return 0
        columns = getattr(run, "fact_columns", None)
        if columns is not None:
            return self._scan_columns(columns(start, end), chunk_end=end)
        rows = [run.row(i) for i in range(start, end)]
        parents = array("i", (r.parent_index for r in rows))
        flags = bytearray(_flags_of(r) for r in rows)
        errors = array("i", (r.index for r in rows if r.status == "error"))
        tools = array("i", (r.index for r in rows if r.kind == "tool"))
        calls = array("i", (r.index for r in rows if r.kind in ("tool", "retrieval")))
        llm_rows = [r for r in rows if r.kind == "llm"]
        with self._lock:
            for p in parents:
                if 0 <= p < len(self._flags):
                    self._flags[p] |= _HAS_CHILDREN
                elif start <= p < end:
                    flags[p - start] |= _HAS_CHILDREN
            self._parents.extend(parents)
            self._flags.extend(flags)
            self._errors.extend(errors)
            self._tools.extend(tools)
            self._calls.extend(calls)
            for row in llm_rows:
                self._append_llm(row.index, _tokens(row))
            self.version += 1
        return end - start

    def _scan_columns(self, cols: Any, chunk_end: int) -> int:
        """:meth:`scan` straight from an index's columns (``IndexedRun.fact_columns``): the
        same facts in C-level passes, so they are ready as soon as the index is."""
        start, kinds, status = cols.start, cols.kinds, cols.status
        count = len(kinds)
        if start + count != chunk_end or start != self.count:
            raise ValueError("fact columns do not line up with the scanned steps")
        bits = status.translate(_STATUS_BITS)
        flags = bytearray((int.from_bytes(kinds, "little") | int.from_bytes(bits, "little"))
                          .to_bytes(count, "little"))
        errors = _positions(status, _ERROR_STATUS, start)
        tools = _positions(kinds, _TOOL_KIND, start)
        calls = array("i", sorted(tools + _positions(kinds, _RETRIEVAL_KIND, start)))
        llm = _positions(kinds, _LLM_KIND, start)
        inputs = cols.input_tokens
        parents = cols.parents
        with self._lock:
            known = len(self._flags)
            for p in set(parents):
                if 0 <= p < known:
                    self._flags[p] |= _HAS_CHILDREN
                elif start <= p < start + count:
                    flags[p - start] |= _HAS_CHILDREN
            self._parents.extend(parents)
            self._flags.extend(flags)
            self._errors.extend(errors)
            self._tools.extend(tools)
            self._calls.extend(calls)
            for index in llm:
                tokens = inputs[index - start]
                self._append_llm(index, tokens if tokens >= 0 else -1)
            self.version += 1
        return count

    def refresh(self, run: RunView, indices: Iterable[int]) -> None:
        """Re-read rows that changed in place (a span's end arrived with status and usage)."""
        for index in sorted(set(indices)):
            if not 0 <= index < self.count:
                continue
            row = run.row(index)
            with self._lock:
                flags = _flags_of(row) | (self._flags[index] & _HAS_CHILDREN)
                self._flags[index] = flags
                _set_member(self._errors, index, row.status == "error")
                if row.kind == "llm":
                    pos = bisect_left(self._llm, index)
                    if pos < len(self._llm) and self._llm[pos] == index:
                        self._llm_input[pos] = _tokens(row)
                        self._recompute_best(pos)
                self.version += 1

    def _append_llm(self, index: int, tokens: int) -> None:
        self._llm.append(index)
        self._llm_input.append(tokens)
        prev = self._llm_best[-1] if self._llm_best else -1
        if tokens >= 0 and (prev < 0 or tokens > self._llm_input[prev]):
            prev = len(self._llm) - 1
        self._llm_best.append(prev)

    def _recompute_best(self, start: int) -> None:
        best = self._llm_best[start - 1] if start > 0 else -1
        for pos in range(start, len(self._llm)):
            tokens = self._llm_input[pos]
            if tokens >= 0 and (best < 0 or tokens > self._llm_input[best]):
                best = pos
            self._llm_best[pos] = best

    # ----------------------------------------------------------------- per step
    def parent(self, index: int) -> int:
        """The parent's index (``-1`` for a root or an unscanned step)."""
        return self._parents[index] if 0 <= index < len(self._parents) else -1

    def parents(self) -> array[int]:
        """A snapshot of the parent index of every scanned step."""
        with self._lock:
            return array("i", self._parents)

    def kind(self, index: int) -> str | None:
        """The step's kind, or ``None`` when it has not been scanned yet."""
        if not 0 <= index < len(self._flags):
            return None
        return KIND_NAMES[self._flags[index] & _KIND_MASK]

    def has_children(self, index: int) -> bool:
        """True when some scanned step names this one as its parent."""
        return 0 <= index < len(self._flags) and bool(self._flags[index] & _HAS_CHILDREN)

    def is_error(self, index: int) -> bool:
        """True when the step failed."""
        return 0 <= index < len(self._flags) and bool(self._flags[index] & _ERROR)

    # ----------------------------------------------------------------- navigation
    @property
    def error_count(self) -> int:
        """How many failed steps were seen."""
        return len(self._errors)

    def first_error(self) -> int | None:
        """The first failed step's index."""
        with self._lock:
            return self._errors[0] if self._errors else None

    def next_error(self, after: int, limit: int | None = None) -> int | None:
        """The first failed step after ``after`` (below ``limit`` when given)."""
        return self._next(self._errors, after, limit)

    def prev_error(self, before: int) -> int | None:
        """The last failed step before ``before``."""
        return self._prev(self._errors, before)

    def next_tool(self, after: int, limit: int | None = None) -> int | None:
        """The first tool or retrieval call after ``after`` (the model calls both as tools)."""
        return self._next(self._calls, after, limit)

    def prev_tool(self, before: int) -> int | None:
        """The last tool or retrieval call before ``before``."""
        return self._prev(self._calls, before)

    def llm_at_or_before(self, index: int) -> int | None:
        """The latest model call at or before ``index``."""
        return self._prev(self._llm, index + 1)

    def llm_before(self, index: int) -> int | None:
        """The latest model call strictly before ``index``."""
        return self._prev(self._llm, index)

    def tools_between(self, after: int, upto: int, limit: int = 200) -> list[int]:
        """Tool calls in ``(after, upto]``, the last ``limit`` of them."""
        with self._lock:
            lo = bisect_right(self._tools, after)
            hi = bisect_right(self._tools, upto)
            return list(self._tools[max(lo, hi - limit) : hi])

    def errors_in(self, start: int, end: int) -> int:
        """How many failed steps lie in ``[start, end)``."""
        with self._lock:
            return bisect_left(self._errors, end) - bisect_left(self._errors, start)

    def _next(self, items: array[int], after: int, limit: int | None) -> int | None:
        with self._lock:
            pos = bisect_right(items, after)
            if pos < len(items) and (limit is None or items[pos] < limit):
                return items[pos]
            return None

    def _prev(self, items: array[int], before: int) -> int | None:
        with self._lock:
            pos = bisect_left(items, before)
            return items[pos - 1] if pos > 0 else None

    # ----------------------------------------------------------------- tokens
    def input_tokens_of(self, index: int) -> int | None:
        """Recorded input tokens of the model call at ``index`` (``None`` if not recorded)."""
        with self._lock:
            pos = bisect_left(self._llm, index)
            if pos < len(self._llm) and self._llm[pos] == index and self._llm_input[pos] >= 0:
                return self._llm_input[pos]
            return None

    def peak_until(self, index: int) -> Peak | None:
        """The largest recorded prompt among model calls at or before ``index``."""
        with self._lock:
            pos = bisect_right(self._llm, index) - 1
            if pos < 0 or self._llm_best[pos] < 0:
                return None
            best = self._llm_best[pos]
            return Peak(self._llm[best], self._llm_input[best])

    def run_peak(self) -> Peak | None:
        """The largest recorded prompt in the whole (scanned) run."""
        return self.peak_until(self.count)

    def token_profile(self, count: int, buckets: int) -> list[int]:
        """Max recorded input tokens per bucket of ``count`` steps in ``buckets`` (-1: none)."""
        out = [-1] * max(0, buckets)
        if count <= 0 or buckets <= 0:
            return out
        with self._lock:
            lo = 0
            for bucket in range(buckets):
                hi = bisect_left(self._llm, -(-(bucket + 1) * count // buckets))
                if hi > lo:
                    out[bucket] = max(self._llm_input[lo:hi])
                lo = hi
        return out


_STATUS_BITS = bytes(
    _ERROR if code == 1 else _RUNNING if code == 3 else 0 for code in range(256)
)  # status codes in STATUSES order: ok, error, unset, running
_ERROR_STATUS, _TOOL_KIND, _LLM_KIND = 1, KIND_CODES["tool"], KIND_CODES["llm"]
_RETRIEVAL_KIND = KIND_CODES["retrieval"]


def _positions(column: bytes, code: int, base: int) -> array[int]:
    """``base + i`` for every ``i`` where ``column[i] == code`` (a ``find`` loop, in C)."""
    out = array("i")
    find, append = column.find, out.append
    at = find(code)
    while at >= 0:
        append(base + at)
        at = find(code, at + 1)
    return out


def _flags_of(row: StepRow) -> int:
    flags = KIND_CODES.get(row.kind, 4)
    if row.status == "error":
        flags |= _ERROR
    if row.status == "running":
        flags |= _RUNNING
    return flags


def _tokens(row: StepRow) -> int:
    return row.input_tokens if row.input_tokens is not None and row.input_tokens >= 0 else -1


def _set_member(items: array[int], index: int, present: bool) -> None:
    pos = bisect_left(items, index)
    here = pos < len(items) and items[pos] == index
    if present and not here:
        insort(items, index)
    elif here and not present:
        del items[pos]
