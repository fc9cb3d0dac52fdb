"""Search and filter at disk speed: scan the records' bytes, confirm on the decoded step.

A query word that must appear in a step's payload (``text:refund``, or a bare word that is
not in the step's name) appears in the step's record *as JSON*: escaped, in any case, maybe
with non-ASCII characters written raw or as ``\\uXXXX``.
:func:`~trace_tui.core.index.needle.needle_forms` picks the longest piece of the word that
every JSON writer writes literally (letters, digits and a few symbols, or caseless non-ASCII
characters in both their raw and escaped forms), lower-cased. The scan (:class:`ByteSearch`)
reads the file in blocks of whole lines (small ones first, so that a hit near the start shows
at once) and finds the lines whose ASCII-lower-cased bytes hold those bytes
(:class:`~trace_tui.core.index.needle.LineFinder`: by a rare caseless byte of the piece
without copying the block, else in a lower-cased copy); a line that holds them is mapped
to its step through the index's offsets (a step's first record by a bisect, a ``span_end`` by
its span id), and the step is confirmed with :meth:`StepQuery.matches_step
<trace_tui.core.navigation.step_query.StepQuery.matches_step>`. Steps that match by name or
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

import logging
import os
from bisect import bisect_left
from collections.abc import Callable, Generator, Iterable, Iterator
from itertools import compress
from typing import Any

import orjson

from trace_tui.core.index.columns import KIND_CODES
from trace_tui.core.index.needle import LineFinder, needle_forms
from trace_tui.core.index.run_view import IndexedRun, ScanView
from trace_tui.core.index.store import read_line_at
from trace_tui.core.model.run import RunView
from trace_tui.core.navigation.run_order import OrderedRun
from trace_tui.core.navigation.step_query import StepQuery, fold, iter_matches

log = logging.getLogger(__name__)

#: Bytes read per block (cut back to the last newline); the first blocks are smaller so that
#: a hit near the start shows at once.
BLOCK_BYTES = 8 * 1024 * 1024
FIRST_BLOCK_BYTES = 512 * 1024

Cancelled = Callable[[], bool]
#: Told the fraction of the bytes to scan that has been scanned, after each block.
Progress = Callable[[float], None]


def _no_progress(done: float) -> None:
    """The default :data:`Progress`: nobody listens."""


class ByteSearch:
    """Finds the steps of an :class:`IndexedRun` that match a query (see module doc)."""

    def __init__(self, run: IndexedRun, query: StepQuery) -> None:
        self.run = run
        self.query = query
        self.driver, self.forms = _driver(query)
        self.finders: dict[int, LineFinder] = {}  # by file (its bytes pick the way)

    @property
    def usable(self) -> bool:
        """True when the bytes can narrow the search (else use the per-step scan)."""
        return bool(self.forms)

    # ----------------------------------------------------------------- candidates
    def candidates(
        self, start: int, end: int | None = None, cancelled: Cancelled = lambda: False,
        progress: Progress = _no_progress,
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
        progress: Progress = _no_progress,
    ) -> Iterator[list[int]]:
        """Steps in ``[start, stop)`` whose records hold the driving bytes, block by block
        (the spill's steps, then those mapped from the trace's lines, for a foreign trace; a
        list per block, maybe empty; ``progress`` told the part done after each)."""
        parts = _parts(view)
        for number, part in enumerate(parts):
            def told(done: float, number: int = number) -> None:
                progress((number + done) / len(parts))

            yield from self.part_candidates(part, start, stop, cancelled, told)
        progress(1.0)

    def part_candidates(
        self, view: ScanView, start: int, stop: int, cancelled: Cancelled = lambda: False,
        progress: Progress = _no_progress,
    ) -> Iterator[list[int]]:
        """:meth:`byte_candidates` in one file of the view (``view.other`` is not read)."""
        if start >= stop:
            return
        members = view.members
        if members is not None:
            lo, hi = bisect_left(members, start), bisect_left(members, stop)
            if lo >= hi:
                return
            if view.light and self._may_be_invented(view):
                yield list(members[lo:hi])  # text the mapping may write: check every step
                return
            first = view.cols.offset[members[lo]]
        else:
            first = view.cols.offset[start]
        span = max(view.size - first, 1)
        for block_start, block, end in _blocks(view, first):
            if cancelled() or self.run.generation != view.generation:
                return
            found = self._block_hits(view, block, end, block_start, start, stop)
            progress(min((block_start + end - first) / span, 1.0))
            yield sorted(found)

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
                found.update(i for i in _blob_steps(self.run, view, base + line_start)
                             if start <= i < stop)
            elif view.members is None:
                index = _step_of(view, base + line_start, block, line_start, line_end)
                if start <= index < stop:
                    found.add(index)
            else:
                found.update(i for i in _members_at(view, base + line_start, block,
                                                    line_start, line_end)
                             if start <= i < stop)  # fmt: skip
            if view.followers is not None:  # later calls that repeat these messages
                found.update(i for i in _followers(view, base + line_start)
                             if start <= i < stop)  # fmt: skip
        return found

    # ----------------------------------------------------------------- confirmed
    def matches(
        self, start: int, end: int | None = None, cancelled: Cancelled = lambda: False,
        progress: Progress = _no_progress,
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
            confirmed = list(iter_matches(self.run, self.query, fresh, cancelled))
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


def _blocks(view: ScanView, first: int) -> Iterator[tuple[int, bytes, int]]:
    """Blocks of the scanned file from ``first`` up to ``view.size``: ``(offset, data, end)``
    where ``data[:end]`` is whole lines (the rest, part of the next line, is read again with
    the next block: cheaper than copying the block to cut it)."""
    at, size = first, FIRST_BLOCK_BYTES
    while at < view.size:
        data = os.pread(view.fd, min(size, view.size - at), at)
        size = min(size * 2, BLOCK_BYTES)
        if not data:
            return
        end = len(data)
        if at + end < view.size:
            end = data.rfind(b"\n") + 1
            if not end and view.spilled and data[:1] == b'"':
                # a huge string held apart in the spill (a blob): scanned a block at a time
                at = yield from _blob_pieces(view, at, data)
                continue
            if not end:  # one line longer than a block: read on to its end
                data += _rest_of_line(view, at + len(data))
                end = len(data)
        yield at, data, end
        at += end


#: Bytes each piece of a blob repeats from the one before (a word cut by the piece's start).
BLOB_OVERLAP = 64 * 1024


def _blob_pieces(
    view: ScanView, at: int, data: bytes
) -> Generator[tuple[int, bytes, int], None, int]:
    """The blob line starting at ``at`` (``data``: its first block) as pieces of about a
    block, each read as one line at ``at`` (a quote first, so the hit is known as a blob's);
    returns where the next line starts."""
    start = at
    while True:
        cut = data.find(b"\n")
        piece = data if cut < 0 else data[:cut]
        block = piece if piece[:1] == b'"' else b'"' + piece
        yield start, block, len(block)
        at += len(data)
        if cut >= 0:
            return at - len(data) + cut + 1
        if at >= view.size:
            return at
        overlap = piece[-BLOB_OVERLAP:]
        data = overlap + os.pread(view.fd, min(BLOCK_BYTES, view.size - at), at)
        at -= len(overlap)


def _rest_of_line(view: ScanView, at: int) -> bytes:
    parts: list[bytes] = []
    while at < view.size:
        data = os.pread(view.fd, min(BLOCK_BYTES, view.size - at), at)
        if not data:
            break
        cut = data.find(b"\n")
        if cut >= 0:
            parts.append(data[: cut + 1])
            break
        parts.append(data)
        at += len(data)
    return b"".join(parts)


def _step_of(view: ScanView, offset: int, block: bytes, line_start: int, line_end: int) -> int:
    """The step whose record is the line at ``offset`` (its first record or a ``span_end``),
    or -1 (a run record, a corrupt line, a line not indexed yet)."""
    cols, count = view.cols, view.count
    index = bisect_left(cols.offset, offset, 0, count)
    if index < count and cols.offset[index] == offset:
        return index
    return _end_step(view, block[line_start:line_end], offset)


def _blob_steps(run: IndexedRun, view: ScanView, offset: int) -> list[int]:
    """The steps whose records refer to the huge string (blob) at ``offset`` in the spill."""
    spill = run._spill
    found: list[int] = []
    for at in spill.blob_users(offset) if spill is not None else ():
        if at >= view.size:
            continue
        line = read_line_at(view.fd, at)  # the record without its huge strings: small
        if view.members is None:
            found.append(_step_of(view, at, line, 0, len(line)))
        else:
            found.extend(_members_at(view, at, line, 0, len(line)))
        if view.followers is not None:  # later calls that repeat the message holding it
            found.extend(_followers(view, at))
    return found


def _end_step(view: ScanView, line: bytes, offset: int) -> int:
    """The step a ``span_end`` record at ``offset`` updated, or -1."""
    cols, count = view.cols, view.count
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return -1
    record = value[2] if view.spilled and isinstance(value, list) and len(value) == 3 else value
    if not isinstance(record, dict) or record.get("type") != "span_end":
        return -1
    span_id = record.get("span_id")
    if not isinstance(span_id, str):
        return -1
    index = cols.index_of(span_id)
    if 0 <= index < count and offset in cols.end_offsets(index):
        return index
    return -1


def _parts(view: ScanView) -> list[ScanView]:
    """The view, and the view of the steps whose records are in another file."""
    return [view] if view.other is None else [view, view.other]


def _followers(view: ScanView, offset: int) -> list[int]:
    """The steps whose first records repeat the input messages of the record at ``offset``
    (chained to it in the spill), as far as they are indexed."""
    assert view.followers is not None
    cols, out = view.cols, []
    steps: Any = view.members if view.members is not None else range(view.count)
    for at in view.followers(offset):
        k = bisect_left(steps, at, key=cols.offset.__getitem__)
        if k >= len(steps):
            break
        if cols.offset[steps[k]] == at:
            out.append(steps[k])
    return out


def _members_at(
    view: ScanView, offset: int, block: bytes, line_start: int, line_end: int
) -> list[int]:
    """The steps of a view with ``members`` whose record (or source line) is at ``offset``;
    a ``span_end`` in the spill is found by its span id, as in :func:`_step_of`."""
    members, cols = view.members, view.cols
    assert members is not None
    at = bisect_left(members, offset, key=cols.offset.__getitem__)
    found: list[int] = []
    while at < len(members) and cols.offset[members[at]] == offset:
        found.append(members[at])
        at += 1
    if found or view.light:
        return found
    index = _end_step(view, block[line_start:line_end], offset)
    return [index] if index >= 0 else []


# ----------------------------------------------------------------- for the screen
def find_matches(
    run: RunView,
    query: StepQuery,
    start: int,
    end: int,
    cancelled: Cancelled = lambda: False,
    progress: Progress = _no_progress,
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
    progress: Progress = _no_progress,
) -> int | None:
    """The next match from ``start`` in ``direction`` (wrapping; ``start`` itself last).

    ``order`` is the per-step visiting order the slow path uses. The byte scan looks at the
    steps after ``start`` first and returns the nearest confirmed one as soon as its part of
    the file has been read; then the steps before it. ``progress`` is told how far each
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


def _nearest(search: ByteSearch, lo: int, hi: int, cancelled: Cancelled, progress: Progress,
             *, first: bool) -> int | None:
    """The smallest (``first``) or largest match in ``[lo, hi)``.

    Forward, the scan stops at the first block that confirms a match: the nearest one there,
    or a nearer step matched by its name. (A step matched only through a ``span_end`` written
    further on is reached in the order of that record.) Backward reads every candidate.
    """
    view = search.run.scan_view()
    if view is None or lo >= min(hi, view.count):
        return None
    hi = min(hi, view.count)
    query, run = search.query, search.run

    def confirmed(index: int) -> bool:
        return next(iter_matches(run, query, (index,), cancelled), None) is not None

    names = search.by_name_or_kind(view, lo, hi)
    if not first:
        every = set(names)
        for batch in search.byte_candidates(view, lo, hi, cancelled, progress):
            every.update(batch)
        return next((i for i in sorted(every, reverse=True) if confirmed(i)), None)
    hit: int | None = None
    for part in _parts(view):  # the nearest in each file; the nearer of those
        for batch in search.part_candidates(part, lo, hi if hit is None else hit, cancelled,
                                            progress):
            found = next((i for i in batch if confirmed(i)), None)
            if found is not None:
                hit = found if hit is None else min(hit, found)
                break
    for index in names:
        if hit is not None and index >= hit:
            break
        if confirmed(index):
            return index
    return hit
