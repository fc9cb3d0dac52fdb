"""The reader loop run by the screen's worker thread: update, scan, post batched messages.

:func:`pump_source` alternates ``source.update()`` (the index grows by a bounded amount) with
a bounded scan of new rows into :class:`~trace_tui.core.navigation.run_facts.RunFacts`, and posts
:class:`~trace_tui.tui.messages.ReaderProgress` at most once per ``interval`` while steps
pour in, so the UI redraws in batches. Rows appear as soon as the index has them; the facts
(errors, tool calls, peaks, fold marks) catch up right behind. When everything is read it
returns, or with ``follow`` waits with ``source.wait`` and goes on. A plain function, so tests
can drive it without an app.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message import Message

from trace_tui.core.model.run import RunView
from trace_tui.core.model.source import TraceSource
from trace_tui.core.navigation.run_facts import RunFacts
from trace_tui.core.navigation.run_order import OrderedRun, RunOrdering
from trace_tui.tui.messages import ReaderNotice, ReaderProgress, ReaderReordered, ReaderReset

#: Longest a live tail sleeps between checks when nothing is pending.
FOLLOW_WAIT = 0.25
#: Rows scanned between two index updates (small first, so the first screen comes fast).
FIRST_SCAN_CHUNK = 2_000
SCAN_CHUNK = 20_000
#: How long the reader waits before asking again whether the user is still pressing keys.
INPUT_PAUSE = 0.01
#: Least time between two progress posts while a file is read for the first time (after the
#: first post): each post redraws the screen in the interpreter the reader needs (at 200x50
#: a redraw is ~35 ms of CPU; at 0.25 s the screen's thread used 8.5 s of a 1M-span read's
#: 24 s, at 0.5 s 4.4-6.9 s).
READING_INTERVAL = 0.5


def pump_source(
    source: TraceSource,
    facts: RunFacts,
    *,
    follow: bool,
    post: Callable[[Message], object],
    cancelled: Callable[[], bool],
    interval: float = 0.05,
    reading_interval: float = READING_INTERVAL,
    clock: Callable[[], float] = time.monotonic,
    user_active: Callable[[], bool] = lambda: False,
) -> None:
    """Read ``source`` into ``facts`` and post progress until done (or cancelled, if following):
    at most once per ``interval``, and per ``reading_interval`` until the index first catches up.

    While ``user_active()`` says the user is pressing keys, the loop waits between two
    bounded updates: key presses first, indexing in the pauses between them.
    """
    last_post = float("-inf")
    posted: tuple[int, int, bool] | None = None
    progress, indexed = 0.0, False

    view: list[RunView] = [source.run]  # what the screen shows: the run in run order

    def state() -> tuple[int, int, bool]:
        count = len(view[0])
        return count, facts.count, indexed and facts.count >= count

    def flush(force: bool = False) -> None:
        nonlocal last_post, posted
        now_state = state()
        if now_state == posted and not force:
            return
        wait = interval if indexed or last_post == float("-inf") else reading_interval
        if force or posted is None or clock() - last_post >= wait:
            count, scanned, complete = now_state
            post(ReaderProgress(view[0], count, scanned=scanned, progress=progress,
                                complete=complete))
            last_post, posted = clock(), now_state

    ordering = RunOrdering()
    while not cancelled():
        while user_active() and not cancelled():
            # The user is pressing keys: leave the interpreter to the screen for a moment (in
            # one process the reader's Python work would halve the speed of every key press).
            time.sleep(INPUT_PAUSE)
        update = source.update()
        stored = source.run
        progress, indexed = update.progress, update.complete
        if update.reset:
            ordering = RunOrdering()
        run, previous = ordering.update(stored, settle=indexed)
        view[0] = run
        if update.reset:
            facts.reset()
            post(ReaderReset(run, update.notice))
            posted = None
        elif previous is not None:  # steps already shown moved (a parent arrived late)
            facts.reset()
            post(ReaderReordered(run, previous))
            posted = None
        if update.changed:
            if facts.count:  # nothing scanned (a reset, a reorder): nothing to re-read
                changed = update.changed
                if isinstance(run, OrderedRun):
                    changed = tuple(run.position_of(i) for i in changed if i < len(run))
                facts.refresh(run, changed)
            posted = None
        for notice in (update.notice, *update.notices):
            if notice and not update.reset:
                post(ReaderNotice(notice))
        facts.scan(run, chunk=FIRST_SCAN_CHUNK if facts.count == 0 else SCAN_CHUNK)
        flush()
        caught_up = indexed and facts.count >= len(run)
        if not caught_up:
            continue
        if not follow:
            flush(force=True)
            return
        pending = state() != posted
        source.wait(max(0.001, interval - (clock() - last_post)) if pending else FOLLOW_WAIT)
