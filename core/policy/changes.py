"""Verdicts that changed between two runs: "step 7 apply_discount: blocked → allowed".

``diff --policy`` checks both runs against one policy and pairs their steps the way the diff
aligned them (a branch and its parent, or any two runs); a pair whose verdicts differ is a
:class:`VerdictChange`. A step only one run has counts as ``absent`` on the other side, and a
step no rule looked at as ``unchecked``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from trace_tui.core.policy.model import Report, StepVerdict

ABSENT = "absent"
UNCHECKED = "unchecked"


@dataclass(frozen=True, slots=True)
class VerdictChange:
    """One aligned pair of steps whose verdicts differ (indices 0-based, ``None`` if absent)."""

    left: int | None
    right: int | None
    name: str
    before: str
    after: str
    reason_before: str
    reason_after: str

    @property
    def step(self) -> int:
        """The 0-based step this change is shown at (the right run's, else the left's)."""
        return self.right if self.right is not None else (self.left or 0)

    def line(self) -> str:
        """``step 7 apply_discount: blocked → allowed`` (step numbers 1-based)."""
        where = f"step {self.step + 1}"
        if self.left is not None and self.right is not None and self.left != self.right:
            where = f"step {self.left + 1} → {self.right + 1}"
        return f"{where} {self.name}: {self.before} → {self.after}"

    def to_json(self) -> dict[str, Any]:
        """A JSON object (step numbers 1-based, ``null`` where a run lacks the step)."""
        return {
            "left_step": None if self.left is None else self.left + 1,
            "right_step": None if self.right is None else self.right + 1,
            "tool": self.name,
            "before": self.before,
            "after": self.after,
            "reason_before": self.reason_before,
            "reason_after": self.reason_after,
        }


def verdict_changes(
    left: Report, right: Report, pairs: Iterable[tuple[int | None, int | None]]
) -> list[VerdictChange]:
    """Changed verdicts over aligned step ``pairs`` (``(left index, right index)``)."""
    left_verdicts, right_verdicts = left.by_index(), right.by_index()
    changes: list[VerdictChange] = []
    for a, b in pairs:
        va = left_verdicts.get(a) if a is not None else None
        vb = right_verdicts.get(b) if b is not None else None
        if va is None and vb is None:
            continue
        before, after = _word(a, va), _word(b, vb)
        if before == after:
            continue
        name = (vb or va).name  # type: ignore[union-attr]
        changes.append(
            VerdictChange(
                a,
                b,
                name,
                before,
                after,
                va.reason if va is not None else "",
                vb.reason if vb is not None else "",
            )  # fmt: skip
        )
    return changes


def _word(index: int | None, verdict: StepVerdict | None) -> str:
    if index is None:
        return ABSENT
    return verdict.verdict if verdict is not None else UNCHECKED
