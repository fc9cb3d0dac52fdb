"""Issue 13, item 1: a branch is user work and is never replaced unasked.

Re-running the README's ``fork`` example after making the same fork in the screen and
answering by hand must not replace the hand-made branch: the default name moves on to
``NAME-2``; an explicit ``--name`` or ``-o`` is refused naming the branch already there;
``--force`` replaces it. The screen's fork session never replaces another branch either.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support import SAMPLES
from trace_tui.cli.commands import main
from trace_tui.core.reading.reader import open_run
from trace_tui.core.replay.branches import read_branch_head, save_branch
from trace_tui.core.replay.engine import Replay
from trace_tui.core.replay.fork import plan_fork
from trace_tui.core.text.redact import Redactor
from trace_tui.tui.session.branch_session import ForkSession

POINTER = "/attributes/gen_ai.tool.call.result/discount_pct"
EDIT = {"op": "replace", "path": POINTER, "value": 15}
CALL = {
    "content": None,
    "tool_calls": [{"name": "apply_discount", "arguments": {"order_id": "A-2291", "percent": 15}}],
}


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    path = tmp_path / "discount_over_cap.jsonl"
    path.write_bytes((SAMPLES / "discount_over_cap.jsonl").read_bytes())
    return path


def _hand_made_branch(trace: Path) -> Path:
    """The fork made in the screen, with two answers typed by hand."""
    session = ForkSession(trace, None, Redactor())
    outcome = session.start(session.plan(5, [EDIT]))
    assert outcome.path is not None and outcome.error is None
    session.answer(CALL)
    outcome = session.answer({"ok": True})
    assert outcome.error is None and outcome.path is not None
    return outcome.path


def test_readme_fork_example_keeps_a_hand_made_branch(
    trace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mine = _hand_made_branch(trace)
    kept = mine.read_bytes()
    assert main(["fork", str(trace), "--at", "5", "--set", f"{POINTER}=15"]) == 3
    assert mine.read_bytes() == kept
    new = mine.with_name(mine.name.replace(".jsonl", "-2.jsonl"))
    out, err = capsys.readouterr()
    assert new.is_file() and str(new) in out
    assert "holds another branch (kept as it is)" in err and new.name in err
    # the same command again finds its own identical file: no third copy
    assert main(["fork", str(trace), "--at", "5", "--set", f"{POINTER}=15"]) == 3
    assert sorted(p.name for p in mine.parent.glob("*.jsonl")) == sorted([mine.name, new.name])


def test_explicit_name_is_refused_naming_the_branch_unless_forced(
    trace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    replay = Replay(plan_fork(open_run(trace), 5, [EDIT], name="cap"))
    replay.run()
    replay.answer(CALL)
    replay.run()
    path = save_branch(replay, trace)
    kept = path.read_bytes()
    args = ["fork", str(trace), "--at", "5", "--set", f"{POINTER}=15", "--name", "cap"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert path.name in err and "--force" in err and len(err.strip().splitlines()) == 1
    assert path.read_bytes() == kept
    assert main(["fork", str(trace), "--at", "5", "--set", f"{POINTER}=15", "-o", str(path)]) == 2
    assert path.read_bytes() == kept
    assert main([*args, "--force"]) == 3
    assert path.read_bytes() != kept


def test_screen_fork_never_replaces_another_branch(trace: Path) -> None:
    cli_first = Replay(plan_fork(open_run(trace), 5, [EDIT]))
    cli_first.run()
    theirs = save_branch(cli_first, trace)
    cli_first.answer(CALL)
    cli_first.run()
    theirs = save_branch(cli_first, trace, own=theirs)
    kept = theirs.read_bytes()
    mine = _hand_made_branch(trace)
    assert mine != theirs and theirs.read_bytes() == kept
    assert read_branch_head(mine).fork_step == 5


def test_replay_output_onto_another_branch_is_refused(
    trace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = save_branch(Replay(plan_fork(open_run(trace), 5, [EDIT], name="a")), trace)
    b_replay = Replay(plan_fork(open_run(trace), 3, [], name="b"))
    b_replay.run()
    b = save_branch(b_replay, trace)
    kept = b.read_bytes()
    assert main(["replay", str(a), "-o", str(b)]) == 2
    assert b.read_bytes() == kept and b.name in capsys.readouterr().err
