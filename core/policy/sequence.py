"""Sequence rules over the run's tool calls, checked one call at a time (so a live tail can be
checked as it grows): Assay's ``require``, ``eventually``, ``max_calls``, ``before``, ``after``,
``never_after``, ``sequence`` and ``blocklist``, and trace-tui's ``no_progress`` (a limit on
consecutive identical calls).

Positions (``within``, ``max``) count tool calls, as Assay does; findings name trace steps.
Rules look at call names (plus the arguments of two calls in a row to the same tool, for
``no_progress``). Speed: what each distinct tool name means to the rules is worked out once
(:class:`_NameRules`), so a call costs only the rules that act on that name; ``require``,
``eventually`` and the ``first`` of ``before`` read one shared table of names seen; deadlines
(``eventually``, ``after``) wait in heaps and cost nothing until they pass.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trace_tui.core.policy.model import Finding, SequenceRule
from trace_tui.core.text.canonical import canonical_json

ArgsOf = Callable[[], Any]


@dataclass(slots=True)
class _NameRules:
    """The rules that act on a call to one tool name, by what they do with it."""

    max_calls: list[int] = field(default_factory=list)
    before_then: list[int] = field(default_factory=list)
    never_trigger: list[int] = field(default_factory=list)
    never_forbidden: list[int] = field(default_factory=list)
    after_trigger: list[int] = field(default_factory=list)
    after_then: list[int] = field(default_factory=list)
    sequence: list[tuple[int, frozenset[int]]] = field(default_factory=list)
    blocklist: list[int] = field(default_factory=list)
    loops: list[int] = field(default_factory=list)


class SequenceChecker:
    """Feeds calls in order through every sequence rule; see the module doc."""

    def __init__(self, rules: list[SequenceRule], aliases: dict[str, tuple[str, ...]]) -> None:
        self.rules = [r for r in rules if r.type != "require_system_prompt"]
        self._aliases = aliases
        self._targets = [
            {f: self._resolve(getattr(r, f)) for f in ("tool", "first", "then", "trigger",
                                                       "forbidden")}
            for r in self.rules
        ]  # fmt: skip
        self._by_name: dict[str, _NameRules] = {}
        self.seen: dict[str, int] = {}  # tool name -> step of its first call
        self._counts: dict[int, int] = {}
        self._first_counted: dict[int, int] = {}
        self._triggered: dict[int, int] = {}  # never_after: step of the first trigger
        self._pending: dict[int, tuple[int, int, int]] = {}  # after: (step, deadline, pos)
        self._after_heap: list[tuple[int, int]] = []  # (deadline, rule), one entry per rule
        self._in_heap: set[int] = set()
        self._progress: dict[int, int] = {}
        self._progress_start: dict[int, int] = {}
        self._strict_active: dict[int, None] = {}
        self._eventually = [
            (r.within or 0, i) for i, r in enumerate(self.rules) if r.type == "eventually"
        ]
        heapq.heapify(self._eventually)
        self._eventually_failed: set[int] = set()
        self._has_loops = any(r.type == "no_progress" for r in self.rules)
        self._prev: tuple[str, ArgsOf] | None = None
        self._prev_key: Any = None
        self._streak = 0
        self._streak_start = -1
        self.first_step: int | None = None
        self.last_step: int | None = None
        self.calls = 0

    @property
    def needs_arguments(self) -> bool:
        """True when some rule compares arguments (``no_progress``)."""
        return self._has_loops

    def _resolve(self, name: str | None) -> frozenset[str]:
        if name is None:
            return frozenset()
        return frozenset(self._aliases.get(name, (name,)))

    def _was_seen(self, names: frozenset[str]) -> bool:
        seen = self.seen
        return any(n in seen for n in names)

    def _rules_of(self, name: str) -> _NameRules:
        cached = self._by_name.get(name)
        if cached is not None:
            return cached
        out = _NameRules()
        for i, rule in enumerate(self.rules):
            t = self._targets[i]
            kind = rule.type
            if kind == "max_calls" and name in t["tool"]:
                out.max_calls.append(i)
            elif kind == "before" and name in t["then"] and name not in t["first"]:
                out.before_then.append(i)
            elif kind == "never_after":
                if name in t["forbidden"]:
                    out.never_forbidden.append(i)
                if name in t["trigger"]:
                    out.never_trigger.append(i)
            elif kind == "after":
                if name in t["then"]:
                    out.after_then.append(i)
                if name in t["trigger"]:
                    out.after_trigger.append(i)
            elif kind == "sequence":
                places = frozenset(
                    j for j, tool in enumerate(rule.tools) if name in self._resolve(tool)
                )
                if places:
                    out.sequence.append((i, places))
            elif kind == "blocklist" and rule.pattern is not None and rule.pattern in name:
                out.blocklist.append(i)
            elif kind == "no_progress" and (rule.tool is None or name in t["tool"]):
                out.loops.append(i)
        self._by_name[name] = out
        return out

    # ----------------------------------------------------------------- feeding
    def on_call(self, step: int, name: str, args_of: ArgsOf) -> list[Finding]:
        """Check the next call (at trace step ``step``); returns its findings."""
        pos = self.calls
        self.calls += 1
        if self.first_step is None:
            self.first_step = step
        self.last_step = step
        found: list[Finding] = []
        if self._eventually and self._eventually[0][0] <= pos:
            self._eventually_due(pos, step, name, found)
        if self._after_heap and self._after_heap[0][0] < pos:
            self._after_due(pos, step, name, found)
        if self._strict_active:
            self._strict(step, name, found)
        mine = self._rules_of(name)
        rules = self.rules
        for i in mine.max_calls:
            count = self._counts[i] = self._counts.get(i, 0) + 1
            first = self._first_counted.setdefault(i, step)
            limit = rules[i].max
            if limit is not None and count > limit:
                reason = f"'{rules[i].tool}' exceeded max calls ({count} > {limit})"
                found.append(self._finding(i, reason, first, step))
        if mine.before_then:
            waiting = []
            for i in mine.before_then:
                if self._was_seen(self._targets[i]["first"]):
                    continue  # satisfied for good: this name no longer needs the rule
                waiting.append(i)
                reason = f"'{rules[i].then}' requires '{rules[i].first}' first"
                found.append(self._finding(i, reason, step, step))
            mine.before_then = waiting
        for i in mine.never_forbidden:
            trigger = self._triggered.get(i)
            if trigger is not None:
                rule = rules[i]
                reason = (
                    f"'{rule.forbidden}' forbidden after '{rule.trigger}' "
                    f"(triggered at step {trigger + 1})"
                )
                found.append(self._finding(i, reason, trigger, step))
        if mine.never_trigger:
            for i in mine.never_trigger:
                self._triggered.setdefault(i, step)
            mine.never_trigger = []  # only the first trigger counts
        for i in mine.after_then:
            pending = self._pending.get(i)
            if pending is not None and pos <= pending[1]:
                del self._pending[i]
        for i in mine.after_trigger:
            deadline = pos + (rules[i].within or 0)
            if i not in self._in_heap:
                heapq.heappush(self._after_heap, (deadline, i))
                self._in_heap.add(i)
            self._pending[i] = (step, deadline, pos)  # a later trigger restarts the clock
        if mine.sequence:
            for i, places in mine.sequence:
                self._sequence(i, places, step, name, found)
            mine.sequence = [
                (i, p) for i, p in mine.sequence if self._progress.get(i, 0) < len(rules[i].tools)
            ]
        for i in mine.blocklist:
            reason = f"'{name}' matches blocklist pattern '{rules[i].pattern}'"
            found.append(self._finding(i, reason, step, step))
        if self._has_loops:
            self._loop_check(step, name, args_of, mine.loops, found)
        self.seen.setdefault(name, step)
        return found

    def _eventually_due(self, pos: int, step: int, name: str, found: list[Finding]) -> None:
        """``eventually`` rules whose first ``within`` calls are over without the tool."""
        while self._eventually and self._eventually[0][0] <= pos:
            _, i = heapq.heappop(self._eventually)
            targets = self._targets[i]["tool"]
            if self._was_seen(targets) or name in targets:
                continue
            rule = self.rules[i]
            self._eventually_failed.add(i)
            reason = f"'{rule.tool}' not seen within first {rule.within} calls"
            first = self.first_step if self.first_step is not None else step
            found.append(self._finding(i, reason, first, step))

    def _after_due(self, pos: int, step: int, name: str, found: list[Finding]) -> None:
        """``after`` deadlines that passed before this call."""
        heap = self._after_heap
        while heap and heap[0][0] < pos:
            _, i = heapq.heappop(heap)
            pending = self._pending.get(i)
            if pending is None:
                self._in_heap.discard(i)
                continue  # satisfied
            if pending[1] >= pos:
                heapq.heappush(heap, (pending[1], i))  # restarted by a later trigger
                continue
            self._in_heap.discard(i)
            del self._pending[i]
            rule = self.rules[i]
            late = name in self._targets[i]["then"]
            what = "called too late" if late else f"required within {rule.within} calls"
            reason = (
                f"'{rule.then}' {what} after '{rule.trigger}' (triggered at step {pending[0] + 1})"
            )
            found.append(self._finding(i, reason, pending[0], step))

    def _strict(self, step: int, name: str, found: list[Finding]) -> None:
        for i in list(self._strict_active):
            rule = self.rules[i]
            expected = rule.tools[self._progress.get(i, 0)]
            if name not in self._resolve(expected):
                reason = f"strict sequence: expected '{expected}' but got '{name}'"
                found.append(self._finding(i, reason, self._progress_start.get(i, step), step))

    def _sequence(
        self, i: int, places: frozenset[int], step: int, name: str, found: list[Finding]
    ) -> None:
        rule = self.rules[i]
        progress = self._progress.get(i, 0)
        if progress >= len(rule.tools):
            return
        if progress in places:
            if progress == 0:
                self._progress_start[i] = step
            progress = self._progress[i] = progress + 1
            if rule.strict:
                if progress < len(rule.tools):
                    self._strict_active[i] = None
                else:
                    self._strict_active.pop(i, None)
            return
        if not rule.strict and any(p > progress for p in places):
            reason = f"sequence order violated: '{name}' before '{rule.tools[progress]}'"
            found.append(self._finding(i, reason, self._progress_start.get(i, step), step))

    def _loop_check(
        self, step: int, name: str, args_of: ArgsOf, loops: list[int], found: list[Finding]
    ) -> None:
        prev = self._prev
        key: Any = None
        same = False
        if prev is not None and prev[0] == name:
            if self._prev_key is None:
                self._prev_key = _canonical(prev[1]())
            key = _canonical(args_of())
            same = key == self._prev_key
        if same:
            self._streak += 1
        else:
            self._streak, self._streak_start = 1, step
        self._prev, self._prev_key = (name, args_of), key
        for i in loops:
            limit = self.rules[i].max
            if limit is not None and self._streak > limit:
                reason = (
                    f"no progress: '{name}' called {self._streak} times in a row with the "
                    f"same arguments (max {limit})"
                )
                found.append(self._finding(i, reason, self._streak_start, step))

    # ----------------------------------------------------------------- the end
    def finish(self) -> list[tuple[int, Finding]]:
        """Rules that fail only once the run is over, as ``(step, finding)`` pairs."""
        if self.last_step is None or self.first_step is None:
            return []
        first, last = self.first_step, self.last_step
        out: list[tuple[int, Finding]] = []
        for i, rule in enumerate(self.rules):
            reason: str | None = None
            start = first
            seen = self._was_seen(self._targets[i]["tool"])
            if rule.type == "require" and not seen:
                reason = f"required tool '{rule.tool}' never called"
            elif rule.type == "eventually" and not seen and i not in self._eventually_failed:
                reason = f"'{rule.tool}' never called (required within {rule.within} calls)"
            elif rule.type == "after" and i in self._pending:
                start = self._pending[i][0]
                reason = (
                    f"'{rule.then}' never called after '{rule.trigger}' "
                    f"(triggered at step {start + 1})"
                )
            elif rule.type == "sequence" and 0 < self._progress.get(i, 0) < len(rule.tools):
                start = self._progress_start.get(i, first)
                missing = rule.tools[self._progress[i]]
                reason = f"sequence incomplete: '{missing}' never followed"
            if reason is not None:
                out.append((last, self._finding(i, reason, start, last)))
        return out

    def _finding(self, i: int, reason: str, first: int, last: int) -> Finding:
        rule = self.rules[i]
        return Finding(rule.rule_id, rule.type, rule.action, reason, first, last)


def _canonical(value: Any) -> str:
    """Canonical JSON: two argument objects are identical when these are equal."""
    return canonical_json(value)
