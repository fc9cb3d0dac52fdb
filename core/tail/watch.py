"""Wake a tail reader when its file may have changed: watchfiles as a hint, a timer as the truth.

File-change events are only a hint. watchfiles' defaults do not suit a tail (a 1.6 s debounce,
and a default filter that hides ``.venv``, ``*.swp`` and more), so :class:`ChangeWaiter` passes a
small debounce and its own filter (exactly the watched file's name, in its directory, so
rotation and re-creation are seen too). On NFS, SSHFS or with inotify watches exhausted no
events arrive at all, so :meth:`ChangeWaiter.wait` never sleeps longer than ``poll_interval``:
the caller's ``stat`` check then finds what changed.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

#: Longest sleep between two looks at the file when no event arrives.
POLL_INTERVAL = 0.1
#: watchfiles groups events over this many milliseconds before waking us.
DEBOUNCE_MS = 10
_STEP_MS = 5
_RETRY_SECONDS = 2.0


class ChangeWaiter:
    """Blocks until the watched path may have changed, or a short poll interval passes."""

    def __init__(
        self, path: Path, *, poll_interval: float = POLL_INTERVAL, use_events: bool = True
    ) -> None:
        self.path = path
        self.poll_interval = poll_interval
        self.use_events = use_events
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_start = 0.0
        self.watching = False

    def wait(self, timeout: float) -> bool:
        """Sleep until an event for the path or ``min(timeout, poll_interval)``; True on event."""
        if self.use_events:
            self._ensure_watcher()
        fired = self._changed.wait(max(0.0, min(timeout, self.poll_interval)))
        self._changed.clear()
        return fired

    def close(self) -> None:
        """Stop the watcher thread (it notices within a few milliseconds)."""
        self._stop.set()
        self._changed.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            if self._thread.is_alive():
                log.warning("file watcher for %s did not stop in time", self.path)

    def accepts(self, _change: object, changed_path: str) -> bool:
        """Our own watchfiles filter: only events about the watched file's name."""
        return Path(changed_path).name == self.path.name

    def _ensure_watcher(self) -> None:
        if self._stop.is_set() or (self._thread is not None and self._thread.is_alive()):
            return
        now = time.monotonic()
        if now - self._last_start < _RETRY_SECONDS:
            return
        self._last_start = now
        self._thread = threading.Thread(
            target=self._watch, name=f"trace-tui watch {self.path.name}", daemon=True
        )
        self._thread.start()

    def _watch(self) -> None:
        directory = self.path.parent if str(self.path.parent) else Path(".")
        try:
            from watchfiles import watch

            self.watching = True
            for _changes in watch(
                directory,
                watch_filter=self.accepts,
                debounce=DEBOUNCE_MS,
                step=_STEP_MS,
                stop_event=self._stop,
                recursive=False,
                raise_interrupt=False,
                rust_timeout=500,
                yield_on_timeout=False,
            ):
                self._changed.set()
        except Exception as exc:  # no events is survivable: the poll interval takes over
            log.warning(
                "file events for %s unavailable (%s); checking every %.2f s instead",
                self.path,
                exc,
                self.poll_interval,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
        finally:
            self.watching = False
