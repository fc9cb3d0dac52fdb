"""A helper process that decodes part of each chunk of a big native trace, on a second core.

:func:`trace_tui.core.index_fast.decode_chunk` needs no index state, so while the indexing
thread decodes the first part of a chunk itself, a helper process decodes the rest and sends
back a :class:`~trace_tui.core.index_fast.DecodedChunk` (plain lists and arrays; span ids as
strings, so the two processes' different string hashes never meet). The indexing thread merges
both parts in file order; the result is exactly what one process would have produced. A part
the helper declines (or a helper that died) is simply decoded again locally.

The helper is a ``spawn``-ed process (never ``fork``: the app indexes from a worker thread),
started only for files with a lot left to read and stopped once the reader has caught up.

It is **off by default** (opt in with ``IndexedSource(..., workers=1)`` or the environment
variable ``TRACE_TUI_INDEX_WORKERS=1``): on the shared 2-core benchmark machine the two
processes competed with other work and with each other for memory bandwidth, and indexing
with the helper was no faster, often slower (``bench/RESULTS.md``). ``spawn`` also re-imports
the program's ``__main__`` module in the helper, so a script must keep its top-level code
under ``if __name__ == "__main__":`` to use it.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from trace_tui.core import index_fast
from trace_tui.core.index_fast import DecodedChunk

log = logging.getLogger(__name__)

#: Start a helper only when at least this much of the file is left to index.
PARALLEL_MIN_BYTES = 32 * 1024 * 1024
#: Split only chunks at least this big (smaller ones cost more to ship than to decode).
PARALLEL_MIN_CHUNK = 512 * 1024
#: The share of each chunk the helper decodes (the indexing thread also merges everything).
HELPER_SHARE = 0.55


def default_workers() -> int:
    """Helpers to use when the caller does not say: ``TRACE_TUI_INDEX_WORKERS`` (0 or 1), else 0.

    A helper is never used on a single core or without msgspec.
    """
    try:
        wanted = int(os.environ.get("TRACE_TUI_INDEX_WORKERS", "0"))
    except ValueError:
        log.warning("TRACE_TUI_INDEX_WORKERS must be 0 or 1; indexing in one process")
        wanted = 0
    return min(wanted, 1) if (os.cpu_count() or 1) >= 2 and index_fast.AVAILABLE else 0


class ChunkHelper:
    """One helper process; :meth:`submit` ships bytes, :meth:`result` gets columns back."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn")
        )
        self._booted = self._pool.submit(_warm_up)  # boots while this process indexes alone

    @property
    def alive(self) -> bool:
        """False once the helper has been stopped or has failed."""
        return self._pool is not None

    @property
    def ready(self) -> bool:
        """True once the helper process has started (until then, never wait for it)."""
        return self._pool is not None and self._booted.done()

    def submit(self, data: bytes, offset: int, line: int) -> Future[DecodedChunk | None] | None:
        """Start decoding ``data`` (complete lines at ``offset``) in the helper."""
        if self._pool is None:
            return None
        try:
            return self._pool.submit(index_fast.decode_chunk, data, offset, line)
        except (BrokenProcessPool, RuntimeError) as exc:
            self._failed(exc)
            return None

    def result(self, future: Future[DecodedChunk | None] | None) -> DecodedChunk | None:
        """The helper's columns, or ``None`` (declined, or the helper failed)."""
        if future is None:
            return None
        try:
            return future.result()
        except Exception as exc:  # a dead helper must not stop indexing: decode locally
            self._failed(exc)
            return None

    def close(self) -> None:
        """Stop the helper (pending work is dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _failed(self, exc: BaseException) -> None:
        log.warning("the indexing helper process failed (%s); indexing goes on alone", exc)
        self.close()


def split_point(data: bytes) -> int:
    """Where to cut ``data`` (ends with a newline) so the helper gets about its share; 0: don't."""
    if len(data) < PARALLEL_MIN_CHUNK:
        return 0
    cut = data.find(b"\n", int(len(data) * (1 - HELPER_SHARE)), len(data) - 1)
    return cut + 1 if cut >= 0 else 0


def _warm_up() -> bool:
    return index_fast.AVAILABLE
