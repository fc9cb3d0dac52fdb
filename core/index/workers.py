"""A helper process that decodes part of each chunk of a big native trace, on a second core.

:func:`trace_tui.core.index.fast.decode_chunk` needs no index state, so while the indexing
thread decodes the first part of a chunk itself, a helper process decodes the rest and sends
back a :class:`~trace_tui.core.index.fast.DecodedChunk` (plain lists and arrays; span ids as
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
import os
from typing import TYPE_CHECKING, Any

from trace_tui.core.index import fast as index_fast
from trace_tui.core.index.fast import DecodedChunk

if TYPE_CHECKING:  # multiprocessing is imported only when a helper starts (~30 ms)
    from multiprocessing import shared_memory
    from multiprocessing.connection import Connection

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
    """One helper process; :meth:`submit` hands it a chunk, :meth:`result` gets columns back.

    The chunk goes through shared memory (one copy, no pickling) and only its name, size and
    position through a pipe; the columns come back pickled through that pipe. Both ends of
    the pipe are used by the indexing thread itself: no extra threads in this process, so no
    thread ever waits for the GIL while the indexing thread decodes.
    """

    def __init__(self) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process: Any = context.Process(
            target=serve, args=(child,), name="trace-tui-index-helper", daemon=True
        )
        self._process.start()
        child.close()
        self._shm: shared_memory.SharedMemory | None = None
        self._ready = False

    @property
    def alive(self) -> bool:
        """False once the helper has been stopped or has failed."""
        return self._process is not None

    @property
    def ready(self) -> bool:
        """True once the helper process has started (until then, never wait for it)."""
        if self._process is not None and not self._ready:
            try:
                self._ready = self._conn.poll() and self._conn.recv() == "ready"
            except (EOFError, OSError) as exc:
                self._failed(exc)
        return self._process is not None and self._ready

    def wait_ready(self, timeout: float) -> bool:
        """Block until the helper has started (at most ``timeout`` seconds); for tests."""
        if self._process is not None and not self._ready:
            self._conn.poll(timeout)
        return self.ready

    def submit(self, data: bytes, offset: int, line: int) -> bool:
        """Start decoding ``data`` (complete lines at ``offset``); False if not sent."""
        if not self.ready:
            return False
        try:
            shm = self._buffer(len(data))
            buf = shm.buf
            assert buf is not None
            buf[: len(data)] = data
            self._conn.send((shm.name, len(data), offset, line))
        except (OSError, ValueError) as exc:
            self._failed(exc)
            return False
        return True

    def result(self, sent: bool) -> DecodedChunk | None:
        """The helper's columns for the chunk just sent, or ``None`` (declined, or failed)."""
        if not sent or self._process is None:
            return None
        try:
            chunk: DecodedChunk | None = self._conn.recv()
        except Exception as exc:  # a dead helper must not stop indexing: decode locally
            self._failed(exc)
            return None
        return chunk

    def close(self) -> None:
        """Stop the helper and free the shared memory."""
        process, self._process = self._process, None
        if process is not None:
            try:
                self._conn.send(None)
            except OSError:
                pass
            process.join(timeout=2)
            if process.is_alive():
                process.terminate()
            self._conn.close()
        if self._shm is not None:
            self._shm.close()
            self._shm.unlink()
            self._shm = None

    def _buffer(self, size: int) -> shared_memory.SharedMemory:
        from multiprocessing import shared_memory

        if self._shm is None or self._shm.size < size:
            if self._shm is not None:
                self._shm.close()
                self._shm.unlink()
            self._shm = shared_memory.SharedMemory(create=True, size=max(size, 8 << 20))
        return self._shm

    def _failed(self, exc: BaseException) -> None:
        log.warning("the indexing helper process failed (%s); indexing goes on alone", exc)
        self.close()


def serve(conn: Connection) -> None:
    """The helper's loop: decode each chunk named on ``conn`` until told to stop."""
    from multiprocessing import shared_memory

    conn.send("ready")
    attached: dict[str, shared_memory.SharedMemory] = {}
    try:
        while (request := conn.recv()) is not None:
            name, size, offset, line = request
            shm = attached.get(name)
            if shm is None:
                # (the resource tracker is the creator's: it unlinks at the end, not us)
                shm = attached[name] = shared_memory.SharedMemory(name=name)
            assert shm.buf is not None
            conn.send(index_fast.decode_chunk(bytes(shm.buf[:size]), offset, line))
    except (EOFError, OSError):
        pass  # the indexing process went away
    finally:
        for shm in attached.values():
            shm.close()


def split_point(data: bytes) -> int:
    """Where to cut ``data`` (ends with a newline) so the helper gets about its share; 0: don't."""
    if len(data) < PARALLEL_MIN_CHUNK:
        return 0
    cut = data.find(b"\n", int(len(data) * (1 - HELPER_SHARE)), len(data) - 1)
    return cut + 1 if cut >= 0 else 0
