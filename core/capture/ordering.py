"""Concurrent replayed calls get their answers in the order the recording completed them.

An agent that fans out model calls (``asyncio.gather``, ``as_completed``, a task group) saw
them finish in some order, and its code may depend on it (the first answer wins, results are
appended as they come). In a replay every answer is ready at once, so without care they would
all come back in the order they were asked.

:class:`CompletionGate` holds an answer back while a recorded call that overlapped it in time
and finished before it has not been answered yet. Nothing real is awaited in a replay, so the
other tasks of a fan-out reach the transport within a few turns of the event loop; if a call
the recording had is never made (the agent changed), the earliest-finishing waiter stops
waiting after :data:`IDLE_TURNS` turns in which nothing happened, so a replay cannot hang.
"""

from __future__ import annotations

import asyncio
import threading

from trace_tui.core.model.run import Step

#: Event-loop turns with no new request and no answer before a waiter stops waiting.
IDLE_TURNS = 200


class CompletionGate:
    """Releases replayed answers in the recorded completion order (asyncio only)."""

    def __init__(self) -> None:
        self._released: set[int] = set()
        self._waiting: dict[int, Step] = {}
        self._version = 0
        self._lock = threading.Lock()
        self._steps: list[Step] = []

    def know(self, steps: list[Step]) -> None:
        """The recorded model steps, whose times define the order."""
        self._steps = [s for s in steps if s.start_time is not None and s.end_time is not None]

    def predecessors(self, step: Step) -> list[Step]:
        """Recorded calls that ran alongside ``step`` and finished before it."""
        if step.start_time is None or step.end_time is None:
            return []
        return [
            p
            for p in self._steps
            if p is not step
            and p.end_time is not None
            and p.start_time is not None
            and p.start_time < step.end_time
            and step.start_time < p.end_time < step.end_time
        ]

    async def wait(self, step: Step) -> None:
        """Return when ``step``'s answer may be delivered."""
        before = [p.index for p in self.predecessors(step)]
        if not before:
            return
        with self._lock:
            self._waiting[step.index] = step
            self._version += 1
        seen, idle = -1, 0
        try:
            while any(i not in self._released for i in before):
                await asyncio.sleep(0)
                if self._version != seen:
                    seen, idle = self._version, 0
                    continue
                idle += 1
                if idle > IDLE_TURNS and self._first_waiting(step):
                    return
        finally:
            with self._lock:
                self._waiting.pop(step.index, None)
                self._version += 1

    def release(self, step: Step) -> None:
        """``step``'s answer has been delivered."""
        with self._lock:
            self._released.add(step.index)
            self._version += 1

    def _first_waiting(self, step: Step) -> bool:
        with self._lock:
            ends = [s.end_time or 0.0 for s in self._waiting.values()]
        return (step.end_time or 0.0) <= min(ends, default=0.0)
