"""Sequence rules over the run's tool calls, checked one call at a time (so a live tail can be
checked as it grows): Assay's ``require``, ``eventually``, ``max_calls``, ``before``, ``after``,
``never_after``, ``sequence`` and ``blocklist``, and trace-tui's ``no_progress`` (a limit on
consecutive identical calls).

Positions (``within``, ``max``) count tool calls, as Assay does; findings name trace steps.
Rules only look at call names (plus the arguments of two calls in a row to the same tool, for
``no_progress``), so a million-step run is checked from the index's light fields. Which rules a
tool name concerns is worked out once per distinct name, so a call costs the rules that name it,
not every rule in the policy.
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
class _Roles:
    """What one tool name is to one rule (``positions``: its places in a ``sequence``)."""

    rule: int
    roles: frozenset[str]
    positions: tuple[int, ...] = ()


@dataclass(slots=True)
class _State:
    seen: dict[int, int] = field(default_factory=dict)  # rule -> step of first match
    counts: dict[int, int] = field(default_factory=dict)
    first_count_step: dict[int, int] = field(default_factory=dict)
    triggered: dict[int, int] = field(default_factory=dict)  # never_after: trigger step
    pending: dict[int, tuple[int, int, int]] = field(default_factory=dict)  # after
    progress: dict[int, int] = field(default_factory=dict)
    progress_start: dict[int, int] = field(default_factory=dict)
    strict_active: set[int] = field(default_factory=set)
    eventually_failed: set[int] = field(default_factory=set)


class SequenceChecker:
    """Feeds calls in order through every sequence rule; see the module doc."""

    def __init__(self, rules: list[SequenceRule], aliases: dict[str, tuple[str, ...]]) -> None:
        self.rules = [r for r in rules if r.type != "require_system_prompt"]
        self._aliases = aliases
        self._by_name: dict[str, list[_Roles]] = {}
        self._state = _State()
        self._eventually: list[tuple[int, int]] = [
            (r.within or 0, i) for i, r in enumerate(self.rules) if r.type == "eventually"
        ]
        heapq.heapify(self._eventually)
        self._after_heap: list[tuple[int, int, int]] = []  # (deadline, rule, trigger_pos)
        self._loops = [i for i, r in enumerate(self.rules) if r.type == "no_progress"]
        self._prev: tuple[str, ArgsOf, int] | None = None  # name, args, step
        self._prev_key: Any = None
        self._streak = 0
        self._streak_start = -1
        self.first_step: int | None = None
        self.last_step: int | None = None
        self.calls = 0

    @property
    def needs_arguments(self) -> bool:
        """True when some rule compares arguments (``no_progress``)."""
        return bool(self._loops)

    # ----------------------------------------------------------------- matching
    def _targets(self, name: str | None) -> tuple[str, ...]:
        if name is None:
            return ()
        return self._aliases.get(name, (name,))

    def _roles_of(self, name: str) -> list[_Roles]:
        cached = self._by_name.get(name)
        if cached is not None:
            return cached
        out: list[_Roles] = []
        for i, rule in enumerate(self.rules):
            roles: set[str] = set()
            for role in ("tool", "first", "then", "trigger", "forbidden"):
                if name in self._targets(getattr(rule, role)):
                    roles.add(role)
            positions: tuple[int, ...] = ()
            if rule.type == "sequence":
                positions = tuple(j for j, t in enumerate(rule.tools) if name in self._targets(t))
            if rule.type == "blocklist" and rule.pattern is not None and rule.pattern in name:
                roles.add("blocked")
            if roles or positions:
                out.append(_Roles(i, frozenset(roles), positions))
        self._by_name[name] = out
        return out

    # ----------------------------------------------------------------- feeding
    def on_call(self, step: int, name: str, args_of: ArgsOf) -> list[Finding]:
        """Check one call (the ``pos``-th, 0-based, at trace step ``step``)."""
        pos = self.calls
        self.calls += 1
        if self.first_step is None:
            self.first_step = step
        self.last_step = step
        found: list[Finding] = []
        state = self._state
        self._deadlines(pos, step, name, found)
        for active in sorted(state.strict_active):
            rule = self.rules[active]
            expected = rule.tools[state.progress.get(active, 0)]
            if name not in self._targets(expected):
                found.append(
                    self._finding(
                        active,
                        f"strict sequence: expected '{expected}' but got '{name}'",
                        state.progress_start.get(active, step),
                        step,
                    )
                )
        for entry in self._roles_of(name):
            self._apply(entry, pos, step, name, found)
        if self._loops:
            self._loop_check(step, name, args_of, found)
        return found

    def _apply(self, entry: _Roles, pos: int, step: int, name: str, found: list[Finding]) -> None:
        i, roles, rule, state = entry.rule, entry.roles, self.rules[entry.rule], self._state
        kind = rule.type
        if "tool" in roles:
            state.seen.setdefault(i, step)
        if kind == "max_calls" and "tool" in roles:
            count = state.counts[i] = state.counts.get(i, 0) + 1
            state.first_count_step.setdefault(i, step)
            if rule.max is not None and count > rule.max:
                found.append(
                    self._finding(
                        i,
                        f"'{rule.tool}' exceeded max calls ({count} > {rule.max})",
                        state.first_count_step[i],
                        step,
                    )
                )
        elif kind == "before":
            if "then" in roles and "first" not in roles and i not in state.seen:
                found.append(
                    self._finding(i, f"'{rule.then}' requires '{rule.first}' first", step, step)
                )
            if "first" in roles:
                state.seen.setdefault(i, step)
        elif kind == "never_after":
            if "forbidden" in roles and i in state.triggered:
                trigger = state.triggered[i]
                found.append(
                    self._finding(
                        i,
                        f"'{rule.forbidden}' forbidden after '{rule.trigger}' "
                        f"(triggered at step {trigger + 1})",
                        trigger,
                        step,
                    )
                )
            if "trigger" in roles:
                state.triggered.setdefault(i, step)
        elif kind == "after":
            self._after(i, rule, roles, pos, step)
        elif kind == "sequence":
            self._sequence(i, rule, entry.positions, step, name, found)
        elif kind == "blocklist" and "blocked" in roles:
            found.append(
                self._finding(i, f"'{name}' matches blocklist pattern '{rule.pattern}'", step, step)
            )

    def _after(
        self, i: int, rule: SequenceRule, roles: frozenset[str], pos: int, step: int
    ) -> None:
        state = self._state
        if "then" in roles and i in state.pending:
            _, deadline, _ = state.pending[i]
            if pos <= deadline:
                del state.pending[i]
        if "trigger" in roles:
            deadline = pos + (rule.within or 0)
            state.pending[i] = (step, deadline, pos)
            heapq.heappush(self._after_heap, (deadline, i, pos))

    def _deadlines(self, pos: int, step: int, name: str, found: list[Finding]) -> None:
        """``eventually`` and ``after`` deadlines that pass at this call."""
        state = self._state
        while self._eventually and self._eventually[0][0] <= pos:
            _, i = heapq.heappop(self._eventually)
            rule = self.rules[i]
            if i in state.seen or name in self._targets(rule.tool):
                continue
            state.eventually_failed.add(i)
            found.append(
                self._finding(
                    i,
                    f"'{rule.tool}' not seen within first {rule.within} calls",
                    self.first_step if self.first_step is not None else step,
                    step,
                )
            )
        while self._after_heap and self._after_heap[0][0] < pos:
            deadline, i, trigger_pos = heapq.heappop(self._after_heap)
            pending = state.pending.get(i)
            if pending is None or pending[2] != trigger_pos:
                continue  # satisfied, or restarted by a later trigger
            del state.pending[i]
            rule = self.rules[i]
            late = name in self._targets(rule.then)
            what = "called too late" if late else f"required within {rule.within} calls"
            found.append(
                self._finding(
                    i,
                    f"'{rule.then}' {what} after '{rule.trigger}' (triggered at step "
                    f"{pending[0] + 1})",
                    pending[0],
                    step,
                )
            )

    def _sequence(
        self,
        i: int,
        rule: SequenceRule,
        positions: tuple[int, ...],
        step: int,
        name: str,
        found: list[Finding],
    ) -> None:
        state = self._state
        progress = state.progress.get(i, 0)
        if progress >= len(rule.tools) or not positions:
            return
        if progress in positions:
            if progress == 0:
                state.progress_start[i] = step
            progress = state.progress[i] = progress + 1
            if rule.strict:
                if progress < len(rule.tools):
                    state.strict_active.add(i)
                else:
                    state.strict_active.discard(i)
            return
        if not rule.strict and any(p > progress for p in positions):
            found.append(
                self._finding(
                    i,
                    f"sequence order violated: '{name}' before '{rule.tools[progress]}'",
                    state.progress_start.get(i, step),
                    step,
                )
            )

    def _loop_check(self, step: int, name: str, args_of: ArgsOf, found: list[Finding]) -> None:
        prev = self._prev
        key: Any = None
        if prev is not None and prev[0] == name:
            if self._prev_key is None:
                self._prev_key = _canonical(prev[1]())
            key = _canonical(args_of())
            same = key == self._prev_key
        else:
            same = False
        if same:
            self._streak += 1
        else:
            self._streak, self._streak_start = 1, step
        self._prev, self._prev_key = (name, args_of, step), key
        for i in self._loops:
            rule = self.rules[i]
            if rule.tool is not None and name not in self._targets(rule.tool):
                continue
            if rule.max is not None and self._streak > rule.max:
                found.append(
                    self._finding(
                        i,
                        f"no progress: '{name}' called {self._streak} times in a row with the "
                        f"same arguments (max {rule.max})",
                        self._streak_start,
                        step,
                    )
                )

    # ----------------------------------------------------------------- the end
    def finish(self) -> list[tuple[int, Finding]]:
        """Rules that fail only once the run is over, as ``(step, finding)`` pairs."""
        if self.last_step is None or self.first_step is None:
            return []
        first, last, state = self.first_step, self.last_step, self._state
        out: list[tuple[int, Finding]] = []
        for i, rule in enumerate(self.rules):
            reason: str | None = None
            start = first
            if rule.type == "require" and i not in state.seen:
                reason = f"required tool '{rule.tool}' never called"
            elif (
                rule.type == "eventually"
                and i not in state.seen
                and i not in state.eventually_failed
            ):
                reason = f"'{rule.tool}' never called (required within {rule.within} calls)"
            elif rule.type == "after" and i in state.pending:
                start = state.pending[i][0]
                reason = (
                    f"'{rule.then}' never called after '{rule.trigger}' "
                    f"(triggered at step {start + 1})"
                )
            elif rule.type == "sequence" and 0 < state.progress.get(i, 0) < len(rule.tools):
                start = state.progress_start.get(i, first)
                missing = rule.tools[state.progress[i]]
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
