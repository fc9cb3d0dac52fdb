"""Keep garbage collection out of key presses: small young collections, everything when idle.

A full collection walks every container object the process holds; with Textual's widgets and
caches that is tens of thousands of objects and, on a small machine, a 50-150 ms pause that
lands on whatever key press happens to trigger it. Young collections cost in proportion to
what they collect, and a key press makes a lot to collect: every line Textual draws is a
``Strip`` that refers to itself through its own caches, so it is freed only by the collector
(about 2,000 such objects per ``G`` on a 120x36 screen). Collected in one lump of 20,000 objects
that was a 10-40 ms pause of CPU (twice that in wall time on a loaded machine) on one press in
ten.

So while the app runs, :class:`IdleCollector` lets Python collect the young generations
automatically in small batches (a millisecond or two, spread over the presses that made the
garbage), never lets it start a full collection on its own, and does the full collection only
after the user has been idle for a moment, then freezes the survivors (``gc.freeze``) so later
full collections only walk what is new. On exit the previous GC state is restored.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

#: Automatic young collections: generation 0 at this many new objects, generation 1 every
#: ``YOUNG_ROUNDS`` of those. Small batches: each costs about a millisecond.
YOUNG_LIMIT = 2_000
YOUNG_ROUNDS = 5
#: Generation 2 never starts by itself (CPython counts generation-1 collections up to this).
NEVER = 1 << 30
#: A full collection waits until no input came for this long ...
IDLE_SECONDS = 1.5
#: ... and happens at most this often.
FULL_EVERY = 10.0


class IdleCollector:
    """Garbage collection driven by the app's idle time instead of allocation counts."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_input = clock()
        self._last_press = float("-inf")  # no key or mouse press yet
        self._last_full = clock()
        self._previous: tuple[bool, tuple[int, int, int]] | None = None

    def start(self) -> None:
        """Take over from Python's own schedule of collections."""
        if self._previous is None:
            self._previous = (gc.isenabled(), gc.get_threshold())
            gc.set_threshold(YOUNG_LIMIT, YOUNG_ROUNDS, NEVER)
            gc.enable()

    def stop(self) -> None:
        """Give collection back to Python (and unfreeze what was frozen)."""
        if self._previous is not None:
            enabled, threshold = self._previous
            self._previous = None
            gc.unfreeze()
            gc.set_threshold(*threshold)
            if not enabled:
                gc.disable()

    def note_input(self) -> None:
        """The user pressed a key or used the mouse."""
        self._last_input = self._last_press = self._clock()

    def input_within(self, seconds: float) -> bool:
        """Whether the user pressed a key or used the mouse in the last ``seconds`` (safe to
        ask from another thread: it reads one float)."""
        return self._clock() - self._last_press < seconds

    def tick(self) -> None:
        """Called on a short timer: a full collection when the user is idle."""
        if self._previous is None:
            return
        now = self._clock()
        if now - self._last_input >= IDLE_SECONDS and now - self._last_full >= FULL_EVERY:
            gc.collect()
            gc.freeze()
            self._last_full = now
