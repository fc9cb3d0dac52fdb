"""Append received spans to OTLP JSON-lines files, durably, in the Collector file exporter's shape.

Each accepted export becomes one line ``{"resourceSpans": [...]}`` per target file, the shape
the Collector's ``file`` exporter writes, so ``open``, ``tail``, ``show`` and ``convert`` read
the files as they are. Files are split by day (``traces-2026-12-02.jsonl``, UTC), by service
(``traces-<service>-2026-12-02.jsonl``) or by trace (``trace-<trace id>.jsonl``, what the live
view uses: one run per file).

Durability: :meth:`SpanSpool.append` returns only after every line of the batch has been
handed to the OS (``write`` on an ``O_APPEND`` descriptor; ``fsync=True`` also syncs to disk),
so a batch acknowledged after it returns survives ``kill -9``. A crash in the middle of a
``write`` can leave the last line of a file cut; that line was never acknowledged, and the next
spool to open the file cuts it off (readers hold a partial last line back anyway). At
``max_file_bytes`` a file is rotated the way the Collector rotates: renamed to a timestamped
backup between two whole lines, and a new file is started under the name, so a follower
(``trace-tui tail``) drains the old file and moves on without losing a line.

One spool owns a folder: a second one on the same folder is refused (``SpoolBusy``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson

from trace_tui.core.receive.decode import ExportBatch, service_name

log = logging.getLogger(__name__)

Split = Literal["day", "service", "trace"]
SPLITS: tuple[Split, ...] = ("day", "service", "trace")
LOCK_NAME = ".trace-tui-receive.lock"
_OPEN_FILES = 64
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class SpoolBusy(Exception):
    """Another receiver is writing to this folder."""


@dataclass(slots=True)
class TraceEntry:
    """What the live view's run picker shows for one trace id."""

    trace_id: str
    path: Path
    service: str = ""
    root_name: str = ""
    spans: int = 0
    errors: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0


@dataclass(slots=True)
class SpoolStats:
    """Counters since the spool started (``traces``: per-trace spools only, for the run list)."""

    batches: int = 0
    spans: int = 0
    lines: int = 0
    bytes: int = 0
    rotations: int = 0
    traces: dict[str, TraceEntry] = field(default_factory=dict)


def safe_file_part(text: str, limit: int = 48) -> str:
    """``text`` as a file-name part: letters, digits, ``._-`` only, short, never a path."""
    cleaned = _SAFE.sub("_", text).strip("._") or "unknown"
    if cleaned != text or len(cleaned) > limit:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        cleaned = f"{cleaned[:limit]}-{digest}"
    return cleaned


