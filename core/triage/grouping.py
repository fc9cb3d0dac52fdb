"""Failure groups: failing runs that share a signature, counted, dated and sorted.

The default signature (``--by signature``) is the outcome, the failing tool, the error type,
the normalised error message, the shape of the tool-call sequence up to the failing step, the
models and the agent (or prompt) version when the trace records one. ``--by`` groups by one
of those parts alone instead (``outcome``, ``tool``, ``error``, ``model``, ``version``,
``task``). Each group names a representative run (the most recent) with its failing step, and
every run's divergence from the nearest successful run of its task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trace_tui.core.triage.divergence import SiblingIndex
from trace_tui.core.triage.outcomes import DESCRIPTIONS
from trace_tui.core.triage.signature import GROUP_BY, normalise_message
from trace_tui.core.triage.summary import RunSummary


@dataclass(slots=True)
class GroupedRun:
    """A failing run in its group, with the step where it parted from a successful sibling."""

    summary: RunSummary
    divergence: int | None = None
    sibling: str | None = None


@dataclass(slots=True)
class FailureGroup:
    """Runs that failed the same way (see module doc)."""

    key: tuple[str, ...]
    outcome: str
    tool: str
    error_type: str
    message: str
    shape: str
    runs: list[GroupedRun] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many runs are in the group."""
        return len(self.runs)

    @property
    def models(self) -> list[str]:
        """Every model the group's runs called."""
        return sorted({m for r in self.runs for m in r.summary.models})

    @property
    def versions(self) -> list[str]:
        """Every agent version the group's runs recorded."""
        return sorted({r.summary.version for r in self.runs if r.summary.version})

    @property
    def first_seen(self) -> float | None:
        """When the earliest run of the group started (when known)."""
        times = [r.summary.started_at for r in self.runs if r.summary.started_at is not None]
        return min(times) if times else None

    @property
    def last_seen(self) -> float | None:
        """When the latest run of the group started (when known)."""
        times = [r.summary.started_at for r in self.runs if r.summary.started_at is not None]
        return max(times) if times else None

    @property
    def representative(self) -> GroupedRun:
        """The group's most recent run (the first when none has a start time)."""
        return max(self.runs, key=lambda r: (r.summary.started_at or 0.0, r.summary.path))

    @property
    def title(self) -> str:
        """One line saying how the group's runs failed."""
        what = DESCRIPTIONS.get(self.outcome, self.outcome)
        parts = [what]
        if self.tool:
            parts.append(self.tool)
        if self.message:
            parts.append(self.message)
        return " · ".join(parts)

    def to_json(self, total: int) -> dict[str, Any]:
        """A JSON object for ``triage --json`` (steps 1-based)."""
        rep = self.representative
        return {
            "outcome": self.outcome, "description": DESCRIPTIONS.get(self.outcome, self.outcome),
            "tool": self.tool, "error_type": self.error_type, "message": self.message,
            "shape": self.shape, "count": self.count,
            "share": round(self.count / total, 4) if total else 0.0,
            "first_seen": self.first_seen, "last_seen": self.last_seen,
            "models": self.models, "versions": self.versions,
            "representative": _run_json(rep),
            "runs": [_run_json(r) for r in self.runs],
        }


def _run_json(run: GroupedRun) -> dict[str, Any]:
    s = run.summary
    return {"path": s.path, "format": s.format, "failing_step": _one(s.step),
            "divergence_step": _one(run.divergence), "nearest_success": run.sibling,
            "error": s.error}


def _one(index: int | None) -> int | None:
    return None if index is None else index + 1


def signature_of(summary: RunSummary, by: str = "signature") -> tuple[str, ...]:
    """The group key of a failing run for ``--by`` ``by`` (see module doc)."""
    message = normalise_message(summary.error)
    models = ",".join(summary.models)
    parts = {
        "outcome": (summary.outcome,),
        "tool": (summary.outcome, summary.tool),
        "error": (summary.outcome, summary.error_type, message),
        "model": (models,),
        "version": (summary.version,),
        "task": (summary.task,),
    }
    if by in parts:
        return parts[by]
    return (summary.outcome, summary.tool, summary.error_type, message, summary.shape,
            models, summary.version)


def group_failures(summaries: list[RunSummary], by: str = "signature",
                   divergence: bool = True) -> list[FailureGroup]:
    """The failure groups of ``summaries``, largest first (ties: most recent last seen first)."""
    if by not in GROUP_BY:
        raise ValueError(f"--by must be one of {', '.join(GROUP_BY)}")
    siblings = SiblingIndex(s for s in summaries if not s.failed) if divergence else None
    groups: dict[tuple[str, ...], FailureGroup] = {}
    for summary in summaries:
        if not summary.failed:
            continue
        key = signature_of(summary, by)
        group = groups.get(key)
        if group is None:
            group = groups[key] = FailureGroup(
                key, summary.outcome, summary.tool, summary.error_type,
                normalise_message(summary.error), summary.shape)
        grouped = GroupedRun(summary)
        if siblings is not None:
            sibling = siblings.nearest(summary)
            if sibling is not None:
                grouped.divergence = siblings.divergence(summary, sibling)
                grouped.sibling = sibling.path
        group.runs.append(grouped)
    return sorted(groups.values(),
                  key=lambda g: (-g.count, -(g.last_seen or 0.0), g.key))
