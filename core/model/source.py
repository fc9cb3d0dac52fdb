"""The contract between reading a trace and viewing it: :class:`TraceSource`, :class:`SourceUpdate`.

The viewer (the screen's reader worker, plain ``tail``) calls ``update`` from a worker thread
until it reports ``complete``, then, when following a live file, calls ``wait`` and ``update``
again. Each update says what changed, so the view redraws only that. The indexed reader
(:class:`~trace_tui.core.index.indexer.IndexedSource`) and the whole-document reader
(:class:`~trace_tui.core.reading.source.SnapshotSource`) implement it;
:func:`~trace_tui.core.reading.source.open_source` decides which one a path gets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from trace_tui.core.model.run import RunView


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
