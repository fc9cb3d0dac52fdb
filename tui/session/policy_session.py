"""The policy verdicts of the run on screen, kept up to date as steps arrive.

:class:`PolicySession` wraps a :class:`~trace_tui.core.policy.evaluate.PolicyEvaluator` for the
debugger: :meth:`~PolicySession.advance` runs on a worker thread (it may parse payloads that
rules need), and the UI thread reads the marks, the blocked steps and one step's verdict. A
lock keeps the two sides apart; what the UI reads is swapped in whole, so a read never sees a
half-updated table. A reset (the file was truncated or replaced) starts the evaluation over.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right, insort

from trace_tui.core.model.run import RunView
from trace_tui.core.policy.evaluate import PolicyEvaluator
from trace_tui.core.policy.model import BLOCKED, Policy, StepVerdict


class PolicySession:
    """Verdicts by step for one run (see the module doc)."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._lock = threading.Lock()
        self._evaluator = PolicyEvaluator(policy)
        self._marks: dict[int, str] = {}
        self._blocked: list[int] = []
        self._generation = 0

    # ----------------------------------------------------------------- worker side
    def advance(self, run: RunView, *, finished: bool) -> list[int]:
        """Check new steps of ``run`` (and the end-of-run rules once ``finished``)."""
        with self._lock:
            evaluator = self._evaluator
            changed = evaluator.finish(run) if finished else evaluator.advance(run)
            if not changed:
                return []
            marks = dict(self._marks)
            blocked = list(self._blocked)
            for index in set(changed):
                verdict = evaluator.verdicts[index]
                word = verdict.verdict
                old = marks.get(index)
                if word == "allowed":
                    marks.pop(index, None)
                else:
                    marks[index] = word
                if word == BLOCKED and old != BLOCKED:
                    insort(blocked, index)
            self._marks, self._blocked = marks, blocked
            self._generation += 1
            return changed

    def reset(self) -> None:
        """The run starts over: forget every verdict."""
        with self._lock:
            self._evaluator = PolicyEvaluator(self.policy)
            self._marks, self._blocked = {}, []
            self._generation += 1

    # ----------------------------------------------------------------- UI side
    @property
    def generation(self) -> int:
        """Changes whenever the verdicts change."""
        return self._generation

    @property
    def marks(self) -> dict[int, str]:
        """``{step index: "blocked" | "warned"}`` (a snapshot; do not modify)."""
        return self._marks

    @property
    def blocked_count(self) -> int:
        """How many steps are blocked so far."""
        return len(self._blocked)

    @property
    def finished(self) -> bool:
        """True once the end-of-run rules have been checked."""
        return self._evaluator.finished

    def verdict(self, index: int) -> StepVerdict | None:
        """The verdict on step ``index``, if it was checked."""
        return self._evaluator.verdicts.get(index)

    def next_blocked(self, position: int) -> int | None:
        """The first blocked step after ``position``."""
        blocked = self._blocked
        at = bisect_right(blocked, position)
        return blocked[at] if at < len(blocked) else None

    def prev_blocked(self, position: int) -> int | None:
        """The last blocked step before ``position``."""
        blocked = self._blocked
        at = bisect_left(blocked, position)
        return blocked[at - 1] if at > 0 else None
