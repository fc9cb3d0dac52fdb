"""Search at disk speed: scan the records' bytes, confirm on the decoded step.

A query word that must appear in a step's payload (``text:refund``, or a bare word that is
not in the step's name) appears in the step's record *as JSON*: escaped, in any case, maybe
with non-ASCII characters written raw or as ``\\uXXXX``.
:func:`~trace_tui.core.index.needle.needle_forms` picks the longest piece of the word that
every JSON writer writes literally (letters, digits and a few symbols, or caseless non-ASCII
characters in both their raw and escaped forms), lower-cased. The scan (:class:`ByteSearch`)
reads the file in blocks of whole lines (:mod:`~trace_tui.core.index.search_blocks`: small
ones first, so that a hit near the start shows at once) and finds the lines whose
ASCII-lower-cased bytes hold those bytes (:class:`~trace_tui.core.index.needle.LineFinder`: by
a rare caseless byte of the piece without copying the block, else in a lower-cased copy); a
line that holds them is mapped to its steps through the index's offsets
(:mod:`~trace_tui.core.index.search_hits`: a step's first record by a bisect, a ``span_end``
by its span id), and the step is confirmed with :meth:`StepQuery.matches_step
<trace_tui.core.navigation.step_query.StepQuery.matches_step>` (cheaper for a step mapped
from one foreign line: :mod:`~trace_tui.core.index.search_confirm`). Steps that match by name or
kind alone come from the index's columns. So the byte scan finds exactly the steps a slow
per-step scan finds (a test checks it on escaped and non-ASCII text); it only skips loading
the steps that cannot match.

Foreign formats are scanned in the spill of their mapped records (what a step is built from),
native traces in the file itself. Only the part already indexed is scanned, so search works
while the index is still being built. Runs that are not indexed (whole-document formats) and
queries without a usable piece (a lone cased non-ASCII letter, punctuation) take the per-step
path, :func:`~trace_tui.core.navigation.step_query.iter_matches`.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator
from itertools import compress

from trace_tui.core.index.columns import KIND_CODES
from trace_tui.core.index.needle import LineFinder, needle_forms
from trace_tui.core.index.run_view import IndexedRun, ScanView
from trace_tui.core.index.search_blocks import blocks
from trace_tui.core.index.search_confirm import Confirmer
from trace_tui.core.index.search_hits import (
    blob_steps,
    followers,
    members_at,
    parts,
    step_of,
    window_start,
)
from trace_tui.core.navigation.step_query import StepQuery, fold

Cancelled = Callable[[], bool]
#: Told the fraction of the bytes to scan that has been scanned, after each block.
Progress = Callable[[float], None]


def no_progress(done: float) -> None:
    """The default :data:`Progress`: nobody listens."""


class ByteSearch:
    """Finds the steps of an :class:`IndexedRun` that match a query (see module doc)."""

    def __init__(self, run: IndexedRun, query: StepQuery) -> None:
        self.run = run
        self.query = query
        self.driver, self.forms = _driver(query)
        self.finders: dict[int, LineFinder] = {}  # by file (its bytes pick the way)
        self.confirmer = Confirmer(run, query)

    @property
    def usable(self) -> bool:
        """True when the bytes can narrow the search (else use the per-step scan)."""
        return bool(self.forms)

    # ----------------------------------------------------------------- candidates
    def candidates(
        self, start: int, end: int | None = None, cancelled: Cancelled = lambda: False,
        progress: Progress = no_progress,
    ) -> Iterator[list[int]]:
        """Step indices in ``[start, end)`` that may match: first those whose name or kind
        holds the driving word, then a block of the file at a time.

        Each list is sorted; a step may appear in more than one list (a later ``span_end``).
        """
        view = self.run.scan_view()
        if view is None:
            return
        stop = view.count if end is None else min(end, view.count)
        by_name = self.by_name_or_kind(view, start, stop)
        if by_name:
            yield by_name
        yield from self.byte_candidates(view, start, stop, cancelled, progress)

    def byte_candidates(
        self, view: ScanView, start: int, stop: int, cancelled: Cancelled = lambda: False,
        progress: Progress = no_progress,
    ) -> Iterator[list[int]]:
        """Steps in ``[start, stop)`` whose records hold the driving bytes, block by block
        (the spill's steps, then those mapped from the trace's lines, for a foreign trace; a
        list per block, maybe empty; ``progress`` told the part done after each)."""
        files = parts(view)
        for number, part in enumerate(files):
            def told(done: float, number: int = number) -> None:
                progress((number + done) / len(files))

            yield from self.part_candidates(part, start, stop, cancelled, told)
        progress(1.0)

    def part_candidates(
        self, view: ScanView, start: int, stop: int, cancelled: Cancelled = lambda: False,
        progress: Progress = no_progress,
    ) -> Iterator[list[int]]:
        """:meth:`byte_candidates` in one file of the view (``view.other`` is not read)."""
        for _, found in self.scan(view, start, stop, cancelled, progress):
            yield found

    def scan(
        self, view: ScanView, start: int, stop: int, cancelled: Cancelled = lambda: False,
        progress: Progress = no_progress,
    ) -> Iterator[tuple[int, list[int]]]:
        """:meth:`part_candidates` with how far the file has been read after each block:
        ``(offset, steps)``; every record of a step in ``[start, stop)`` before that offset
        has been looked at (the steps with records further on: :func:`~trace_tui.core.
        index.search_hits.late_steps`)."""
        if start >= stop:
            return
        members = view.members
        if view.light and members is not None and self._may_be_invented(view):
            lo, hi = bisect_left(members, start), bisect_left(members, stop)
            if lo < hi:  # text the mapping may write: check every step
                yield view.size, list(members[lo:hi])
            return
        first = window_start(view, start, stop)
        if first is None:
            return
        span = max(view.size - first, 1)
        for block_start, block, end in blocks(view, first):
            if cancelled() or self.run.generation != view.generation:
                return
            found = self._block_hits(view, block, end, block_start, start, stop)
            progress(min((block_start + end - first) / span, 1.0))
            yield block_start + end, sorted(found)

    def _may_be_invented(self, view: ScanView) -> bool:
        """Could the mapping of a foreign line write the driving bytes though the line does
        not hold them (a word of the importer's own, or digits of a count it adds up)?"""
        for form in self.forms:
            text = form.decode("utf-8", "replace")
            if text.isdigit() or any(text in word for word in view.invented):
                return True
        return False

    def by_name_or_kind(self, view: ScanView, start: int, stop: int) -> list[int]:
        """Steps whose name (or kind) holds the driving word: a bare word matches there too."""
        word = self.driver
        if word is None or word not in self.query.words or start >= stop:
            return []
        cols = view.cols
        codes = {code for code, name in enumerate(cols.names) if word in fold(name)}
        found = list(compress(range(start, stop), map(codes.__contains__, cols.name[start:stop])))
        found += [i for i, name in cols.loose_names.items() if start <= i < stop
                  and word in fold(name)]
        if word in KIND_CODES:
            code, kinds = KIND_CODES[word], cols.kind
            at = kinds.find(code, start, stop)
            while at >= 0:
                found.append(at)
                at = kinds.find(code, at + 1, stop)
        return sorted(set(found))

    def _block_hits(
        self, view: ScanView, block: bytes, end: int, base: int, start: int, stop: int
    ) -> set[int]:
        """Steps in ``[start, stop)`` with a record among the lines of ``block[:end]``."""
        finder = self.finders.get(view.fd)
        if finder is None:
            finder = self.finders[view.fd] = LineFinder(self.forms, block)
        found: set[int] = set()
        for line_start, line_end in finder.lines(block, end):
            if view.spilled and block[line_start : line_start + 1] == b'"':
                # a huge string held apart in the spill: a hit in every record referring to it
                found.update(i for i in blob_steps(self.run, view, base + line_start)
                             if start <= i < stop)
            elif view.members is None:
                index = step_of(view, base + line_start, block, line_start, line_end)
                if start <= index < stop:
                    found.add(index)
            else:
                found.update(i for i in members_at(view, base + line_start, block,
                                                    line_start, line_end)
                             if start <= i < stop)  # fmt: skip
            if view.followers is not None:  # later calls that repeat these messages
                found.update(i for i in followers(view, base + line_start)
                             if start <= i < stop)  # fmt: skip
        return found

    # ----------------------------------------------------------------- confirmed
    def matches(
        self, start: int, end: int | None = None, cancelled: Cancelled = lambda: False,
        progress: Progress = no_progress,
    ) -> Iterator[list[int]]:
        """Confirmed matches in ``[start, end)``, a block at a time, each list sorted.

        Every match is yielded once; lists are sorted, not ordered with each other (a
        ``span_end`` later in the file can confirm an earlier step). ``progress`` is told
        the part of the bytes scanned after each block.
        """
        seen: set[int] = set()
        for batch in self.candidates(start, end, cancelled, progress):
            fresh = [i for i in batch if i not in seen]
            seen.update(fresh)
            confirmed = self.confirmer.matching(fresh, cancelled)
            if cancelled():
                return
            if confirmed:
                yield confirmed

    def all_matches(self, start: int = 0, end: int | None = None,
                    cancelled: Cancelled = lambda: False) -> list[int]:
        """Every confirmed match in ``[start, end)``, sorted."""
        out: list[int] = []
        for batch in self.matches(start, end, cancelled):
            out.extend(batch)
        return sorted(out)


def _driver(query: StepQuery) -> tuple[str | None, tuple[bytes, ...]]:
    """The term that narrows the scan most: a payload term if there is one, else the word
    with the longest searchable piece (each must hold somewhere for a step to match)."""
    best: tuple[str | None, tuple[bytes, ...]] = (None, ())
    for term in query.payload:
        forms = needle_forms(term)
        if forms and len(forms[0]) > len(best[1][0] if best[1] else b""):
            best = (term, forms)
    if best[0] is not None:
        return best
    for word in query.words:
        forms = needle_forms(word)
        if forms and len(forms[0]) > len(best[1][0] if best[1] else b""):
            best = (word, forms)
    return best
