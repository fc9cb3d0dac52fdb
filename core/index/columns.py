"""Columnar storage of the light facts of every step, built one record at a time.

A million-step trace must fit in a few hundred megabytes at most, so nothing here is an object
per step: each fact is a column (:mod:`array`, or :class:`bytearray` for one-byte codes that
must be searchable), names are interned, and span ids live only as their 64-bit hashes in one
flat map (:class:`~trace_tui.core.index.id_map.IdMap`, ``hash -> index``). Roughly 75 bytes of
columns plus about 20 bytes of id map per step; see ``bench/RESULTS.md`` for measured numbers.

Record semantics (numbering, merging a ``span_end``, status rules, orphans) come from
:class:`~trace_tui.core.model.builder.RunBuilder` itself: :meth:`StepColumns.add_record` runs each
record through the builder on a one-step scratch run and keeps the light facts of the result,
so there is one place that defines what a native record means. The vectorised fast path in
:mod:`trace_tui.core.index.fast` must produce exactly the same columns (a test checks it).

The tree follows :meth:`Run.add_step <trace_tui.core.model.run.Run.add_step>`: a step whose parent
has not appeared yet (exporters such as OpenTelemetry's write children first) sits at the root
in ``waiting`` (keyed by the parent id's hash) until its parent arrives and adopts it, unless
that would close a cycle. ``pending`` keeps the children of every step inside a waiting subtree,
so adoption can fix the depths of the whole subtree; it stays empty for a trace written in
start order, and holds an entry per step only for subtrees whose parent never appears.

Span id hash collisions: a second id whose hash is already taken is verified by re-reading the
first id's record (``verify_id``); a real collision is kept in a small string-keyed dict. A
*lookup* of an id that is absent but collides with a present one would resolve to the wrong
step; with 64-bit hashes that is about one in 10^13 per lookup at a million steps.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Callable
from itertools import chain, compress, filterfalse, repeat
from operator import add, and_, eq, ne
from typing import Any

from trace_tui.core.index.id_map import IdMap
from trace_tui.core.index.record_facts import (
    END_STATUSES,
    StartFacts,
    error_text,
    start_facts,
    time_of,
)
from trace_tui.core.model import tree
from trace_tui.core.model.builder import RunBuilder
from trace_tui.core.model.run import (
    A_USAGE_CACHE_READ,
    A_USAGE_CACHE_WRITE,
    A_USAGE_INPUT,
    A_USAGE_OUTPUT,
    STATUSES,
    STEP_KINDS,
    Problem,
    Run,
    Step,
    StepRow,
    Usage,
)
from trace_tui.core.model.step import token_value

KIND_CODES: dict[str, int] = {kind: code for code, kind in enumerate(STEP_KINDS)}
STATUS_CODES: dict[str, int] = {status: code for code, status in enumerate(STATUSES)}
#: Token columns, in order, with the attribute each one reads.
TOKEN_ATTRS: tuple[str, ...] = (
    A_USAGE_INPUT,
    A_USAGE_OUTPUT,
    A_USAGE_CACHE_READ,
    A_USAGE_CACHE_WRITE,
)
#: "Not recorded" in a token column; counts that do not fit 32 bits go to ``big_tokens``.
NO_TOKENS = -(2**31)
TOKEN_MAX = 2**31 - 1
NAN = math.nan
FLAG_ERROR = 1
#: Where a step's record is (the ``origin`` column): the record itself at ``offset`` (a native
#: trace's line, or a foreign trace's spilled record), or a foreign source line at ``offset``
#: that is mapped again when the step is shown (a light decoder indexed it).
ORIGIN_RECORD = 0
ORIGIN_SOURCE_LINE = 1
#: A stateful format's step indexed from facts: ``offset``/``length``/``line`` are its first
#: source line and ``end_offset`` the source line of its last ``span_end``; a view rebuilds it
#: by replaying the format's mapper (:mod:`trace_tui.core.index.replay_steps`).
ORIGIN_REPLAY = 2
#: Keep at most this many problems (a summary line counts the rest).
MAX_PROBLEMS = 10_000
#: Intern at most this many distinct names; later new names are kept per step in a dict.
MAX_NAMES = 100_000

#: ``verify_id(index, span_id)``: does the step at ``index`` really have this span id?
IdVerifier = Callable[[int, str], bool]


class StepColumns:
    """The light facts of every step of one file generation, in columns.

    Appends happen on one thread (the indexer); readers on other threads only look at indices
    below :attr:`count`, which is published after every column of a step has been written.
    """

    def __init__(self, verify_id: IdVerifier | None = None) -> None:
        self.count = 0
        self.offset = array("q")  # where the step's first record is (file or spill)
        self.length = array("I")  # that record's length in bytes, without the newline
        self.line = array("I")  # its 1-based line number in the trace file
        self.end_offset = array("q")  # the last span_end record for the step, or -1
        self.parent = array("i")  # parent index in the tree (children adopt late), or -1
        self.depth = array("i", [-1])  # depth[i + 1]; depth[0] is the "no parent" sentinel
        self.name = array("I")
        self.kind = bytearray()
        self.status = bytearray()
        self.flags = bytearray()
        self.origin = bytearray()  # ORIGIN_RECORD, ORIGIN_SOURCE_LINE or ORIGIN_REPLAY
        self.start = array("d")
        self.end = array("d")
        self.tokens = tuple(array("i") for _ in TOKEN_ATTRS)
        self.big_tokens: dict[tuple[int, int], int] = {}
        self.extra_ends: dict[int, list[int]] = {}
        #: ``hash(span_id) -> index``; row ``k`` of the map is step ``k``.
        self.ids = IdMap()
        #: Children written before their parent: ``hash(parent_id) -> [child index, ...]``.
        self.waiting: dict[int, list[int]] = {}
        #: Children of every step inside a waiting subtree (their depths move on adoption);
        #: ``()`` (shared) until a step has one, as most never do.
        self.pending: dict[int, list[int] | tuple[()]] = {}
        self.collided_ids: dict[str, int] = {}
        self.names: list[str] = []
        self.name_ids: dict[str, int] = {}
        self.loose_names: dict[int, str] = {}
        self.problems: list[Problem] = []
        self.problems_dropped = 0
        self._verify_id = verify_id

    # ----------------------------------------------------------------- lookups
    def index_of(self, span_id: str) -> int:
        """The index of the step with ``span_id``, or -1."""
        if self.collided_ids:
            found = self.collided_ids.get(span_id)
            if found is not None:
                return found
        return self.ids.get(hash(span_id), -1)

    def name_of(self, index: int) -> str:
        """The step's name (interned, or kept per step once the intern table is full)."""
        code = self.name[index]
        return self.names[code] if code < len(self.names) else self.loose_names[index]

    def tokens_of(self, index: int, column: int) -> int | None:
        """One token count of a step, or ``None`` when it was not recorded."""
        value = self.tokens[column][index]
        if value == NO_TOKENS:
            return self.big_tokens.get((index, column))
        return value

    def row(self, index: int) -> StepRow:
        """The :class:`StepRow` of one step (``index`` must be below :attr:`count`)."""
        if not 0 <= index < self.count:
            raise IndexError(f"step index {index} out of range (0..{self.count - 1})")
        start, end = self.start[index], self.end[index]
        return StepRow(
            index=index,
            kind=STEP_KINDS[self.kind[index]],
            name=self.name_of(index),
            depth=self.depth[index + 1],
            parent_index=self.parent[index],
            status=STATUSES[self.status[index]],
            start_time=None if start != start else start,
            end_time=None if end != end else end,
            input_tokens=self.tokens_of(index, 0),
            output_tokens=self.tokens_of(index, 1),
        )

    def usage_totals(self) -> Usage:
        """Token totals over llm steps, like :meth:`Run.token_totals` (C-speed column scans)."""
        count = self.count
        llm_mask = list(map(eq, self.kind[:count], repeat(KIND_CODES["llm"])))
        sums: list[int | None] = []
        for column in range(len(TOKEN_ATTRS)):
            values = self.tokens[column][:count]
            recorded = list(
                compress(values, map(and_, llm_mask, map(ne, values, repeat(NO_TOKENS))))
            )
            big = [v for (i, c), v in self.big_tokens.items() if c == column and llm_mask[i]]
            sums.append(sum(recorded) + sum(big) if recorded or big else None)
        return Usage(*sums)

    # ----------------------------------------------------------------- building
    def add_problem(self, problem: Problem) -> None:
        """Keep a problem (at most :data:`MAX_PROBLEMS`; the rest are counted)."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
            return
        self.problems_dropped += 1
        summary = Problem(None, None, f"{self.problems_dropped} more problems not listed")
        if len(self.problems) == MAX_PROBLEMS:
            self.problems.append(summary)
        else:
            self.problems[-1] = summary

    def intern(self, name: str) -> int:
        """The code of ``name`` in the intern table (``len(names)`` once the table is full)."""
        code = self.name_ids.get(name)
        if code is None:
            if len(self.names) >= MAX_NAMES:
                return MAX_NAMES
            code = self.name_ids[name] = len(self.names)
            self.names.append(name)
        return code

    def append_step(
        self, step: Step, offset: int, length: int, line: int, changed: set[int] | None = None,
        origin: int = ORIGIN_RECORD,
    ) -> int:
        """Append one new step's light facts (from a builder-made :class:`Step`)."""
        index = self.count
        self.offset.append(offset)
        self.length.append(length)
        self.line.append(line)
        self.end_offset.append(-1)
        code = self.intern(step.name)
        if code == MAX_NAMES:
            self.loose_names[index] = step.name
        self.name.append(code)
        self.kind.append(KIND_CODES[step.kind])
        self.status.append(STATUS_CODES[step.status])
        self.flags.append(FLAG_ERROR if step.error else 0)
        self.origin.append(origin)
        self.start.append(NAN if step.start_time is None else step.start_time)
        self.end.append(NAN if step.end_time is None else step.end_time)
        for column, attr in enumerate(TOKEN_ATTRS):
            self.tokens[column].append(NO_TOKENS)
            self._set_tokens(index, column, token_value(step.attributes.get(attr)))
        self._remember_id(step.span_id, index)
        self.link(index, step.parent_id, hash(step.span_id), changed)
        self.count = index + 1
        return index

    # ----------------------------------------------------------------- the tree
    def link(
        self, index: int, parent_id: str | None, own_hash: int, changed: set[int] | None
    ) -> None:
        """Append step ``index``'s parent and depth, then adopt the children waiting for it.

        The builder's rules (:meth:`Run.add_step`): a parent not seen yet (or the step itself)
        leaves the step at the root, waiting; when the parent arrives it adopts its waiting
        children unless that would close a cycle, and their subtrees' depths are fixed.
        """
        parent = self.index_of(parent_id) if parent_id else -1
        if parent >= index:  # already mapped by a bulk batch, but not "arrived" yet
            parent = -1
        self.parent.append(parent)
        self.depth.append(self.depth[parent + 1] + 1)
        if parent_id and parent < 0:
            self.waiting.setdefault(hash(parent_id), []).append(index)
            self.pending[index] = ()
        elif parent >= 0 and parent in self.pending:
            self._pend(parent, [index])
            self.pending[index] = ()
        orphans = self.waiting.pop(own_hash, None) if self.waiting else None
        if orphans:
            self._adopt(index, orphans, changed)

    def _adopt(self, index: int, orphans: list[int], changed: set[int] | None) -> None:
        above = tree.ancestors(index, self._tree_parent)
        adopted = list(filterfalse(above.__contains__, orphans))  # never close a cycle
        for orphan in filter(above.__contains__, orphans):
            # a root for good now: its subtree waits no more
            self._fix_subtree([orphan], keep=False, changed=None)
        still_waiting = index in self.pending
        if not adopted:
            return
        deque(map(self.parent.__setitem__, adopted, repeat(index)), maxlen=0)
        if still_waiting:
            self._pend(index, adopted)
        self._fix_subtree(adopted, keep=still_waiting, changed=changed)

    def _pend(self, index: int, children: list[int]) -> None:
        kids = self.pending[index]
        if isinstance(kids, list):
            kids.extend(children)
        else:
            self.pending[index] = list(children)

    def _tree_parent(self, index: int) -> int | None:
        up = self.parent[index]
        return up if up >= 0 else None

    def _fix_subtree(self, tops: list[int], *, keep: bool, changed: set[int] | None) -> None:
        """Recompute depths below ``tops``; drop their ``pending`` entries unless ``keep``.

        A level of the subtrees at a time, in C-level passes (a root written after a million
        children adopts them all at once)."""
        depth, parent, pending = self.depth, self.parent, self.pending
        take = pending.get if keep else pending.pop
        level = tops
        while level:
            above = map(depth.__getitem__, map(add, map(parent.__getitem__, level), repeat(1)))
            deque(map(depth.__setitem__, map(add, level, repeat(1)), map(add, above, repeat(1))),
                  maxlen=0)  # fmt: skip
            if changed is not None:
                changed.update(level)
            kids = list(filter(None, map(take, level, repeat(()))))
            level = list(chain.from_iterable(kids)) if kids else []
        if not pending:  # a whole waiting file adopted: let go of the emptied maps' tables
            self.pending = {}
            if not self.waiting:
                self.waiting = {}

    def _set_tokens(self, index: int, column: int, value: int | None) -> None:
        self.big_tokens.pop((index, column), None)
        if value is not None and not -TOKEN_MAX <= value <= TOKEN_MAX:
            self.big_tokens[(index, column)] = value
            value = None
        self.tokens[column][index] = NO_TOKENS if value is None else value

    def _remember_id(self, span_id: str, index: int) -> None:
        if not self.ids.append(hash(span_id)):  # an earlier step owns the hash
            self.collided_ids[span_id] = index

    def is_duplicate(self, span_id: str) -> bool:
        """True when a step with ``span_id`` exists (hash hits are verified on disk)."""
        if span_id in self.collided_ids:
            return True
        found = self.ids.get(hash(span_id))
        if found < 0:
            return False
        return self._verify_id is None or self._verify_id(found, span_id)

    # ----------------------------------------------------------------- records
    def add_record(
        self,
        record: Any,
        *,
        offset: int,
        line: int | None,
        ref_offset: int,
        ref_length: int,
        changed: set[int] | None = None,
        origin: int = ORIGIN_RECORD,
    ) -> int | None:
        """Apply one native record with the builder's rules; returns the index it touched.

        ``offset``/``line`` locate the record in the trace (for problems); ``ref_offset`` and
        ``ref_length`` are where it is stored (the trace itself, or the spill of a foreign
        format). A new step returns its new index, a ``span_end`` the index it updated, and a
        record that breaks the rules ``None`` (it becomes a problem). Older steps whose
        parent or depth changed (adopted children) are added to ``changed``.

        A well-formed ``span``/``span_start``/``span_end`` (what importers emit) is applied
        directly, with the builder's rules written out for the light facts
        (:func:`start_facts`, :meth:`_direct_end`); anything else goes through the builder
        on a scratch run (:meth:`add_record_built`). A test checks both give the same columns.
        """
        if type(record) is dict:
            kind = record.get("type")
            if kind == "span_end":
                index = self._direct_end(record, offset, line, ref_offset)
                if index != _DECLINED:
                    return index
            elif kind == "span" or kind == "span_start":
                facts = start_facts(record, kind == "span")
                if facts is not None:
                    span_id = facts[0]
                    if self.is_duplicate(span_id):
                        self.add_problem(
                            Problem(
                                line,
                                offset,
                                f"span_id {span_id!r} appears twice",
                                record_preview(record),
                            )
                        )
                        return None
                    return self._append_facts(facts, ref_offset, ref_length, line or 0, changed,
                                              origin)  # fmt: skip
        return self.add_record_built(
            record,
            offset=offset,
            line=line,
            ref_offset=ref_offset,
            ref_length=ref_length,
            changed=changed,
            origin=origin,
        )

    def add_record_built(
        self,
        record: Any,
        *,
        offset: int,
        line: int | None,
        ref_offset: int,
        ref_length: int,
        changed: set[int] | None = None,
        origin: int = ORIGIN_RECORD,
    ) -> int | None:
        """:meth:`add_record` through the builder itself, on a one-step scratch run (the
        reference the direct path is tested against; also what odd records take)."""
        kind = record.get("type") if isinstance(record, dict) else None
        if kind == "span_end":
            return self._apply_end(record, offset, line, ref_offset)
        scratch = Run()
        builder = RunBuilder(scratch)
        span_id = record.get("span_id") if kind in ("span", "span_start") else None
        if isinstance(span_id, str) and span_id and self.is_duplicate(span_id):
            self.add_problem(
                Problem(line, offset, f"span_id {span_id!r} appears twice", record_preview(record))
            )
            return None
        step = builder.add(record, offset=offset, line=line)
        for problem in scratch.problems:
            self.add_problem(problem)
        if step is None:
            return None
        return self.append_step(step, ref_offset, ref_length, line or 0, changed, origin)

    def _append_facts(
        self,
        facts: StartFacts,
        offset: int,
        length: int,
        line: int,
        changed: set[int] | None,
        origin: int = ORIGIN_RECORD,
    ) -> int:
        """:meth:`append_step` from the facts :func:`start_facts` read (no :class:`Step`)."""
        span_id, parent_id, kind, name, status, error, start, end, attributes = facts
        index = self.count
        self.offset.append(offset)
        self.length.append(length)
        self.line.append(line)
        self.end_offset.append(-1)
        code = self.name_ids.get(name)
        if code is None:
            code = self.intern(name)
            if code == MAX_NAMES:
                self.loose_names[index] = name
        self.name.append(code)
        self.kind.append(KIND_CODES[kind])
        self.status.append(STATUS_CODES[status])
        self.flags.append(FLAG_ERROR if error else 0)
        self.origin.append(origin)
        self.start.append(NAN if start is None else start)
        self.end.append(NAN if end is None else end)
        tokens = self.tokens
        if attributes:
            for column, attr in enumerate(TOKEN_ATTRS):
                count = token_value(attributes.get(attr))
                if count is not None and -TOKEN_MAX <= count <= TOKEN_MAX:
                    tokens[column].append(count)
                else:
                    tokens[column].append(NO_TOKENS)
                    if count is not None:
                        self.big_tokens[(index, column)] = count
        else:
            for values in tokens:
                values.append(NO_TOKENS)
        self._remember_id(span_id, index)
        self.link(index, parent_id, hash(span_id), changed)
        self.count = index + 1
        return index

    def _direct_end(
        self, record: dict[str, Any], offset: int, line: int | None, ref_offset: int
    ) -> int | None:
        """A ``span_end`` with the builder's rules (:meth:`RunBuilder._end
        <trace_tui.core.model.builder.RunBuilder._end>`) applied to the columns; returns
        :data:`_DECLINED` for a record the builder must see (unknown id, bad attributes)."""
        span_id = record.get("span_id")
        if type(span_id) is not str:
            return _DECLINED
        index = self.index_of(span_id)
        attributes = record.get("attributes") or {}
        if index < 0 or type(attributes) is not dict:
            return _DECLINED
        if self.status[index] != _RUNNING:  # a late end: applied, but never silently
            self.add_problem(
                Problem(
                    line,
                    offset,
                    f"span_end for span {span_id!r}, which had already ended; applied over it",
                    record_preview(record),
                )
            )
        end = time_of(record.get("end_time"))
        error = error_text(record.get("error"))
        if not error and self.flags[index] & FLAG_ERROR:
            error = "error"
        status = record.get("status")
        if status not in END_STATUSES:
            status = "error" if error else "ok"
        previous = self.end_offset[index]
        if previous >= 0:
            self.extra_ends.setdefault(index, []).append(previous)
        self.end_offset[index] = ref_offset
        if end:
            self.end[index] = end
        self.status[index] = STATUS_CODES[status]
        self.flags[index] = FLAG_ERROR if error else 0
        if attributes:
            for column, attr in enumerate(TOKEN_ATTRS):
                if attr in attributes:
                    self._set_tokens(index, column, token_value(attributes[attr]))
        return index

    def _apply_end(
        self, record: dict[str, Any], offset: int, line: int | None, ref_offset: int
    ) -> int | None:
        span_id = record.get("span_id")
        index = self.index_of(span_id) if isinstance(span_id, str) else -1
        if index < 0 or not isinstance(span_id, str):
            self.add_problem(
                Problem(
                    line,
                    offset,
                    f"span_end for unknown span_id {span_id!r}",
                    record_preview(record),
                )
            )
            return None
        scratch = Run()
        scratch.add_step(self.light_step(index, span_id))
        step = RunBuilder(scratch).add(record, offset=offset, line=line)  # the builder's rules
        for problem in scratch.problems:
            self.add_problem(problem)
        if step is None:
            return None
        self.set_end(index, ref_offset, step)
        return index

    def light_step(self, index: int, span_id: str = "") -> Step:
        """A payload-less :class:`Step` carrying just the indexed facts (for merging ends)."""
        attributes = {
            attr: self.tokens_of(index, column)
            for column, attr in enumerate(TOKEN_ATTRS)
            if self.tokens_of(index, column) is not None
        }
        end = self.end[index]
        return Step(
            index=index,
            span_id=span_id,
            parent_id=None,
            kind=STEP_KINDS[self.kind[index]],
            name=self.name_of(index),
            end_time=None if end != end else end,
            status=STATUSES[self.status[index]],
            error="error" if self.flags[index] & FLAG_ERROR else None,
            attributes=attributes,
        )

    def set_end(self, index: int, offset: int, step: Step) -> None:
        """Record that a ``span_end`` at ``offset`` updated step ``index`` to ``step``."""
        previous = self.end_offset[index]
        if previous >= 0:
            self.extra_ends.setdefault(index, []).append(previous)
        self.end_offset[index] = offset
        self.end[index] = NAN if step.end_time is None else step.end_time
        self.status[index] = STATUS_CODES[step.status]
        self.flags[index] = FLAG_ERROR if step.error else 0
        for column, attr in enumerate(TOKEN_ATTRS):
            self._set_tokens(index, column, token_value(step.attributes.get(attr)))

    def end_offsets(self, index: int) -> list[int]:
        """Offsets of every ``span_end`` record of a step, in file order."""
        last = self.end_offset[index]
        return [*self.extra_ends.get(index, ()), *([last] if last >= 0 else [])]

    def memory_bytes(self) -> int:
        """Bytes held by the columns, the id and tree maps and their ints (an estimate)."""
        import sys

        total = sum(sys.getsizeof(col) for col in self._columns())
        total += self.ids.memory_bytes()
        total += sum(sys.getsizeof(n) for n in self.names) + sys.getsizeof(self.name_ids)
        for tree_map in (self.waiting, self.pending):
            if tree_map:
                total += sys.getsizeof(tree_map) + 32 * len(tree_map)
                total += sum(sys.getsizeof(kids) + 32 * len(kids) for kids in tree_map.values())
        return total

    def _columns(self) -> list[Any]:
        return [
            self.offset,
            self.length,
            self.line,
            self.end_offset,
            self.parent,
            self.depth,
            self.name,
            self.kind,
            self.status,
            self.flags,
            self.origin,
            self.start,
            self.end,
            *self.tokens,
        ]


#: :meth:`StepColumns._direct_end`: "the builder must see this record".
_DECLINED = -2
_RUNNING = STATUS_CODES["running"]


def record_preview(record: Any, limit: int = 120) -> str:
    """The builder's preview of a record (repr, cut to ``limit`` characters)."""
    text = repr(record)
    return text if len(text) <= limit else text[: limit - 1] + "…"
