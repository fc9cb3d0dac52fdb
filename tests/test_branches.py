"""Branches on disk: safe names, safe saves (atomic, serialised, never over the parent or a
non-branch file), the branch tree a screen shows, and re-opening a branch to replay it."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from support import SAMPLES
from trace_tui.cli.commands import main
from trace_tui.core.io import atomic
from trace_tui.core.reading.reader import open_run
from trace_tui.core.replay.branches import (
    BranchError,
    BranchExistsError,
    branch_path,
    branch_tree,
    find_root,
    list_branches,
    load_branch,
    read_branch_head,
    safe_name,
    save_branch,
    serialise,
)
from trace_tui.core.replay.engine import Replay
from trace_tui.core.replay.fork import plan_fork

EDIT = {"op": "replace", "path": "/attributes/gen_ai.tool.call.result/discount_pct", "value": 15}


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    path = tmp_path / "discount_over_cap.jsonl"
    path.write_bytes((SAMPLES / "discount_over_cap.jsonl").read_bytes())
    return path


def _replay(
    trace: Path, name: str | None = None, edits: list[dict] | None = None, at: int = 5
) -> Replay:
    replay = Replay(plan_fork(open_run(trace), at, [EDIT] if edits is None else edits, name=name))
    replay.run()
    return replay


HOSTILE = [
    "../../etc/passwd",
    "/abs/path",
    "a/b",
    "nul\x00byte",
    "x" * 500,
    "..",
    ".hidden",
    "",
    "-rf",
    "tab\tnew\nline",
    "\u202eevil",
    "ünïcødé-名前",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_branch_names_stay_inside_the_branches_folder(trace: Path, name: str) -> None:
    folder = trace.parent / ".trace-tui"
    path = save_branch(_replay(trace, name=name), trace)
    assert path.parent == folder and path.resolve().parent == folder.resolve()
    assert len(path.name.encode()) <= 255 and "\x00" not in path.name
    assert not path.name.startswith((".", "-"))
    recorded = read_branch_head(path).name
    assert recorded == name if name else recorded.startswith("step5-")  # kept as given
    assert sorted(p.name for p in trace.parent.iterdir()) == [".trace-tui", trace.name]


def test_safe_names_keep_long_names_distinct_and_readable() -> None:
    assert safe_name("cap discount/15%") == "cap_discount_15_"
    assert safe_name("ünïcødé-名前") == "ünïcødé-名前"
    a, b = safe_name("y" * 500 + "a"), safe_name("y" * 500 + "b")
    assert a != b and len(a.encode()) <= 120
    assert safe_name("..") == safe_name("") == "branch"


def test_save_interrupted_before_rename_keeps_the_old_branch(
    trace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = save_branch(_replay(trace, name="cap"), trace)
    old = path.read_bytes()
    monkeypatch.setattr(atomic.os, "replace", lambda *a: (_ for _ in ()).throw(OSError(5, "EIO")))
    with pytest.raises(OSError, match="EIO"):
        save_branch(_replay(trace, name="cap", edits=[]), trace, force=True)
    assert path.read_bytes() == old
    assert [p.name for p in path.parent.iterdir() if atomic.is_temp_name(p.name)] == []


def test_concurrent_saves_are_serialised(trace: Path) -> None:
    folder = trace.parent / ".trace-tui"
    folder.mkdir()
    waiting = threading.Event()
    errors: list[Exception] = []

    def save_other() -> None:
        try:
            save_branch(_replay(trace, name="cap", edits=[]), trace, on_lock_wait=waiting.set)
        except BranchExistsError as exc:
            errors.append(exc)

    with atomic.file_lock(folder / ".trace-tui.lock"):
        thread = threading.Thread(target=save_other)
        thread.start()
        assert waiting.wait(timeout=10), "the second save did not wait for the lock"
        target = folder / "discount_over_cap--cap.jsonl"
        assert not target.exists()
        # what the lock holder does inside its critical section: write its branch
        first = _replay(trace, name="cap")
        atomic.atomic_write_bytes(
            target, serialise(first.all_records("../discount_over_cap.jsonl"))
        )
    thread.join(timeout=10)
    assert not thread.is_alive()
    # the waiting save saw the first one's file and refused to clobber a different fork
    assert len(errors) == 1 and "another branch" in str(errors[0])
    assert read_branch_head(folder / "discount_over_cap--cap.jsonl").edits == (EDIT,)


def test_same_fork_overwrites_but_a_different_one_needs_force(trace: Path) -> None:
    path = save_branch(_replay(trace, name="cap"), trace)
    assert save_branch(_replay(trace, name="cap"), trace) == path
    with pytest.raises(BranchExistsError):
        save_branch(_replay(trace, name="cap", edits=[]), trace)
    save_branch(_replay(trace, name="cap", edits=[]), trace, force=True)
    assert read_branch_head(path).edits == ()


def test_never_writes_over_the_parent_or_a_file_that_is_not_a_branch(
    trace: Path, tmp_path: Path
) -> None:
    original = trace.read_bytes()
    with pytest.raises(BranchError, match="the trace being forked"):
        save_branch(_replay(trace), trace, output=trace, force=True)
    other = tmp_path / "notes.jsonl"
    other.write_text('{"type": "run"}\n')
    with pytest.raises(BranchError, match="not a trace-tui branch"):
        save_branch(_replay(trace), trace, output=other, force=True)
    assert trace.read_bytes() == original and other.read_text() == '{"type": "run"}\n'


def test_branch_tree_lists_branches_and_branches_of_branches(trace: Path) -> None:
    a = save_branch(_replay(trace, name="a"), trace)
    b = save_branch(_replay(trace, name="b", edits=[], at=3), trace)
    child_plan = plan_fork(open_run(a), 6, [], name="a-child")
    child = Replay(child_plan)
    child.run()
    c = save_branch(child, a)
    assert c.parent == a.parent == b.parent  # a branch of a branch lives beside it
    assert read_branch_head(c).parent == a.resolve()
    (a.parent / ".discount_over_cap--x.jsonl.123.tmp").write_text("partial")
    (a.parent / "README.txt").write_text("not a branch")
    assert {e.name for e in list_branches(a.parent)} == {"a", "b", "a-child"}
    tree = branch_tree(trace)
    shape = [(node.entry.name if node.entry else "root", depth) for node, depth in tree.walk()]
    assert shape == [("root", 0), ("b", 1), ("a", 1), ("a-child", 2)]  # by fork step, then name
    assert [n.entry.status for n, _ in tree.walk() if n.entry] == [
        "complete",
        "needs_model_response",
        "needs_model_response",
    ]
    assert find_root(c) == trace.resolve()
    assert branch_tree(a).children[0].entry.name == "a-child"


def test_load_branch_checks_its_parent(trace: Path) -> None:
    path = save_branch(_replay(trace, name="cap"), trace)
    loaded = load_branch(path)
    assert loaded.plan().edits == (EDIT,) and loaded.parent_path == trace.resolve()
    text = trace.read_text().replace("run-discount_over_cap", "run-other", 1)
    trace.write_text(text)
    with pytest.raises(BranchError, match="is now run 'run-other'"):
        load_branch(path)
    trace.unlink()
    with pytest.raises(BranchError, match="parent .* is missing"):
        load_branch(path)
    with pytest.raises(BranchError, match="not a trace-tui branch"):
        load_branch(SAMPLES / "discount_over_cap.jsonl")


def test_manual_answers_survive_a_replay_and_give_identical_bytes(trace: Path) -> None:
    replay = _replay(trace, name="cap")
    replay.answer(
        {
            "content": None,
            "tool_calls": [
                {"name": "apply_discount", "arguments": {"order_id": "A-2291", "percent": 15}}
            ],
        }
    )
    replay.run()
    replay.answer({"ok": True})
    replay.run()
    path = save_branch(replay, trace)
    saved = path.read_bytes()
    assert main(["replay", str(path), "--json"]) == 3  # still needs step 8, same as before
    assert path.read_bytes() == saved
    assert main(["replay", str(path), "--answer", "Applied 15%."]) == 0
    after = path.read_bytes()
    assert main(["replay", str(path)]) == 0 and path.read_bytes() == after
    head = json.loads(after.splitlines()[1])
    assert head["sources"] == {"model": "fixtures+manual", "tools": "fixtures+manual"}
    assert main(["replay", str(path), "--fresh"]) == 3  # ignoring earlier answers stops again


def test_fork_list_prints_the_tree(trace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fork", str(trace), "--list"]) == 0
    assert "no branches" in capsys.readouterr().out
    save_branch(_replay(trace, name="cap\x1b[31m"), trace)
    assert main(["fork", str(trace), "--list"]) == 0
    out = capsys.readouterr().out
    assert "cap␛[31m @ step 5, 1 edit(s): needs_model_response" in out and "\x1b" not in out


def test_branches_dir_option_and_default_path(trace: Path, tmp_path: Path) -> None:
    assert branch_path(trace, "x") == trace.parent / ".trace-tui" / "discount_over_cap--x.jsonl"
    elsewhere = tmp_path / "mine"
    path = save_branch(_replay(trace, name="x"), trace, branches_dir=elsewhere)
    assert path == elsewhere / "discount_over_cap--x.jsonl"
    assert read_branch_head(path).parent == trace.resolve()
    assert (
        json.loads(path.read_text().splitlines()[1])["parent_path"] == "../discount_over_cap.jsonl"
    )
