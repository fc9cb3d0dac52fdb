"""Which reader a trace path gets, decided in one place: :func:`open_source`.

The screen and plain ``tail`` read a trace through a
:class:`~trace_tui.core.model.source.TraceSource` (the contract, in ``core/model/source.py``).
:func:`open_source` checks the path, settles the format once (named by the user, or detected
from the file's head; for a followed file that does not exist yet, from its first line) and
picks the implementation: the indexed reader
(:class:`~trace_tui.core.index.indexer.IndexedSource`) for every format that streams line by
line, :class:`SnapshotSource` for whole-document formats, which have to be read whole anyway
and are re-read when the file changes. Nothing below this module chooses a reader.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from trace_tui.core.formats import FormatError, format_by_name
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.io.trace_path import TraceOpenError, check_trace_path
from trace_tui.core.model.run import Run
from trace_tui.core.model.source import SourceUpdate, TraceSource
from trace_tui.core.reading.reader import open_run, resolve_format


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
