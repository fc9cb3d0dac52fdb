"""The spill is flushed by the screen's thread (a view reads a step) while the reader appends:
an append during that write waits for it (a write exports the buffer, which then cannot grow),
and every record reads back as it was written."""

from __future__ import annotations

import threading
from typing import Any

from trace_tui.core.index.store import SpillFile, read_spilled


class _SlowFile:
    """The spill's file, whose write holds the buffer (as a system call does) for a while."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.writing = threading.Event()

    def write(self, data: Any) -> int:
        view = memoryview(data)
        try:
            self.writing.set()
            threading.Event().wait(0.3)
            return int(self.inner.write(view))
        finally:
            view.release()

    def fileno(self) -> int:
        return int(self.inner.fileno())


def test_an_append_waits_for_a_flush_from_another_thread() -> None:
    spill = SpillFile()
    slow = _SlowFile(spill._file)
    spill._file = slow
    first = {"type": "span", "span_id": "a", "attributes": {}}
    second = {"type": "span", "span_id": "b", "attributes": {"x": "y" * 100}}
    places = [spill.append(0, 1, first)]
    flusher = threading.Thread(target=spill.flush)
    flusher.start()
    assert slow.writing.wait(5)
    places.append(spill.append(10, 2, second))  # while the screen's flush writes
    flusher.join()
    spill.flush()
    assert [read_spilled(spill.fd, at, n)[2] for at, n in places] == [first, second]
