"""Search and filter for the screen: the next match from the cursor, and every match in a range.

Over an :class:`~trace_tui.core.index.run_view.IndexedRun` (or a run-order view of one) a query
that needs the payload is served by the byte scan (:class:`~trace_tui.core.index.byte_search.
ByteSearch`: the file's bytes, confirmed on the decoded steps); other runs and queries without
a usable piece of text take the per-step scan (:func:`~trace_tui.core.navigation.step_query.
iter_matches`). Both give the same steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from trace_tui.core.index.byte_search import ByteSearch, Cancelled, Progress, no_progress
from trace_tui.core.index.run_view import IndexedRun
from trace_tui.core.index.search_hits import late_steps, parts
from trace_tui.core.model.run import RunView
from trace_tui.core.navigation.run_order import OrderedRun
from trace_tui.core.navigation.step_query import StepQuery, iter_matches


def find_matches(
    run: RunView,
    query: StepQuery,
    start: int,
    end: int,
    cancelled: Cancelled = lambda: False,
    progress: Progress = no_progress,
) -> Iterator[list[int]]:
    """Matches in ``[start, end)``, in sorted batches (each batch sorted; later batches may
    hold smaller indices). The byte scan where it helps, else the per-step scan.
    ``progress`` is told the part done (of the bytes, or of the steps) as the scan goes."""
    ordered = _ordered_index(run, query)
    if ordered is not None:  # a run-order view of an index: scan the file, show positions
        rank, inner = ordered.rank, ordered.inner
        for stored in find_matches(inner, query, 0, len(inner), cancelled, progress):
            shown = sorted(rank[i] for i in stored if i < len(rank) and start <= rank[i] < end)
            if shown:
                yield shown
        return
    if isinstance(run, IndexedRun) and query.needs_payload:
        search = ByteSearch(run, query)
        if search.usable:
            yield from search.matches(start, end, cancelled, progress)
            return
    batch: list[int] = []
    span = max(end - start, 1)
    for begin in range(start, end, 1000):
        stop = min(begin + 1000, end)
        batch.extend(iter_matches(run, query, range(begin, stop), cancelled))
        if cancelled():
            return
        progress((stop - start) / span)
        if len(batch) >= 1000 or stop == end:
            if batch:
                yield batch
            batch = []


def find_next(
    run: RunView,
    query: StepQuery,
    order: Iterable[int],
    start: int,
    direction: int,
    count: int,
    cancelled: Cancelled = lambda: False,
    progress: Progress = no_progress,
) -> int | None:
    """The next match from ``start`` in ``direction`` (wrapping; ``start`` itself last).

    ``order`` is the per-step visiting order the slow path uses. The byte scan looks at the
    steps after ``start`` first and returns the nearest match as soon as the part of the file
    read holds it and no nearer step is left with records further on (exactly the step the
    per-step scan finds first); then the steps before it. ``progress`` is told how far each
    pass over the bytes got.
    """
    ordered = _ordered_index(run, query)
    if ordered is not None:
        return _next_in_order(ordered, query, start, direction, count, cancelled, progress)
    if not (isinstance(run, IndexedRun) and query.needs_payload):
        return next(iter_matches(run, query, order, cancelled), None)
    search = ByteSearch(run, query)
    if not search.usable:
        return next(iter_matches(run, query, order, cancelled), None)
    if direction > 0:
        ahead = _nearest(search, start + 1, count, cancelled, progress, first=True)
        return ahead if ahead is not None else _nearest(search, 0, start + 1, cancelled,
                                                       progress, first=True)
    behind = _nearest(search, 0, start, cancelled, progress, first=False)
    return behind if behind is not None else _nearest(search, start, count, cancelled,
                                                     progress, first=False)


def _ordered_index(run: RunView, query: StepQuery) -> OrderedRun | None:
    """``run`` when it shows an index in run order and the byte scan can serve ``query``."""
    if not (isinstance(run, OrderedRun) and isinstance(run.inner, IndexedRun)):
        return None
    if not query.needs_payload or not ByteSearch(run.inner, query).usable:
        return None
    return run


def _next_in_order(run: OrderedRun, query: StepQuery, start: int, direction: int, count: int,
                   cancelled: Cancelled, progress: Progress) -> int | None:
    """:func:`find_next` over a run-order view: the file is scanned (its order is not the
    view's), and the match nearest ``start`` in ``direction`` (wrapping) wins; a match right
    next to ``start`` ends the scan early."""
    rank, best, best_key = run.rank, None, count + 1
    for batch in find_matches(run.inner, query, 0, len(run.inner), cancelled, progress):
        for stored in batch:
            shown = rank[stored] if stored < len(rank) else count
            if shown >= count:
                continue
            key = ((shown - start) * direction) % count or count  # start itself comes last
            if key < best_key:
                best, best_key = shown, key
        if best_key == 1:
            break
    return best


#: A match found, at most this many steps before it that still have records further on are
#: confirmed one by one; more, and the scan reads on.
LATE_CONFIRM = 64


def _nearest(search: ByteSearch, lo: int, hi: int, cancelled: Cancelled, progress: Progress,
             *, first: bool) -> int | None:
    """The smallest (``first``) or largest match in ``[lo, hi)``.

    Forward, the scan stops at the first block that confirms a match, once no step before
    that match is left undecided: a step with a record further on (a ``span_end`` written
    later, :func:`~trace_tui.core.index.search_hits.late_steps`) is confirmed on its own, or
    the scan reads on while there are many; then a nearer step matched by its name wins.
    Backward reads every candidate.
    """
    view = search.run.scan_view()
    if view is None or lo >= min(hi, view.count):
        return None
    hi = min(hi, view.count)

    def confirmed(index: int) -> bool:
        return bool(search.confirmer.matching((index,), cancelled))

    names = search.by_name_or_kind(view, lo, hi)
    if not first:
        every = set(names)
        for batch in search.byte_candidates(view, lo, hi, cancelled, progress):
            every.update(batch)
        return next((i for i in sorted(every, reverse=True) if confirmed(i)), None)
    best, decided = hi, set()  # a match below ``best`` wins; steps confirmed or not

    def take(steps: Iterable[int]) -> None:
        """Confirm ``steps`` (ascending) up to the first match, which becomes ``best``."""
        nonlocal best
        for index in steps:
            if index >= best:
                return
            if index not in decided:
                decided.add(index)
                if confirmed(index):
                    best = index
                    return

    for part in parts(view):  # the nearest in each file; the nearer of those
        bound = best
        for scanned, batch in search.scan(part, lo, bound, cancelled, progress):
            take(batch)
            if best < bound:  # are steps before it left with records further on?
                late = [i for i in late_steps(part, lo, best, scanned) if i not in decided]
                if len(late) <= LATE_CONFIRM:
                    take(late)
                    break
    take(names)
    return best if best < hi else None
