"""Issue 13, item 6: a save killed with ``kill -9`` leaves no temporary file behind for good,
and a symbolic-link lock file or ``.trace-tui`` folder is never followed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from support import SAMPLES
from trace_tui.core.io import atomic
from trace_tui.core.reading.reader import open_run
from trace_tui.core.replay.branches import BranchError, save_branch
from trace_tui.core.replay.engine import Replay
from trace_tui.core.replay.fork import plan_fork

EDIT = {"op": "replace", "path": "/attributes/gen_ai.tool.call.result/discount_pct", "value": 15}

KILLED_SAVE = textwrap.dedent(
    """
    import os, signal, sys
    from trace_tui.core.io import atomic
    from trace_tui.core.reading.reader import open_run
    from trace_tui.core.replay.branches import save_branch
    from trace_tui.core.replay.engine import Replay
    from trace_tui.core.replay.fork import plan_fork
    trace = sys.argv[1]
    # the moment between writing the temporary file and renaming it: die there
    atomic.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)
    replay = Replay(plan_fork(open_run(trace), 5, [], name="killed"))
    replay.run()
    save_branch(replay, trace)
    """
)


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    path = tmp_path / "discount_over_cap.jsonl"
    path.write_bytes((SAMPLES / "discount_over_cap.jsonl").read_bytes())
    return path


def _replay(trace: Path, name: str) -> Replay:
    replay = Replay(plan_fork(open_run(trace), 5, [EDIT], name=name))
    replay.run()
    return replay


def _temps(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if atomic.is_temp_name(p.name)]


def test_a_killed_save_is_cleaned_up_by_the_next_one(trace: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", KILLED_SAVE, str(trace)], capture_output=True, timeout=60
    )
    assert done.returncode == -signal.SIGKILL
    folder = trace.parent / ".trace-tui"
    assert len(_temps(folder)) == 1  # what kill -9 leaves
    unrelated = folder / ".notes.tmp"
    unrelated.write_text("someone else's")
    save_branch(_replay(trace, "next"), trace)
    assert _temps(folder) == [unrelated.name]  # ours gone, theirs kept


def test_a_symlinked_branches_folder_is_not_followed(trace: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (trace.parent / ".trace-tui").symlink_to(elsewhere)
    with pytest.raises(BranchError, match="symbolic link"):
        save_branch(_replay(trace, "x"), trace)
    assert list(elsewhere.iterdir()) == []


def test_a_symlinked_lock_file_is_not_followed(trace: Path, tmp_path: Path) -> None:
    folder = trace.parent / ".trace-tui"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    (folder / ".trace-tui.lock").symlink_to(victim)
    with pytest.raises(BranchError, match="symbolic link"):
        save_branch(_replay(trace, "x"), trace)
    assert not victim.exists()
    with pytest.raises(atomic.UnsafePathError), atomic.file_lock(folder / ".trace-tui.lock"):
        pass
    assert not victim.exists()


def test_a_symlinked_branch_file_is_not_replaced(trace: Path, tmp_path: Path) -> None:
    folder = trace.parent / ".trace-tui"
    folder.mkdir()
    victim = tmp_path / "victim.jsonl"
    victim.write_text("mine\n")
    (folder / "discount_over_cap--x.jsonl").symlink_to(victim)
    with pytest.raises(BranchError, match="symbolic link"):
        save_branch(_replay(trace, "x"), trace, force=True)
    assert victim.read_text() == "mine\n" and os.path.islink(folder / "discount_over_cap--x.jsonl")
