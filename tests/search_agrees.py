"""The byte search asked every way the screen asks, against the per-step scan (shared by the
search tests; importable thanks to pytest's ``pythonpath``)."""

from __future__ import annotations

from collections.abc import Iterable

from trace_tui.core.index.search import find_matches, find_next
from trace_tui.core.model.run import RunView
from trace_tui.core.navigation.step_query import StepQuery, iter_matches


def search_agrees(run: RunView, query: StepQuery, starts: Iterable[int], what: object = "") -> None:
    """From each of ``starts``: the next match forward and backward (wrapping, as ``n`` and
    ``N`` ask before the count is known) and every match after and before it (a count over
    part of the run, as a growing run asks) are exactly what the per-step scan finds."""
    count = len(run)
    expected = list(iter_matches(run, query, range(count)))
    for start in sorted({s for s in starts if 0 <= s < count}):
        for direction in (1, -1):
            order = [(start + direction * k) % count for k in range(1, count + 1)]
            want = next(iter_matches(run, query, order), None)
            got = find_next(run, query, order, start, direction, count)
            assert got == want, (what, query.text, start, direction)
        for lo, hi in ((start, count), (0, start), (start, min(count, start + 7))):
            found = sorted(i for batch in find_matches(run, query, lo, hi) for i in batch)
            assert found == [i for i in expected if lo <= i < hi], (what, query.text, lo, hi)
