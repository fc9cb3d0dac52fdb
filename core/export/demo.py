"""``trace-tui demo``: play a built-in sample into a new file, a line at a time, and follow it.

The writer keeps the pace at which the recorded run happened (gaps clamped so the demo is
watchable), which is exactly what an agent writing its trace looks like to ``tail``.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import orjson

from trace_tui.core.errors import BadValue
from trace_tui.core.model.times import epoch_of

MIN_GAP_S = 0.05
MAX_GAP_S = 1.5


def sample_names() -> list[str]:
    """Names of the built-in samples (file stems)."""
    folder = resources.files("trace_tui").joinpath("sample_traces")
    return sorted(p.name[:-6] for p in folder.iterdir() if p.name.endswith(".jsonl"))


def sample_path(name: str) -> Path:
    """The path of a built-in sample; ``ValueError`` names the choices when unknown."""
    if name not in sample_names():
        raise BadValue(f"no sample called {name!r}; choose from: {', '.join(sample_names())}")
    return Path(str(resources.files("trace_tui").joinpath("sample_traces", f"{name}.jsonl")))


def paced_lines(source: Path, speed: float) -> Iterator[tuple[float, bytes]]:
    """Each line of ``source`` with the seconds to wait before writing it."""
    previous: float | None = None
    for line in source.read_bytes().splitlines(keepends=True):
        record = orjson.loads(line)
        stamp = epoch_of(
            record.get("end_time")
            if record.get("type") == "span_end"
            else record.get("start_time") or record.get("started_at")
        )
        gap = 0.0 if previous is None or stamp is None else (stamp - previous) / max(speed, 0.01)
        previous = stamp if stamp is not None else previous
        yield min(MAX_GAP_S / max(speed, 0.01), max(MIN_GAP_S / max(speed, 0.01), gap)), line


class DemoWriter(threading.Thread):
    """Appends a sample to ``target`` line by line in the background until done or stopped."""

    def __init__(self, source: Path, target: Path, speed: float = 1.0) -> None:
        super().__init__(name="trace-tui-demo-writer", daemon=True)
        self.source, self.target, self.speed = source, target, speed
        self.stop_event = threading.Event()
        self.finished = threading.Event()

    def run(self) -> None:
        """Write each line after its pause; flush so a reader sees whole lines only."""
        try:
            with open(self.target, "ab") as out:
                for delay, line in paced_lines(self.source, self.speed):
                    if self.stop_event.wait(delay):
                        return
                    out.write(line)
                    out.flush()
        finally:
            self.finished.set()


def demo_target(output: str | None, name: str) -> Path:
    """Where the demo writes: the user's choice (must not exist yet) or a new temp file."""
    if output:
        path = Path(output)
        if path.exists():
            raise BadValue(f"{path}: already exists; the demo writes a new file")
        path.touch()
        return path
    fd, name_ = tempfile.mkstemp(prefix=f"trace-tui-demo-{name}-", suffix=".jsonl")
    os.close(fd)
    return Path(name_)
