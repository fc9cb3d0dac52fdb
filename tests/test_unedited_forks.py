"""An unedited fork of any supported trace, at any step, replays identical and diffs equal.

Over every native sample, every foreign trace kept in ``tests/data/foreign`` (the copies of
``../shared/samples`` and the handmade ones) and the framework traces in ``tests/data/frameworks``:
a fork with no edits either is refused with a
reason that says what the format did not record, or replays to completion with the same steps
(:func:`~trace_tui.core.replay.records.normalised_steps`) and ``diff`` calls the branch equal
to its parent: trace-tui's own ``trace_tui.replay.*`` bookkeeping is not a difference unless
``--strict``.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from support import FOREIGN, FOREIGN_FILES, SAMPLE_FILES, SHARED_SAMPLES
from trace_tui.cli.commands import main
from trace_tui.core.diff.compare import DiffOptions, diff_runs
from trace_tui.core.reading.reader import open_run
from trace_tui.core.replay.branches import save_branch
from trace_tui.core.replay.engine import COMPLETE, Replay, normalised_steps
from trace_tui.core.replay.fork import ForkError, plan_fork

FRAMEWORK_FILES = sorted((FOREIGN.parent / "frameworks").glob("*.jsonl"))
ALL_FILES = [*SAMPLE_FILES, *FOREIGN_FILES, *FRAMEWORK_FILES]
#: Why a fork may be refused: what the format itself did not record.
LEGITIMATE_REFUSALS = (
    "no model calls in the run",
    "no message content (model inputs or outputs were not recorded)",
)


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.parametrize("trace", ALL_FILES, ids=_name)
def test_unedited_fork_at_every_step_replays_identical_and_diffs_equal(trace: Path) -> None:
    run = open_run(trace)
    expected = normalised_steps(run)
    refusals = LEGITIMATE_REFUSALS
    forked = 0
    for number in range(1, len(run) + 1):
        try:
            plan = plan_fork(run, number)
        except ForkError as exc:
            reasons = str(exc).split(": ", 1)[1]
            assert all(
                any(part.startswith(ok) for ok in refusals) for part in reasons.split("; ")
            ), (number, str(exc))
            continue
        replay = Replay(plan)
        assert replay.run() == COMPLETE, (number, replay.note)
        branch = replay.to_run("../parent.jsonl")
        assert normalised_steps(branch) == expected, f"fork at step {number} differs"
        diff = diff_runs(run, branch)
        assert diff.equivalent, (number, [r for r in diff.rows if r.status != "same"][:2])
        forked += 1
    # these record no model or tool exchange a fork could start from; every other trace forks
    never = trace.parent.name in ("assay", "mcp-inspector", "otlp", "otel-genai")
    assert (forked == 0) == never, (trace.name, forked)


def test_strict_counts_the_replay_bookkeeping_again() -> None:
    run = open_run(SAMPLE_FILES[0])
    replay = Replay(plan_fork(run, 2))
    replay.run()
    branch = replay.to_run("../parent.jsonl")
    assert diff_runs(run, branch).equivalent
    strict = diff_runs(run, branch, DiffOptions(strict=True))
    pointers = {c.pointer for row in strict.rows for c in row.changes}
    assert "/attributes/trace_tui.replay.match" in pointers
    kept = diff_runs(run, branch, DiffOptions(ignore=("ids", "timestamps"), strict=True))
    assert not kept.equivalent  # the group is named: leaving it out counts the bookkeeping


def test_diff_of_an_unedited_openinference_branch_exits_0(tmp_path: Path, capsys) -> None:
    trace = tmp_path / "orders.jsonl"
    trace.write_bytes((FOREIGN / "openinference" / "openinference-orders.jsonl").read_bytes())
    run = open_run(trace)
    replay = Replay(plan_fork(run, 1))
    assert replay.run() == COMPLETE
    path = save_branch(replay, trace)
    tool = next(s for s in open_run(path).steps if s.kind == "tool")
    assert tool.status == "unset"  # OpenInference leaves tool spans unset; replay keeps it
    assert main(["diff", str(path), "--plain"]) == 0
    assert "result: the runs are equivalent" in capsys.readouterr().out
    assert main(["diff", str(path), "--plain", "--strict"]) == 1


@pytest.mark.skipif(SHARED_SAMPLES is None, reason="../shared/samples is not beside this clone")
def test_the_foreign_copies_are_the_shared_samples() -> None:
    assert SHARED_SAMPLES is not None
    for path in SHARED_SAMPLES.glob("*/*"):
        if path.is_file() and path.name not in ("SOURCE.md",):
            copy = FOREIGN / path.parent.name / path.name
            assert copy.exists() and filecmp.cmp(path, copy, shallow=False), _name(path)


def test_replayed_and_hand_answered_deltas_are_not_measured() -> None:
    """Replayed steps reuse the recorded times, a hand-typed answer has no usage: neither is
    a zero change or a saving."""
    from trace_tui.core.diff.wording import delta_text
    from trace_tui.core.replay.engine import NEEDS_MODEL

    run = open_run(SAMPLE_FILES[0])
    replay = Replay(plan_fork(run, 2))
    replay.run()
    diff = diff_runs(run, replay.to_run("../parent.jsonl"))
    totals = diff.total_deltas()
    assert delta_text(totals["duration"], seconds=True) == "not measured"
    assert "±0.00 s" not in delta_text(totals["duration"], seconds=True)
    row = next(r for r in diff.rows if r.right is not None and r.right >= 1)
    assert diff.deltas(row)["latency"].change is None
    llm = next(s for s in run.steps if s.kind == "llm")
    edit = {"op": "add", "path": "/attributes/gen_ai.request.temperature", "value": 0.123}
    manual = Replay(plan_fork(run, llm.number, [edit]))
    assert manual.run() == NEEDS_MODEL
    manual.answer("Done.")
    manual.run()
    hand = diff_runs(run, manual.to_run("../parent.jsonl")).total_deltas()
    assert hand["tokens"].change is None and delta_text(hand["tokens"]) == "not measured"
    assert hand["cost"].change is None
