"""Atomic writes: readers see the old file or the new one, never a mix, even when the writer
fails or is killed between writing and renaming; and the lock serialises writers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from trace_tui.core.io import atomic
from trace_tui.core.io.atomic import atomic_write_bytes, atomic_write_text, atomic_writer, file_lock


def _temps(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if atomic.is_temp_name(p.name)]


def test_write_creates_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "a.jsonl"
    atomic_write_text(target, "one\n")
    assert target.read_text() == "one\n"
    assert oct(target.stat().st_mode & 0o777) == oct(atomic.DEFAULT_MODE)
    os.chmod(target, 0o600)
    atomic_write_bytes(target, b"two\n")
    assert target.read_bytes() == b"two\n"
    assert target.stat().st_mode & 0o777 == 0o600  # an existing file keeps its permissions
    assert _temps(tmp_path) == []


def test_a_failed_rename_leaves_the_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "branch.jsonl"
    target.write_bytes(b"old\n")

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_bytes(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert _temps(tmp_path) == []


def test_an_error_while_writing_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "branch.jsonl"
    target.write_bytes(b"old\n")
    with pytest.raises(RuntimeError), atomic_writer(target) as stream:
        stream.write(b"half a rec")
        raise RuntimeError("serialiser failed")
    assert target.read_bytes() == b"old\n"
    assert _temps(tmp_path) == []


KILLED_WRITER = """
import os, signal, sys
from trace_tui.core.io import atomic
def die(src, dst):
    os.kill(os.getpid(), signal.SIGKILL)
atomic.os.replace = die
atomic.atomic_write_bytes(sys.argv[1], b"new content that must never be seen\\n" * 1000)
"""


def test_a_writer_killed_between_write_and_rename_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "branch.jsonl"
    target.write_bytes(b"old\n")
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(target)], timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert target.read_bytes() == b"old\n"
    [leftover] = _temps(tmp_path)  # the temp file was complete, fsynced, and never renamed
    assert leftover.startswith(".branch.jsonl.") and (tmp_path / leftover).stat().st_size > 0


def test_the_lock_makes_a_second_holder_wait(tmp_path: Path) -> None:
    lock = tmp_path / ".trace-tui.lock"
    waiting = threading.Event()
    order: list[str] = []

    def second() -> None:
        with file_lock(lock, on_wait=waiting.set):
            order.append("second")

    with file_lock(lock):
        thread = threading.Thread(target=second)
        thread.start()
        assert waiting.wait(timeout=10), "the second holder never found the lock taken"
        order.append("first")
    thread.join(timeout=10)
    assert order == ["first", "second"]


def test_an_uncontended_lock_does_not_wait(tmp_path: Path) -> None:
    calls: list[int] = []
    with file_lock(tmp_path / "l", on_wait=lambda: calls.append(1)):
        pass
    with file_lock(tmp_path / "l", on_wait=lambda: calls.append(1)):
        pass
    assert calls == []
