"""Where a failing run parted from the nearest successful run of the same task.

Both runs are aligned exactly as ``diff`` aligns steps (:func:`trace_tui.core.diff.align.
align_signatures`, on the stable keys a :class:`~.summary.RunSummary` keeps); the divergence is
the failing run's first step that is not paired with an identical step of the successful run.
The nearest successful run is the one sharing the most identical steps (strong keys) with the
failing one, among the successful runs of the same task.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from trace_tui.core.diff.align import Signatures, align_signatures
from trace_tui.core.triage.summary import RunSummary

#: Successful siblings considered per failing run (those closest in length).
CANDIDATES = 24


def signatures_of(summary: RunSummary) -> Signatures:
    """The alignment signatures of a summarised run (hashes of its stable keys)."""
    sigs = Signatures()
    for weak, mid, strong in summary.keys:
        sigs.weak.append(hash(weak))
        sigs.mid.append(hash(mid))
        sigs.strong.append(hash(strong))
    return sigs


def nearest_success(failing: RunSummary, successes: Iterable[RunSummary]) -> RunSummary | None:
    """The successful run sharing the most identical steps with ``failing`` (ties: closest size)."""
    pool = sorted(successes, key=lambda s: abs(s.steps - failing.steps))[:CANDIDATES]
    if not pool:
        return None
    mine = Counter(key[2] for key in failing.keys)

    def shared(other: RunSummary) -> int:
        return sum((mine & Counter(key[2] for key in other.keys)).values())

    return max(pool, key=lambda other: (shared(other), -abs(other.steps - failing.steps)))


def divergence_step(failing: RunSummary, success: RunSummary) -> int | None:
    """The failing run's first step (0-based) not paired with an identical successful step."""
    left, right = signatures_of(failing), signatures_of(success)
    alignment = align_signatures(left, right)
    for row in range(len(alignment.left)):
        i, j = alignment.left[row], alignment.right[row]
        if i >= 0 and j >= 0 and left.strong[i] == right.strong[j]:
            continue
        if i >= 0:
            return i
        following = [x for x in alignment.left[row:] if x >= 0]
        return following[0] if following else (len(left) - 1 if len(left) else None)
    return None
