"""Determinism on every sample: an unedited fork at any step replays the run step for step,
and the same fork (or the same branch replayed again) gives byte-identical files.

"Identical" is :func:`~trace_tui.core.replay.records.normalised_steps`: kind, name, status,
error, parent step and every attribute except ``trace_tui.replay.*`` (docs/replay.md).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from support import SAMPLE_FILES
from trace_tui.cli.commands import main
from trace_tui.core.export.validate import validate_file
from trace_tui.core.reading.reader import open_run
from trace_tui.core.replay.branches import branch_records, load_branch, save_branch, serialise
from trace_tui.core.replay.engine import COMPLETE, Replay, normalised_steps
from trace_tui.core.replay.fork import plan_fork

assert len(SAMPLE_FILES) >= 5, "the five native samples are missing from sample_traces/"


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.stem)
def test_unedited_fork_at_every_step_equals_the_original(sample: Path) -> None:
    run = open_run(sample)
    expected = normalised_steps(run)
    for number in range(1, len(run) + 1):
        replay = Replay(plan_fork(run, number))
        assert replay.run() == COMPLETE, (number, replay.note)
        branch = replay.to_run("../x.jsonl")
        assert branch.problems == []
        assert normalised_steps(branch) == expected, f"fork at step {number} differs"
        assert [s.span_id for s in branch.steps] == [s.span_id for s in run.steps]
        matches = {r["attributes"]["trace_tui.replay.match"] for r in replay.replayed}
        assert matches <= {"recorded-response", "exact-args", "recorded"}, (number, matches)


def _branch_bytes(trace: Path, edit: dict) -> bytes:
    replay = Replay(plan_fork(open_run(trace), 2, [edit]))
    replay.run()
    return serialise(replay.all_records("../x.jsonl"))


@pytest.mark.parametrize("sample", SAMPLE_FILES, ids=lambda p: p.stem)
def test_branch_files_are_valid_and_byte_identical_when_replayed_again(
    sample: Path, tmp_path: Path
) -> None:
    trace = tmp_path / sample.name
    trace.write_bytes(sample.read_bytes())
    run = open_run(trace)
    edit = {"op": "add", "path": "/attributes/trace_tui.note", "value": "fork"}
    assert _branch_bytes(trace, edit) == _branch_bytes(trace, edit)
    replay = Replay(plan_fork(run, 2, [edit]))
    replay.run()
    path = save_branch(replay, trace)
    assert validate_file(path) == []
    saved = path.read_bytes()
    assert main(["replay", str(path)]) == 0
    assert path.read_bytes() == saved
    loaded = load_branch(path)
    again = Replay(loaded.plan())
    again.run()
    # the file is what save_branch writes: the records with secrets masked, saying so
    assert serialise(branch_records(again, "../" + trace.name)) == saved
    assert (
        hashlib.sha256(trace.read_bytes()).digest() == hashlib.sha256(sample.read_bytes()).digest()
    )
