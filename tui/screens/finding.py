"""Search (``/``, ``n``, ``N``) and filter (``&``, Esc) for the debugger screen.

Both use :class:`~trace_tui.core.navigation.step_query.StepQuery`. Small runs are searched on the
spot;
big ones in a thread worker that posts :class:`~trace_tui.tui.messages.FilterMatches` in
chunks and :class:`~trace_tui.tui.messages.SearchResult` at the end, tagged with a generation
so a newer query makes older results moot. A live run's new steps are filtered as they come.
Over an indexed file the workers scan the file's bytes (:mod:`trace_tui.core.index.search`),
so a payload search reads the disk once instead of loading every step; a search stops at the
first block of the file that holds a match and moves there at once, then a second worker
counts every match (the status line shows the count growing, then "match k/N"). Both say how
far their scan got; new steps of a run still being read are filtered and counted as they come.
"""

from __future__ import annotations

import time
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from itertools import chain

from textual.worker import get_current_worker

from trace_tui.core.index.search import find_matches, find_next
from trace_tui.core.navigation.step_query import QueryError, StepQuery, iter_matches
from trace_tui.tui.display.safe_text import plain_notice
from trace_tui.tui.messages import FilterMatches, SearchCount, SearchProgress, SearchResult
from trace_tui.tui.screens.debugger_base import DebuggerScreenBase
from trace_tui.tui.screens.prompt import PromptScreen
from trace_tui.tui.widgets.span_tree import SpanTree

#: Runs up to this many steps are searched and filtered without a worker.
SYNC_FIND_LIMIT = 5_000
#: Seconds between two progress messages of a worker.
PROGRESS_EVERY = 0.2
QUERY_HINT = ("words match name or payload · kind:tool,llm · is:error · name:… · text:… "
              "· Enter applies, Esc cancels")


