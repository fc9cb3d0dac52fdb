"""Atomic file writes and advisory locks: the one place trace-tui replaces a file on disk.

A reader (another trace-tui, an editor, ``tail``) must only ever see the old file or the new
one, never half of either, and a crash at any moment must leave one of the two intact. So a
write goes to a temporary file in the *same directory* (a rename across file systems is not
atomic), is flushed and ``fsync``-ed, is renamed over the target with :func:`os.replace`, and
then the directory itself is ``fsync``-ed so the rename survives a power cut.

If anything fails before the rename, the temporary file is removed and the old file is
untouched. If the process is killed before the rename (``kill -9``, a power cut), the old file
is untouched and a stray ``.NAME.*.tmp`` file may remain; readers of a directory (the branch
list) ignore those, and the next writer holding the folder's lock removes them
(:func:`remove_stale_temps`).

:func:`file_lock` serialises writers across processes with ``fcntl.flock`` on a lock file
(Unix); where ``fcntl`` does not exist, a warning is logged and no lock is taken. A lock file
that is a symbolic link is never followed (``O_NOFOLLOW``): :class:`UnsafePathError`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)

#: Temporary files start with this prefix and end with ``.tmp`` (listings skip them).
TEMP_PREFIX = "."
TEMP_SUFFIX = ".tmp"
DEFAULT_MODE = 0o644

try:  # pragma: no cover - the import itself is platform dependent
    import fcntl as _fcntl
except ImportError:  # pragma: no cover - Windows
    _fcntl = None  # type: ignore[assignment]


class UnsafePathError(OSError):
    """A path we were about to write through is a symbolic link or not a regular file."""


def is_temp_name(name: str) -> bool:
    """True for the name of a temporary file an atomic write may have left behind."""
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def remove_stale_temps(directory: str | os.PathLike[str], target_suffix: str) -> int:
    """Remove temporary files a killed writer left in ``directory``; returns how many.

    Only our own temporary names for targets ending in ``target_suffix`` are touched
    (``.NAME.jsonl.XXXXXXXX.tmp``, as :func:`atomic_writer` makes them). Call it only while
    holding the directory's :func:`file_lock`: every writer of such files there writes under
    that lock, so a temporary file seen then belongs to a writer that died. Symbolic links and
    anything that is not a regular file are left alone.
    """
    pattern = re.compile(
        rf"^{re.escape(TEMP_PREFIX)}.+{re.escape(target_suffix)}\.[A-Za-z0-9_]{{8}}"
        rf"{re.escape(TEMP_SUFFIX)}$"
    )
    removed = 0
    try:
        names = os.listdir(directory)
    except OSError as exc:
        log.debug("cannot list %s for stale temporary files: %s", directory, exc)
        return 0
    for name in names:
        path = Path(directory) / name
        if not pattern.match(name) or not stat.S_ISREG(path.lstat().st_mode):
            continue
        _remove_quietly(path)
        log.info("removed %s, left by an interrupted save", path)
        removed += 1
    return removed


def fsync_directory(directory: str | os.PathLike[str]) -> None:
    """Flush a directory entry change (a rename) to disk; logged, not raised, where unsupported."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError as exc:  # e.g. Windows cannot open directories
        log.debug("cannot open %s to fsync it: %s", directory, exc)
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # some file systems refuse fsync on directories
        log.debug("fsync of directory %s failed: %s", directory, exc)
    finally:
        os.close(fd)


def _target_mode(path: Path, mode: int | None) -> int:
    if mode is not None:
        return mode
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return DEFAULT_MODE


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], *, mode: int | None = None) -> Iterator[IO[bytes]]:
    """Yield a binary stream; on a clean exit its bytes atomically become ``path``.

    ``mode`` is the new file's permission bits; by default an existing file keeps its own and a
    new file gets ``0o644``. On an exception the temporary file is removed, the target is left
    as it was, and the exception propagates.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, temp_name = tempfile.mkstemp(
        dir=directory, prefix=f"{TEMP_PREFIX}{target.name}.", suffix=TEMP_SUFFIX
    )
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, _target_mode(target, mode))
        os.replace(temp, target)
    except BaseException:
        _remove_quietly(temp)
        raise
    fsync_directory(directory)


def _remove_quietly(temp: Path) -> None:
    try:
        temp.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("could not remove temporary file %s: %s", temp, exc)


def atomic_write_bytes(
    path: str | os.PathLike[str], data: bytes, *, mode: int | None = None
) -> None:
    """Replace ``path`` with ``data`` atomically (see :func:`atomic_writer`)."""
    with atomic_writer(path, mode=mode) as stream:
        stream.write(data)


def atomic_write_text(
    path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8", mode: int | None = None
) -> None:
    """Replace ``path`` with ``text`` encoded as ``encoding``, atomically."""
    atomic_write_bytes(path, text.encode(encoding), mode=mode)


@contextlib.contextmanager
def file_lock(
    path: str | os.PathLike[str], *, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``path`` (created if missing) for the block.

    Other processes (and other open file descriptions in this one) taking the same lock wait.
    ``on_wait`` is called once, before blocking, when the lock is already held by someone else
    (a screen can say "waiting for another trace-tui"; tests use it to observe the wait).
    """
    lock_path = Path(path)
    if _fcntl is None:  # pragma: no cover - Windows
        log.warning("file locking is not available on this platform; %s is not locked", lock_path)
        yield
        return
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as exc:
        if lock_path.is_symlink():
            raise UnsafePathError(
                exc.errno, "the lock file is a symbolic link; refusing to follow it", str(lock_path)
            ) from exc
        raise
    try:
        try:
            _fcntl.flock(fd, _fcntl.LOCK_EX | _fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait()
            _fcntl.flock(fd, _fcntl.LOCK_EX)
        try:
            yield
        finally:
            _fcntl.flock(fd, _fcntl.LOCK_UN)
    finally:
        os.close(fd)
