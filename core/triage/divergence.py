"""Where a failing run parted from the nearest successful run of the same task.

Both runs are aligned exactly as ``diff`` aligns steps (:func:`trace_tui.core.diff.align.
align_signatures`, on the stable keys a :class:`~.summary.RunSummary` keeps); the divergence is
the failing run's first step that is not paired with an identical step of the successful run.
The nearest successful run is the one sharing the most identical steps (strong keys) with the
failing one, among the successful runs of the same task.
"""

from __future__ import annotations

from bisect import bisect_left
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


class SiblingIndex:
    """The successful runs of each task, prepared once for many nearest-sibling look-ups.

    Runs of a task that did exactly the same steps (same strong keys) are one *variant*; only
    one run per variant is compared, the variants closest in length first, and their key
    counts are computed once.
    """

    def __init__(self, successes: Iterable[RunSummary]) -> None:
        variants: dict[str, dict[tuple[str, ...], RunSummary]] = {}
        for summary in successes:
            key = tuple(k[2] for k in summary.keys)
            variants.setdefault(summary.task, {}).setdefault(key, summary)
        self._by_task = {task: sorted(found.values(), key=lambda s: s.steps)
                         for task, found in variants.items()}
        self._counts: dict[int, Counter[str]] = {}
        self._divergence: dict[tuple[tuple[str, ...], str], int | None] = {}

    def nearest(self, failing: RunSummary) -> RunSummary | None:
        """The successful run of the same task sharing the most identical steps with
        ``failing`` (ties: closest in length)."""
        pool = self._by_task.get(failing.task)
        if not pool:
            return None
        if len(pool) > CANDIDATES:
            lengths = [s.steps for s in pool]
            at = bisect_left(lengths, failing.steps)
            lo = max(0, min(at - CANDIDATES // 2, len(pool) - CANDIDATES))
            pool = pool[lo: lo + CANDIDATES]
        mine = Counter(key[2] for key in failing.keys)

        def shared(other: RunSummary) -> int:
            counts = self._counts.get(id(other))
            if counts is None:
                counts = self._counts[id(other)] = Counter(key[2] for key in other.keys)
            return sum((mine & counts).values())

        return max(pool, key=lambda other: (shared(other), -abs(other.steps - failing.steps)))

    def divergence(self, failing: RunSummary, success: RunSummary) -> int | None:
        """:func:`divergence_step`, remembered for runs that did the same steps."""
        key = (tuple(k[2] for k in failing.keys), success.path)
        if key not in self._divergence:
            self._divergence[key] = divergence_step(failing, success)
        return self._divergence[key]


def nearest_success(failing: RunSummary, successes: Iterable[RunSummary]) -> RunSummary | None:
    """The successful run sharing the most identical steps with ``failing`` (one look-up)."""
    return SiblingIndex(successes).nearest(failing)


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