class SpanSpool:
    """Writes export batches to files under one folder (see module doc). Thread-safe."""

    def __init__(self, directory: str | os.PathLike[str], *, split: Split = "day",
                 max_file_bytes: int = 256 * 1024 * 1024, fsync: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {', '.join(SPLITS)}")
        self.directory = Path(directory)
        self.split = split
        self.max_file_bytes = max_file_bytes
        self.fsync = fsync
        self.clock = clock
        self.stats = SpoolStats()
        self._lock = threading.Lock()
        self._files: OrderedDict[Path, tuple[int, int]] = OrderedDict()  # path -> (fd, size)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._owner = self._take_folder()

    # ----------------------------------------------------------------------- lifecycle
    def _take_folder(self) -> int:
        import fcntl

        lock_path = self.directory / LOCK_NAME
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SpoolBusy(f"another trace-tui receive is writing to {self.directory}") from None
        return fd

    def close(self) -> None:
        """Close every file and release the folder."""
        with self._lock:
            for fd, _size in self._files.values():
                os.close(fd)
            self._files.clear()
            if self._owner >= 0:
                os.close(self._owner)
                self._owner = -1

    def __enter__(self) -> SpanSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------- writing
    def append(self, batch: ExportBatch) -> list[Path]:
        """Write ``batch``; returns the files written. Raises ``OSError`` when it could not be."""
        now = self.clock()
        groups = list(self._groups(batch.resource_spans, now))
        with self._lock:
            written = []
            for path, resources in groups:
                line = orjson.dumps({"resourceSpans": resources}) + b"\n"
                self._write_line(path, line)
                written.append(path)
                self.stats.lines += 1
                self.stats.bytes += len(line)
            if self.fsync:
                for path in written:
                    os.fsync(self._files[path][0])
            self.stats.batches += 1
            self.stats.spans += batch.accepted
            if self.split == "trace":  # the live view's run list; a day or service spool
                self._note_traces(groups, now)  # on a fleet would grow with every trace id
        return written

    def _groups(self, resources: list[dict[str, Any]], now: float
                ) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
        day = time.strftime("%Y-%m-%d", time.gmtime(now))
        if self.split == "day":
            yield self.directory / f"traces-{day}.jsonl", resources
            return
        if self.split == "service":
            by_service: dict[str, list[dict[str, Any]]] = {}
            for resource in resources:
                by_service.setdefault(service_name(resource), []).append(resource)
            for service, items in by_service.items():
                yield self.directory / f"traces-{safe_file_part(service)}-{day}.jsonl", items
            return
        by_trace: dict[str, list[dict[str, Any]]] = {}
        for resource in resources:
            for scope in resource.get("scopeSpans") or []:
                per_trace: dict[str, list[dict[str, Any]]] = {}
                for span in scope.get("spans") or []:
                    per_trace.setdefault(span["traceId"], []).append(span)
                for trace_id, spans in per_trace.items():
                    _place(by_trace.setdefault(trace_id, []), resource, scope, spans)
        for trace_id, items in by_trace.items():
            yield self.directory / f"trace-{trace_id}.jsonl", items

    def _write_line(self, path: Path, line: bytes) -> None:
        fd, size = self._open(path)
        if size and size + len(line) > self.max_file_bytes:
            self._rotate(path)
            fd, size = self._open(path)
        view = memoryview(line)
        while view:
            count = os.write(fd, view)
            view = view[count:]
        self._files[path] = (fd, size + len(line))
        self._files.move_to_end(path)

    def _open(self, path: Path) -> tuple[int, int]:
        if path in self._files:
            return self._files[path]
        while len(self._files) >= _OPEN_FILES:
            _old, (old_fd, _s) = self._files.popitem(last=False)
            os.close(old_fd)
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        size = _cut_partial_line(fd)
        self._files[path] = (fd, size)
        return fd, size

    def _rotate(self, path: Path) -> None:
        fd, _size = self._files.pop(path)
        if self.fsync:
            os.fsync(fd)
        os.close(fd)
        stamp = time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime(self.clock()))
        backup = path.with_name(f"{path.stem}-{stamp}.jsonl")
        serial = 1
        while backup.exists():
            serial += 1
            backup = path.with_name(f"{path.stem}-{stamp}.{serial}.jsonl")
        os.rename(path, backup)
        self.stats.rotations += 1
        log.info("rotated %s to %s", path.name, backup.name)

    def _note_traces(self, groups: list[tuple[Path, list[dict[str, Any]]]], now: float) -> None:
        for path, resources in groups:
            for resource in resources:
                service = service_name(resource)
                for scope in resource.get("scopeSpans") or []:
                    for span in scope.get("spans") or []:
                        entry = self.stats.traces.get(span["traceId"])
                        if entry is None:
                            entry = TraceEntry(span["traceId"], path, first_seen=now)
                            self.stats.traces[span["traceId"]] = entry
                        entry.path = path if self.split == "trace" else entry.path
                        entry.spans += 1
                        entry.last_seen = now
                        entry.service = entry.service or service
                        if not span.get("parentSpanId"):
                            entry.root_name = str(span.get("name") or "")
                        if (span.get("status") or {}).get("code") == 2:
                            entry.errors += 1

    def traces(self) -> list[TraceEntry]:
        """A snapshot of the traces seen so far, newest activity first."""
        with self._lock:
            entries = [TraceEntry(**{k: getattr(e, k) for k in TraceEntry.__slots__})
                       for e in self.stats.traces.values()]
        return sorted(entries, key=lambda e: e.last_seen, reverse=True)


def _place(target: list[dict[str, Any]], resource: dict[str, Any], scope: dict[str, Any],
           spans: list[dict[str, Any]]) -> None:
    """Add ``spans`` under their resource and scope in ``target`` (one trace's resourceSpans)."""
    for existing in target:
        if existing.get("resource") == resource.get("resource"):
            existing["scopeSpans"].append({**scope, "spans": spans})
            return
    target.append({**resource, "scopeSpans": [{**scope, "spans": spans}]})


def _cut_partial_line(fd: int) -> int:
    """Size of the file after cutting a last line a crash left unfinished (never acknowledged)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return 0
    tail_start = max(0, size - 65536)
    while True:
        chunk = os.pread(fd, size - tail_start, tail_start)
        if chunk.endswith(b"\n"):
            return size
        newline = chunk.rfind(b"\n")
        if newline >= 0 or tail_start == 0:
            keep = tail_start + newline + 1 if newline >= 0 else 0
            log.warning("cutting an unfinished last line (%d bytes) left by a crash",
                        size - keep)
            os.ftruncate(fd, keep)
            return keep
        tail_start = max(0, tail_start - 65536)
