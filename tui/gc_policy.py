"""Keep garbage collection out of key presses: collect young objects often, everything when idle.

A full collection walks every container object the process holds; with Textual's widgets and
caches that is tens of thousands of objects and, on a small machine, a 50-150 ms pause that
lands on whatever key press happens to trigger it. While the app runs, :class:`IdleCollector`
turns automatic collection off, collects the young generations on a short timer (cheap), and
does the full collection only after the user has been idle for a moment, then freezes the
survivors (``gc.freeze``) so later full collections only walk what is new. Objects without
reference cycles are freed by reference counting as always; on exit the previous GC state is
restored.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

#: Collect the young generations when this many new objects are pending.
YOUNG_LIMIT = 20_000
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
        self._was_enabled = gc.isenabled()
        self._active = False

    def start(self) -> None:
        """Take over from automatic collection."""
        if not self._active:
            self._was_enabled = gc.isenabled()
            gc.disable()
            self._active = True

    def stop(self) -> None:
        """Give collection back to Python (and unfreeze what was frozen)."""
        if self._active:
            self._active = False
            gc.unfreeze()
            if self._was_enabled:
                gc.enable()

    def note_input(self) -> None:
        """The user pressed a key or used the mouse."""
        self._last_input = self._last_press = self._clock()

    def input_within(self, seconds: float) -> bool:
        """Whether the user pressed a key or used the mouse in the last ``seconds`` (safe to
        ask from another thread: it reads one float)."""
        return self._clock() - self._last_press < seconds

    def tick(self) -> None:
        """Called on a short timer: young collections now, a full one when idle."""
        if not self._active:
            return
        now = self._clock()
        if now - self._last_input >= IDLE_SECONDS and now - self._last_full >= FULL_EVERY:
            gc.collect()
            gc.freeze()
            self._last_full = now
        elif gc.get_count()[0] >= YOUNG_LIMIT:
            gc.collect(1)