class FindingMixin(DebuggerScreenBase):
    """Search and filter state and actions (mixed into
    :class:`~trace_tui.tui.screens.debugger.DebuggerScreen`)."""

    def init_finding(self) -> None:
        """Start with no search and no filter."""
        self.search_query: StepQuery | None = None
        self.filter_query: StepQuery | None = None
        self._search_generation = 0
        self._filter_generation = 0
        self._filter_first = True
        self.finding_busy: str | None = None
        self._tally_generation = 0
        # matches of the search query (8 bytes each; sorted when no count is busy); None: not
        # counted
        self._tally: array[int] | None = None
        self._tally_busy: dict[int, float] = {}  # start of each range being counted: part done

    def reset_finding(self) -> None:
        """The run was replaced: re-apply the filter and recount the search from scratch."""
        if self.filter_query is not None:
            self.apply_filter(self.filter_query)
        if self._tally is not None:
            self._start_tally()

    # ----------------------------------------------------------------- prompts
    def _parse(self, text: str | None) -> StepQuery | None:
        if text is None or not text.strip():
            return None
        try:
            return StepQuery.parse(text)
        except QueryError as exc:
            self.notify(plain_notice(exc), severity="warning", markup=False)
            return None

    def action_search(self) -> None:
        """Ask for a query and jump to the next matching step."""
        def done(text: str | None) -> None:
            query = self._parse(text)
            if query is not None:
                self.search_query = query
                self._tally = None
                self._tally_generation += 1
                self.workers.cancel_group(self, "search-count")
                self._search(1)

        value = self.search_query.text if self.search_query else ""
        self.app.push_screen(PromptScreen("Search steps (/)", QUERY_HINT, value=value,
                                          placeholder="e.g. refund   kind:tool is:error"), done)

    def action_search_next(self, direction: int) -> None:
        """Repeat the search forward (1) or backward (-1)."""
        if self.search_query is not None:
            self._search(direction)

    def action_filter(self) -> None:
        """Ask for a query and show only matching steps (and their ancestors)."""
        def done(text: str | None) -> None:
            if text is not None and not text.strip():
                self.action_clear_filter()
                return
            query = self._parse(text)
            if query is not None:
                self.apply_filter(query)

        value = self.filter_query.text if self.filter_query else ""
        self.app.push_screen(PromptScreen("Filter steps (&)  — empty clears", QUERY_HINT,
                                          value=value, placeholder="e.g. kind:tool"), done)

    def action_clear_filter(self) -> None:
        """Show every step again."""
        if self.filter_query is None:
            return
        self.filter_query = None
        self._filter_generation += 1
        self.finding_busy = None
        self.query_one(SpanTree).set_filter(None)
        self._update_status()
        self._update_bindings()

    def check_finding_action(self, action: str) -> bool | None:
        """Grey out repeat-search and clear-filter when there is nothing to repeat or clear."""
        if action == "search_next":
            return True if self.search_query is not None else None
        if action == "clear_filter":
            return True if self.filter_query is not None else None
        return True

    # ----------------------------------------------------------------- filter
    def apply_filter(self, query: StepQuery) -> None:
        """Show only the steps matching ``query`` (and their ancestors)."""
        self.filter_query = query
        self._filter_generation += 1
        self._filter_first = True
        if self.count <= SYNC_FIND_LIMIT:
            matches = list(iter_matches(self.run_view, query, range(self.count)))
            self._take_matches(FilterMatches(self._filter_generation, matches, self.count,
                                             done=True))
        else:
            self.finding_busy = "filtering…"
            self._filter_worker(self._filter_generation, query, 0, self.count, exclusive=True)
        self._update_status()
        self._update_bindings()

    def filter_grew(self, old: int, new: int) -> None:
        """The run grew: filter the new steps too."""
        query = self.filter_query
        if query is None or new <= old:
            return
        if new - old <= SYNC_FIND_LIMIT and not query.needs_payload:
            matches = list(iter_matches(self.run_view, query, range(old, new)))
            self.query_one(SpanTree).add_filter_matches(matches)
        else:
            self._filter_worker(self._filter_generation, query, old, new, exclusive=False)

    def _filter_worker(self, generation: int, query: StepQuery, start: int,
                       end: int, *, exclusive: bool) -> None:
        run = self.run_view

        def work() -> None:
            worker = get_current_worker()
            chunk: list[int] = []
            last, part = time.monotonic(), 0.0

            def told(done: float) -> None:
                nonlocal part
                part = done

            for batch in find_matches(run, query, start, end, lambda: worker.is_cancelled,
                                      told):
                chunk.extend(batch)
                if time.monotonic() - last > PROGRESS_EVERY:
                    self.post_message(FilterMatches(generation, chunk, end, done=False,
                                                    part=part if exclusive else None))
                    chunk, last = [], time.monotonic()
            if not worker.is_cancelled:
                self.post_message(FilterMatches(generation, chunk, end, done=True))

        self.run_worker(work, thread=True, exclusive=exclusive, group="filter",
                        name="step filter", exit_on_error=False)

    def on_filter_matches(self, message: FilterMatches) -> None:
        """Matches arrived from the filter worker."""
        self._take_matches(message)

    def _take_matches(self, message: FilterMatches) -> None:
        if message.generation != self._filter_generation or self.filter_query is None:
            return
        tree = self.query_one(SpanTree)
        if self._filter_first:
            self._filter_first = False
            tree.set_filter(message.matches)
        else:
            tree.add_filter_matches(message.matches)
        if message.part is not None and not message.done:
            self.finding_busy = f"filtering {message.part:.0%}"
        if message.done:
            self.finding_busy = None
            shown = tree.visibility.match_count
            if shown == 0:
                self.notify("no step matches the filter (Esc clears it)", severity="warning",
                            markup=False)
        self._update_status()
        self.go_on_to_filtered_end()

    # ----------------------------------------------------------------- search
    def _search(self, direction: int) -> None:
        query = self.search_query
        if query is None or not self.count:
            return
        self._search_generation += 1
        generation, count, start = self._search_generation, self.count, self.cursor.position
        order = _search_order(start, count, direction)
        tally = self._tally
        if tally is not None and not self._tally_busy:  # every match is known: no scan
            self._search_done(generation, _next_in(tally, start, direction), start, direction)
            return
        if count <= SYNC_FIND_LIMIT:
            self._search_done(generation, next(iter_matches(self.run_view, query, order), None),
                              start, direction)
            return
        self.finding_busy = "searching…"
        self._update_status()
        run = self.run_view

        def work() -> None:
            worker = get_current_worker()
            last = time.monotonic()

            def told(part: float) -> None:
                nonlocal last
                if time.monotonic() - last > PROGRESS_EVERY:
                    self.post_message(SearchProgress(generation, part))
                    last = time.monotonic()

            found = find_next(run, query, order, start, direction, count,
                              lambda: worker.is_cancelled, told)
            if not worker.is_cancelled:
                wrapped = found is not None and (found - start) * direction < 0
                self.post_message(SearchResult(generation, found, wrapped=wrapped))

        self.run_worker(work, thread=True, exclusive=True, group="search", name="step search",
                        exit_on_error=False)

    def on_search_progress(self, message: SearchProgress) -> None:
        """The search worker got this far."""
        if message.generation == self._search_generation and self.finding_busy:
            self.finding_busy = f"searching {message.part:.0%}"
            self._update_status()

    def on_search_result(self, message: SearchResult) -> None:
        """The search worker finished."""
        if message.generation == self._search_generation:
            self.finding_busy = None
            self._report_search(message.index, message.wrapped)

    def _search_done(self, generation: int, found: int | None, start: int,
                     direction: int) -> None:
        wrapped = found is not None and (found - start) * direction < 0
        self._report_search(found, wrapped)

    def _report_search(self, found: int | None, wrapped: bool) -> None:
        query = self.search_query
        text = plain_notice(query.text if query else "", 60)
        if found is None:
            self.notify(f"no step matches {text}", severity="warning", markup=False)
        else:
            if wrapped:
                self.notify("search wrapped around", markup=False, timeout=2)
            self.move_to(found)
        if self._tally is None and self.search_query is not None:
            if found is None:  # every step was looked at
                self._tally_generation += 1
                self._tally, self._tally_busy = array("q"), {}
            else:
                self._start_tally()
        self._update_status()
        self._update_bindings()

    # ----------------------------------------------------------------- count
    def _start_tally(self) -> None:
        """Count every match of the search query (after its first hit is shown)."""
        self._tally_generation += 1
        self.workers.cancel_group(self, "search-count")
        self._tally, self._tally_busy = array("q"), {}
        self._count(0, self.count)

    def search_grew(self, old: int, new: int) -> None:
        """The run grew: count the search query's matches among the new steps too."""
        if self._tally is not None and new > old:
            self._count(old, new)

    def _count(self, start: int, end: int) -> None:
        query, generation, run = self.search_query, self._tally_generation, self.run_view
        if query is None:
            return
        if end - start <= SYNC_FIND_LIMIT and (end <= SYNC_FIND_LIMIT
                                               or not query.needs_payload):
            matches = list(iter_matches(run, query, range(start, end)))
            self._take_count(SearchCount(generation, matches, start, end, part=1.0,
                                         done=True))
            return
        self._tally_busy[start] = 0.0

        def work() -> None:
            worker = get_current_worker()
            chunk: list[int] = []
            last, part = time.monotonic(), 0.0

            def told(done: float) -> None:
                nonlocal part, chunk, last
                part = done
                if time.monotonic() - last > PROGRESS_EVERY:
                    self.post_message(SearchCount(generation, chunk, start, end, part=part,
                                                  done=False))
                    chunk, last = [], time.monotonic()

            for batch in find_matches(run, query, start, end, lambda: worker.is_cancelled,
                                      told):
                chunk.extend(batch)
            if not worker.is_cancelled:
                self.post_message(SearchCount(generation, chunk, start, end, part=1.0,
                                              done=True))

        self.run_worker(work, thread=True, group="search-count", name="match count",
                        exit_on_error=False)

    def on_search_count(self, message: SearchCount) -> None:
        """Matches counted by a count worker."""
        self._take_count(message)

    def _take_count(self, message: SearchCount) -> None:
        tally = self._tally
        if message.generation != self._tally_generation or tally is None:
            return
        tally.extend(message.matches)
        if message.done:
            self._tally_busy.pop(message.start, None)
            if not self._tally_busy:
                self._tally = array("q", sorted(tally))
        else:
            self._tally_busy[message.start] = message.part
        self._update_status()

    def search_status(self) -> str | None:
        """What the status line says about the search: its query and the count of its
        matches (growing while counted; then where the cursor is among them)."""
        query, tally = self.search_query, self._tally
        if query is None or tally is None:
            return None
        found = len(tally)
        if self._tally_busy:
            part = self._tally_busy[min(self._tally_busy)]
            return f"/{query.text} {found:,} found · counting {part:.0%}"
        position = self.cursor.position
        at = bisect_left(tally, position)
        if at < found and tally[at] == position:
            return f"/{query.text} match {at + 1:,}/{found:,}"
        return f"/{query.text} {found:,} match" + "es" * (found != 1)


def _next_in(matches: Sequence[int], start: int, direction: int) -> int | None:
    """The match after (before) ``start`` in sorted ``matches``, wrapping around."""
    if not matches:
        return None
    if direction > 0:
        at = bisect_right(matches, start)
        return matches[at] if at < len(matches) else matches[0]
    at = bisect_left(matches, start)
    return matches[at - 1] if at else matches[-1]


def _search_order(start: int, count: int, direction: int) -> Iterable[int]:
    """Step indices after ``start`` in ``direction``, wrapping around, ``start`` itself last."""
    if direction > 0:
        return chain(range(start + 1, count), range(0, start + 1))
    return chain(range(start - 1, -1, -1), range(count - 1, start - 1, -1))
