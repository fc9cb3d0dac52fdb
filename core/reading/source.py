"""A trace file as a live source of steps: what the screen and plain tail read from.

:class:`TraceSource` is the contract between reading and viewing. The viewer calls ``update``
from a worker thread until it reports ``complete``, then, when following a live file, calls
``wait`` and ``update`` again. Each update says what changed, so the view redraws only that.

:func:`open_source` picks the implementation. The indexed reader (``core/index/indexer.py``) serves
every format that streams; :class:`SnapshotSource` serves whole-document formats, which have
to be read whole anyway, and re-reads them when the file changes.
"""

from __future__ import annotations

import os
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from trace_tui.core.model.run import Run, RunView
from trace_tui.core.reading.reader import TraceOpenError, check_trace_path, open_run, resolve_format


@dataclass(frozen=True, slots=True)
class SourceUpdate:
    """What one call to :meth:`TraceSource.update` changed.

    ``added`` steps were appended; ``changed`` holds indices of steps updated in place (a span's
    end arrived); ``reset`` means the file was truncated or replaced and every index the view
    holds is stale; ``notice`` is one line for the user (truncated, rotated, waiting, skipped
    lines); ``complete`` means the source has caught up with the end of the file.
    """

    added: int = 0
    changed: tuple[int, ...] = ()
    reset: bool = False
    notice: str | None = None
    complete: bool = True
    progress: float = 1.0
    notices: tuple[str, ...] = field(default=())

    @property
    def anything(self) -> bool:
        """True when the view has something to redraw or show."""
        return bool(self.added or self.changed or self.reset or self.notice)


class TraceSource(Protocol):
    """A trace being read (and maybe still written); ``run`` grows as ``update`` is called."""

    path: Path
    format_name: str

    @property
    def run(self) -> RunView:
        """The steps read so far (read-only here: each source keeps its own kind of run)."""
        ...

    def update(self) -> SourceUpdate:
        """Read what is new (a bounded amount); safe to call from a worker thread."""
        ...

    def wait(self, timeout: float) -> None:
        """Block until the file may have changed, or ``timeout`` seconds pass."""
        ...

    def close(self) -> None:
        """Release file handles and watchers."""
        ...


class SnapshotSource:
    """Reads the whole file into an in-memory :class:`Run`; re-reads it when it changes.

    Right for whole-document formats (one JSON object, a zip), where the whole file must be
    parsed anyway. A change of size or modification time triggers a full re-read (``reset``).
    """

    def __init__(self, path: Path, format_name: str | None = None) -> None:
        self.path = path
        self._format_arg = format_name
        self.format_name = resolve_format(path, format_name).name
        self.run: Run = Run(path=str(path), format_name=self.format_name)
        self._stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def update(self) -> SourceUpdate:
        """Read the file if it is new or changed since the last read."""
        try:
            info = check_trace_path(self.path)
        except TraceOpenError as exc:
            return SourceUpdate(notice=str(exc))
        stamp = (info.st_size, info.st_mtime_ns)
        if stamp == self._stamp:
            return SourceUpdate()
        with self._lock:
            first = self._stamp is None
            before = len(self.run)
            self.run = open_run(self.path, self._format_arg)
            self._stamp = stamp
        if first:
            return SourceUpdate(added=len(self.run))
        return SourceUpdate(
            added=max(0, len(self.run) - before),
            reset=True,
            notice=f"{self.path.name} changed on disk; re-read it",
        )

    def wait(self, timeout: float) -> None:
        """Poll-free wait: sleep until the timeout (whole documents change rarely)."""
        threading.Event().wait(timeout)

    def close(self) -> None:
        """Nothing to release."""


def open_source(
    path: str | os.PathLike[str], format_name: str | None = None, *, follow: bool = False
) -> TraceSource:
    """The right :class:`TraceSource` for ``path`` (raises :class:`TraceOpenError`).

    With ``follow`` a path that does not exist yet, is still empty, or holds only the start of
    its first line (an agent that has just started writing) is waited for: the format is
    detected when its first complete line arrives.
    """
    from trace_tui.core.formats import FormatError, format_by_name
    from trace_tui.core.index.indexer import IndexedSource

    path = Path(path)
    if follow and _not_there_yet(path):
        try:
            fmt = format_by_name(format_name) if format_name else None
        except FormatError as exc:
            raise TraceOpenError(str(exc)) from None
        return IndexedSource(path, fmt, follow=True)
    fmt = resolve_format(path, format_name)
    if fmt.line_oriented:
        return IndexedSource(path, fmt, follow=follow)
    return SnapshotSource(path, fmt.name)


#: A first line still being written is waited for up to this size; a longer one is detected.
FIRST_LINE_WAIT_BYTES = 1024 * 1024


def _not_there_yet(path: Path) -> bool:
    """True for a path that does not exist, or a regular file without a complete line yet
    (empty, or only part of a first line of at most :data:`FIRST_LINE_WAIT_BYTES`)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    if not stat.S_ISREG(info.st_mode) or info.st_size > FIRST_LINE_WAIT_BYTES:
        return False
    if info.st_size == 0:
        return True
    try:
        with open(path, "rb") as stream:  # a regular file: never blocks
            head = stream.read(FIRST_LINE_WAIT_BYTES)
    except OSError:
        return False
    return b"\n" not in head
