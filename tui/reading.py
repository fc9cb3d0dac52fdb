"""The reader loop run by the screen's worker thread: update, scan, post batched messages.

:func:`pump_source` calls ``source.update()`` until the file is read (then returns, or with
``follow`` waits with ``source.wait`` and goes on), feeds new rows to
:class:`~trace_tui.core.run_facts.RunFacts`, and posts :mod:`trace_tui.tui.messages` at most
once per ``interval`` while steps pour in, so the UI redraws in batches. It is a plain
function so tests can drive it without an app.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.message import Message

from trace_tui.core.run_facts import RunFacts
from trace_tui.core.source import TraceSource
from trace_tui.tui.messages import ReaderNotice, ReaderProgress, ReaderReset

#: Longest a live tail sleeps between checks when nothing is pending.
FOLLOW_WAIT = 0.25


def pump_source(
    source: TraceSource,
    facts: RunFacts,
    *,
    follow: bool,
    post: Callable[[Message], object],
    cancelled: Callable[[], bool],
    interval: float = 0.05,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Read ``source`` into ``facts`` and post progress until done (or cancelled, if following)."""
    last_post = float("-inf")
    posted = (-1, False)
    progress, complete = 0.0, False

    def flush(force: bool = False) -> None:
        nonlocal last_post, posted
        state = (facts.count, complete)
        if state == posted and not force:
            return
        if force or clock() - last_post >= interval:
            post(ReaderProgress(source.run, facts.count, progress=progress, complete=complete))
            last_post, posted = clock(), state

    while not cancelled():
        update = source.update()
        run = source.run
        progress, complete = update.progress, update.complete
        if update.reset:
            facts.reset()
            post(ReaderReset(run, update.notice))
            posted = (-1, False)
        if update.changed:
            facts.refresh(run, update.changed)
            posted = (-1, posted[1])
        for notice in (update.notice, *update.notices):
            if notice and not update.reset:
                post(ReaderNotice(notice))
        while not cancelled() and facts.scan(run):
            flush(force=posted[0] < 0)
        if not update.complete:
            flush()
            continue
        if not follow:
            flush(force=True)
            return
        flush()
        pending = (facts.count, complete) != posted
        source.wait(max(0.001, interval - (clock() - last_post)) if pending else FOLLOW_WAIT)
