"""The line writer behind a capture: one native record per line, flushed as it is written.

A capture writes a live trace that ``trace-tui tail`` follows while the agent runs, so each
record goes out as one complete line with one ``os.write`` on an ``O_APPEND`` descriptor (no
user-space buffer to flush, no half line for a reader to see). Writes from several threads or
asyncio tasks are serialised by a lock.

By default each record is masked and written on the caller's thread, before the call goes
on. With ``background=True`` a writer thread does the masking and the writing: the caller only
serialises the record (so what is written is the state at that moment) and queues it; the
line reaches the file a moment later, in order. :meth:`TraceWriter.close` (and interpreter
exit) writes what is still queued; only a killed process can lose the last few records. It
takes work off the agent's thread while it waits on the network, but on a busy machine the
hand-over between threads can cost more than it saves (``bench/RESULTS.md``).

Secrets are masked before a record is written (the viewer's rules,
:mod:`trace_tui.core.text.redact`), unless the caller opted out.

**Capture never breaks the agent.** Any failure to serialise or write (disk full, a closed
descriptor, a value JSON cannot hold) becomes one :class:`CaptureWarning` and one log line,
the writer stops writing, and the agent goes on.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import orjson

from trace_tui.core.io.atomic import TEMP_PREFIX, TEMP_SUFFIX
from trace_tui.core.text.redact import Redactor

log = logging.getLogger(__name__)


class CaptureWarning(UserWarning):
    """Capture could not write its trace; the agent goes on without it."""


def _default(value: Any) -> Any:
    """JSON for values orjson does not know: sets as lists, anything else as its ``repr``."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


def dumps(record: dict[str, Any]) -> bytes:
    """One record as a JSON line (standard JSON: NaN and infinities become ``null``)."""
    return orjson.dumps(record, default=_default, option=orjson.OPT_NON_STR_KEYS) + b"\n"


class TraceWriter:
    """Appends records to a new trace file; thread-safe; fails once, quietly after that.

    The file is created fresh: the first record is written to a temporary file in the same
    folder, which then replaces ``path``. A reader following ``path`` (``trace-tui tail``)
    sees the old run rotated away and the new one appear, never a mix of both.
    """

    def __init__(
        self, path: str | os.PathLike[str], redactor: Redactor, *, background: bool = False
    ) -> None:
        self.path = Path(path)
        self.redactor = redactor
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._failed = False
        self.records_written = 0
        self._queue: queue.SimpleQueue[tuple[bytes, bool] | None] | None = None
        self._thread: threading.Thread | None = None
        if background:
            self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(
                target=self._drain, name=f"trace-tui capture {self.path.name}", daemon=True
            )

    @property
    def failed(self) -> bool:
        """True once a write failed (the capture has stopped writing)."""
        return self._failed

    def open(self, first: dict[str, Any]) -> None:
        """Create the file with ``first`` (the ``run`` record) as its first line."""
        try:
            line = dumps(self.redactor.value(first))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(
                dir=self.path.parent, prefix=f"{TEMP_PREFIX}{self.path.name}.", suffix=TEMP_SUFFIX
            )
            try:
                os.write(fd, line)
                os.replace(temp, self.path)
            except BaseException:
                os.close(fd)
                Path(temp).unlink(missing_ok=True)
                raise
            # Appends must land at the end even if someone else appends too.
            os.close(fd)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            self.records_written = 1
            if self._thread is not None:
                self._thread.start()
                atexit.register(self.close)
        except Exception as exc:  # noqa: BLE001 - capture must never break the agent
            self._fail(exc)

    def write(self, record: dict[str, Any], *, masked: bool = False) -> None:
        """Append one record, masked; a failure disables the writer (one warning).

        ``masked=True``: the caller built the record from values it had already passed through
        :attr:`redactor` (a model call's bodies), so it is not walked again.

        In the background mode the record is serialised here, at once, so later
        changes to the objects it holds do not change what is written, and masked and written
        by the writer thread a moment later, off the agent's path.
        """
        if self._failed or self._fd is None:
            return
        try:
            if self._queue is not None:
                self._queue.put((dumps(record), masked))
            else:
                self._append(dumps(record) if masked else self._masked(record))
        except Exception as exc:  # noqa: BLE001 - capture must never break the agent
            self._fail(exc)

    def _masked(self, record: dict[str, Any]) -> bytes:
        return dumps(self.redactor.value(record) if self.redactor.enabled else record)

    def _append(self, line: bytes) -> None:
        with self._lock:
            if self._fd is None:
                return
            view = memoryview(line)
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
            self.records_written += 1

    def _drain(self) -> None:
        assert self._queue is not None
        while (item := self._queue.get()) is not None:
            if self._failed:
                continue
            raw, masked = item
            try:
                mask = self.redactor.enabled and not masked
                line = self._masked(orjson.loads(raw)) if mask else raw
                self._append(line)
            except Exception as exc:  # noqa: BLE001 - capture must never break the agent
                self._fail(exc)

    def close(self) -> None:
        """Write what is queued, then close the file (idempotent)."""
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            assert self._queue is not None
            self._queue.put(None)
            thread.join()
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError as exc:
                log.debug("closing %s: %s", self.path, exc)

    def _fail(self, exc: Exception) -> None:
        with self._lock:
            if self._failed:
                return
            self._failed = True
        message = (
            f"trace-tui capture stopped writing {self.path}: {type(exc).__name__}: {exc}; "
            "the agent goes on without a trace"
        )
        log.warning(message, exc_info=True)
        warnings.warn(message, CaptureWarning, stacklevel=3)
        self.close()
