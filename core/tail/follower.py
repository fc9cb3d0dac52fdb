"""Follow a growing file and hand out complete lines exactly once, whatever happens to it.

:class:`TailReader` owns the open file and the *committed offset*: the end of the last complete
line handed out. Every call to :meth:`TailReader.read` returns items in file order:

* :class:`Lines`: complete lines (each ending in ``\\n``) starting at a known offset and line;
* :class:`HugeLine`: a complete line over 8 MiB but under the cap: its place, not its bytes;
* :class:`LongLine`: a line longer than the cap (``max_line``), skipped with bounded
  memory; a line longer than a read slice but under the cap is found in bounded blocks and then
  handed out whole, read once;
* :class:`Reset`: the file was truncated, rewritten, rotated or re-created; what follows is a
  new *generation* read from its start, and everything before it is stale;
* :class:`Notice`: one line for the user (waiting for the file, not a regular file...).

A partial last line (a writer mid-write) is held back and handed out once its newline arrives;
only when the file is finished (not following, or a rotated-away file fully drained) is an
unterminated last line handed out as a line. Truncation is noticed when the size drops below
the committed offset *or* when the first bytes, or the bytes just before the offset, change.
Rotation (the path names a new inode) and deletion drain the old file first, *until it has
been quiet* for :data:`DRAIN_QUIET_SECONDS` (a writer that still holds the renamed file keeps
appending to it for a while, as ``tail -F``, Filebeat and the OpenTelemetry filelog receiver
know): only then does the reader switch to the new file. A last line the old file never
finished (cut mid-write at rotation) is handed out as it is and reported with a
:class:`Notice`, so the corrupt record it makes is explained. Directories,
FIFOs, sockets and devices are refused without ever blocking on them (``O_NONBLOCK``).
The reader never writes to the file.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from trace_tui.core.errors import BadValue
from trace_tui.core.io.jsonl import MAX_LINE_BYTES, PREVIEW_KEEP

log = logging.getLogger(__name__)

#: Bytes compared at the head of the file, and just before the committed offset.
HEAD_BYTES = 1024
MARK_BYTES = 64
_SKIP_BLOCK = 1024 * 1024
#: A rotated-away or deleted file is read until it has not grown for this long.
DRAIN_QUIET_SECONDS = 1.0
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True, slots=True)
class Lines:
    """Complete lines: ``data`` ends with ``\\n``; ``line`` numbers its first line (1-based)."""

    data: bytes
    offset: int
    line: int


@dataclass(frozen=True, slots=True)
class LongLine:
    """A line longer than the cap: where it starts, its length and its first bytes."""

    offset: int
    line: int
    length: int
    head: bytes


@dataclass(frozen=True, slots=True)
class Reset:
    """A new generation of the file starts here (``reason``: truncated, rewritten, rotated...)."""

    reason: str
    notice: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should see that changes nothing read so far."""

    text: str


@dataclass(frozen=True, slots=True)
class HugeLine:
    """A complete line longer than :data:`~trace_tui.core.io.jsonl.MAX_LINE_BYTES` but under
    the cap: where it is, not its bytes (the reader reads it once, when it is ready to)."""

    offset: int
    line: int
    length: int


TailItem = Lines | HugeLine | LongLine | Reset | Notice


@dataclass(slots=True)
class _Skip:
    """A too-long line being skipped: where it started and how far the scan got."""

    start: int
    line: int
    head: bytes
    scanned: int


def describe_non_regular(path: Path, mode: int) -> str | None:
    """Why ``path`` with this ``st_mode`` cannot be read as a trace, or ``None`` if it can."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return f"{path}: is a directory, not a trace file"
    if stat.S_ISFIFO(mode):
        return f"{path}: is a FIFO (named pipe), not a file; trace-tui reads and follows files"
    if stat.S_ISSOCK(mode):
        return f"{path}: is a socket, not a file; trace-tui reads and follows files"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return f"{path}: is a device, not a file; trace-tui reads and follows files"
    return f"{path}: is not a regular file"


class TailReader:
    """Reads ``path`` from its start, then follows it (see the module docstring).

    ``follow=False`` reads what is there once: the last line is handed out even without its
    newline and nothing is watched. :attr:`caught_up` is true when the last :meth:`read` got
    to the end of what the file holds now.
    """

    def __init__(
        self,
        path: Path,
        *,
        follow: bool = True,
        max_line: int = MAX_LINE_BYTES,
        drain_quiet: float = DRAIN_QUIET_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.follow = follow
        self.max_line = max_line
        self.drain_quiet = drain_quiet
        self.clock = clock
        self.fd: int | None = None
        self.generation = 0
        self.offset = 0
        self.lines = 0
        self.size = 0
        self.caught_up = False
        self.finished = False
        self._ident: tuple[int, int] | None = None
        self._stamp: tuple[int, int] | None = None
        self._head = b""
        self._mark = b""
        self._skip: _Skip | None = None
        self._line_scan: tuple[int, int] | None = None  # (line start, scanned up to)
        self._draining: str | None = None
        self._quiet_since: float | None = None
        self._quiet_size = -1
        self._drained = False
        self._said: set[str] = set()

    # ----------------------------------------------------------------- opening
    def open_now(self) -> None:
        """Open the file now; raise ``ValueError`` (one clear line) if it cannot be read.

        A missing path is not an error when following: the reader waits for it. A directory,
        FIFO, socket or device is always refused.
        """
        items: list[TailItem] = []
        if self._try_open(items):
            return
        if self.follow and not os.path.lexists(self.path):
            self._said.clear()  # the first read() says "waiting" to whoever is listening
            return
        if not os.path.lexists(self.path):
            raise BadValue(f"{self.path}: no such file")
        problem = next((i.text for i in items if isinstance(i, Notice)), "")
        raise BadValue(problem or f"{self.path}: cannot be read")

    def _try_open(self, items: list[TailItem]) -> bool:
        try:
            fd = os.open(self.path, _OPEN_FLAGS)
        except FileNotFoundError:
            gone = (
                "was deleted; waiting for it to be re-created"
                if self.generation
                else ("does not exist yet; waiting for it to be created")
            )
            self._say(items, f"{self.path}: {gone}")
            return False
        except OSError as exc:
            self._say(items, f"{self.path}: cannot read ({exc.strerror or exc})")
            return False
        info = os.fstat(fd)
        refusal = describe_non_regular(self.path, info.st_mode)
        if refusal is not None:
            os.close(fd)
            self._say(items, refusal)
            return False
        os.set_blocking(fd, True)
        self.fd, self._ident = fd, (info.st_dev, info.st_ino)
        if self.generation:
            reason = "rotated" if self._draining == "rotated" else "re-created"
            items.append(Reset(reason, f"{self.path.name} was {reason}; reading the new file"))
        self._start_generation()
        return True

    def _start_generation(self) -> None:
        self.generation += 1
        self.offset = self.lines = 0
        self._stamp = None
        self._head = self._mark = b""
        self._skip = None
        self._line_scan = None
        self._draining = None
        self._quiet_since = None
        self._quiet_size = -1
        self._drained = False
        self._said.clear()
        self.finished = False

    def _say(self, items: list[TailItem], text: str) -> None:
        """Add a notice once per condition (repeats are dropped until something changes)."""
        if text not in self._said:
            self._said.add(text)
            items.append(Notice(text))

    def close(self) -> None:
        """Close the file (a later :meth:`read` re-opens the path)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    # ----------------------------------------------------------------- reading
    def read(self, budget: int = 4 * 1024 * 1024) -> list[TailItem]:
        """What is new since the last call, at most about ``budget`` bytes of lines."""
        items: list[TailItem] = []
        self.caught_up = False
        if self.finished:
            self.caught_up = True
            return items
        if self.fd is None and not self._try_open(items):
            self.caught_up = True
            return items
        self._check_file(items)
        self._read_data(items, min(budget, self.max_line))
        if self.caught_up and self._draining and self._quiet_now():
            self._drained = True  # no more bytes will come: a cut last line is final now
            self._read_data(items, min(budget, self.max_line))
            self.close()  # the old file is drained; follow whatever the path names now
            self.caught_up = not self._try_open(items)
        return items

    def _quiet_now(self) -> bool:
        """True once the file being drained has not grown for :attr:`drain_quiet` seconds."""
        now = self.clock()
        if self._quiet_since is None or self.size != self._quiet_size:
            self._quiet_since, self._quiet_size = now, self.size
        return now - self._quiet_since >= self.drain_quiet

    def _check_file(self, items: list[TailItem]) -> None:
        """Notice truncation, rewriting, rotation and deletion before reading."""
        assert self.fd is not None
        info = os.fstat(self.fd)
        self.size = info.st_size
        stamp = (info.st_size, info.st_mtime_ns)
        if info.st_size < self.offset:
            self._restart(
                items,
                "truncated",
                f"{self.path.name} was truncated "
                f"(now {info.st_size} bytes, {self.offset} were read)",
            )
        elif stamp != self._stamp and self.offset and self._rewritten():
            self._restart(items, "rewritten", f"{self.path.name} was rewritten")
        self._stamp = stamp
        if self.follow and not self._draining:
            self._draining = self._path_moved(info)

    def _rewritten(self) -> bool:
        assert self.fd is not None
        if os.pread(self.fd, len(self._head), 0) != self._head:
            return True
        mark_at = self.offset - len(self._mark)
        return os.pread(self.fd, len(self._mark), mark_at) != self._mark

    def _restart(self, items: list[TailItem], reason: str, what: str) -> None:
        items.append(Reset(reason, f"{what}; reading it again from the start"))
        self._start_generation()

    def _path_moved(self, info: os.stat_result) -> str | None:
        """``"rotated"``/``"deleted"`` when the path no longer names the open file."""
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return "deleted"
        except OSError as exc:
            log.warning("cannot stat %s (%s); assuming it is unchanged", self.path, exc)
            return None
        return None if (now.st_dev, now.st_ino) == self._ident else "rotated"

    @property
    def _final(self) -> bool:
        """True when no more bytes will come: an unterminated last line is complete."""
        return not self.follow or self._drained

    def _read_data(self, items: list[TailItem], budget: int) -> None:
        assert self.fd is not None
        if self._skip is not None and not self._continue_skip(items, budget):
            return
        request = max(budget, 1)
        data = os.pread(self.fd, request, self.offset)
        short = len(data) < request  # the read reached the end of the file
        end = data.rfind(b"\n")
        if end >= 0:
            self._commit(items, data[: end + 1])
            if short:
                self._partial(items, data[end + 1 :])
        elif short:
            self._partial(items, data)
        else:
            self._long_read(items)

    def _at_end(self) -> None:
        self.caught_up = True
        if not self.follow:
            self.finished = True

    def _commit(self, items: list[TailItem], chunk: bytes) -> None:
        """Hand out complete lines and move the committed offset past them."""
        items.append(Lines(chunk, self.offset, self.lines + 1))
        self.offset += len(chunk)
        self.lines += chunk.count(b"\n")
        self._remember(chunk)

    def _remember(self, chunk: bytes) -> None:
        assert self.fd is not None
        if len(self._head) < HEAD_BYTES:
            self._head = os.pread(self.fd, min(HEAD_BYTES, self.offset), 0)
        if len(chunk) >= MARK_BYTES:
            self._mark = chunk[-MARK_BYTES:]
        else:
            start = max(0, self.offset - MARK_BYTES)
            self._mark = os.pread(self.fd, self.offset - start, start)

    def _partial(self, items: list[TailItem], data: bytes) -> None:
        """The file ends in ``data`` without a newline: hold it back, or hand it out if final."""
        if len(data) > self.max_line:
            self._skip = _Skip(
                self.offset, self.lines + 1, data[:PREVIEW_KEEP], self.offset + len(data)
            )
            self._continue_skip(items, 0)
            return
        if data and self._final:
            if self._draining:
                items.append(
                    Notice(
                        f"{self.path.name}: the {self._draining} file ended in a line cut "
                        f"mid-write ({len(data)} bytes at offset {self.offset}, line "
                        f"{self.lines + 1}); it is read as it is"
                    )
                )
            self._commit(items, data + b"\n")
            self.offset -= 1  # that newline was ours, not the file's
            self._remember(b"")
        self._at_end()

    def _long_read(self, items: list[TailItem]) -> None:
        """A chunk without a newline: find the line's end in bounded blocks, then read the
        whole line once if it is under the cap, else skip it (memory stays bounded)."""
        assert self.fd is not None
        end, scanned = self._find_line_end(self.offset)
        if 0 <= end - self.offset <= MAX_LINE_BYTES:
            self._commit(items, os.pread(self.fd, end + 1 - self.offset, self.offset))
            return
        if end >= 0 and end - self.offset <= self.max_line:
            items.append(HugeLine(self.offset, self.lines + 1, end - self.offset))
            self.offset = end + 1
            self.lines += 1
            self._remember(b"")
            return
        head = os.pread(self.fd, PREVIEW_KEEP, self.offset)
        if end >= 0:
            self._skip = _Skip(self.offset, self.lines + 1, head, end)
            self._end_skip(items, end, newline=True)
            return
        if scanned - self.offset > self.max_line:
            self._skip = _Skip(self.offset, self.lines + 1, head, scanned)
            self._continue_skip(items, self.max_line)
            return
        if not self._final:  # a long line still being written: wait for its newline
            self._at_end()
            return
        self._partial(items, os.pread(self.fd, scanned - self.offset, self.offset))

    def _find_line_end(self, start: int) -> tuple[int, int]:
        """(position of the next newline or -1, how far the scan got): blocks of 1 MiB, never
        more than the cap past ``start``; a scan of the same line goes on where it stopped."""
        assert self.fd is not None
        scan = self._line_scan
        at = scan[1] if scan is not None and scan[0] == start else start
        limit = start + self.max_line + 1
        while at < limit:
            block = os.pread(self.fd, min(_SKIP_BLOCK, limit - at), at)
            cut = block.find(b"\n")
            if cut >= 0:
                self._line_scan = None
                return at + cut, at + cut
            at += len(block)
            if len(block) < _SKIP_BLOCK:
                break
        self._line_scan = (start, at)
        return -1, at

    def _continue_skip(self, items: list[TailItem], budget: int) -> bool:
        """Scan on for the end of a too-long line; True once it is done (and handed out)."""
        assert self.fd is not None and self._skip is not None
        skip, scanned = self._skip, 0
        while True:
            block = os.pread(self.fd, _SKIP_BLOCK, skip.scanned)
            end = block.find(b"\n")
            if end >= 0:
                self._end_skip(items, skip.scanned + end, newline=True)
                return True
            skip.scanned += len(block)
            scanned += len(block)
            if len(block) < _SKIP_BLOCK:
                if self._final:
                    self._end_skip(items, skip.scanned, newline=False)
                    return True
                self._at_end()
                return False
            if scanned > max(budget, _SKIP_BLOCK) * 4:
                return False

    def _end_skip(self, items: list[TailItem], end: int, *, newline: bool) -> None:
        assert self._skip is not None
        skip = self._skip
        items.append(LongLine(skip.start, skip.line, end - skip.start, skip.head))
        self._skip = None
        self.offset = end + (1 if newline else 0)
        self.lines += 1
        self._remember(b"")
