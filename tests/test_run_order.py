"""Steps are numbered in the run's order: start time, parents before children, ties by file
order, for every format and live too (a parent written after its children moves above them).

The Collector's file exporter writes a span when it ends, so the root comes last in the file
(``tests/data/frameworks`` were written that way by the real frameworks).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from support import FOREIGN_FILES, ROOT, SAMPLE_FILES
from trace_tui.core.navigation.run_order import OrderedRun, RunOrdering, run_order
from trace_tui.core.reading.reader import open_run
from trace_tui.core.reading.source import open_source

FRAMEWORK_FILES = sorted((ROOT / "tests" / "data" / "frameworks").glob("*.jsonl"))
ALL_FILES = [*SAMPLE_FILES, *FOREIGN_FILES, *FRAMEWORK_FILES]


@pytest.mark.parametrize("trace", ALL_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_parent_comes_before_its_children(trace: Path) -> None:
    run = open_run(trace)
    for step in run.steps:
        parent = run.parent_of(step)
        assert parent is None or parent.index < step.index, (step.number, step.name)
    for a, b in zip(run.steps, run.steps[1:], strict=False):
        if a.start_time is not None and b.start_time is not None and run.parent_of(b) is not a:
            # siblings and cousins in start order (a child may start with its parent)
            assert b.start_time >= a.start_time or _ancestor(run, a, b), (a.number, b.number)


def _ancestor(run, a, b) -> bool:  # a step placed early because a later one is its child
    up = run.parent_of(b)
    while up is not None:
        if up is a:
            return True
        up = run.parent_of(up)
    return False


def test_the_collector_file_root_is_step_1_and_time_travel_sees_it_running() -> None:
    run = open_run(ROOT / "tests" / "data" / "frameworks" / "openai-agents.jsonl")
    assert run.steps[0].parent_id is None and run.steps[0].name == "Agent workflow"
    assert run.steps[-1].kind == "llm"  # the last thing that started: the final answer
    assert [s.kind for s in run.steps[3:6]] == ["agent", "llm", "tool"]


def test_run_order_places_a_late_parent_first_and_keeps_file_order_for_ties() -> None:
    # file: child (t=2), sibling (t=2), parent (t=1, written last)
    assert run_order([2, 2, -1], [2.0, 2.0, 1.0]) == [2, 0, 1]
    # a child stamped before its parent still comes after it
    assert run_order([-1, 0], [5.0, 4.0]) == [0, 1]
    # no start time: stays after its file neighbour
    assert run_order([-1, -1, -1], [1.0, None, 0.5]) == [2, 0, 1]


def _otlp_lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _run_order_reference(parents: list[int], starts: list[float | None]) -> list[int]:
    """The rule spelled out step by step (the one :func:`run_order` had before its bulk
    pass): by (start, file position), each step bringing its unplaced ancestors first."""
    count, keys, last = len(parents), [], float("-inf")
    for start in starts:
        last = last if start is None else start
        keys.append(last)
    placed, order = [False] * count, []
    for position in sorted(range(count), key=lambda i: (keys[i], i)):
        chain, at = [], position
        while 0 <= at < count and not placed[at] and at not in chain:
            chain.append(at)
            at = parents[at]
        for step in reversed(chain):
            placed[step] = True
            order.append(step)
    return order


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_run_order_equals_the_step_by_step_rule(data: st.DataObject) -> None:
    """The bulk pass (every parent already placed) and the chain loop give the rule's order:
    parents anywhere (earlier, later, out of range, itself, cycles), starts tied or missing."""
    count = data.draw(st.integers(0, 30))
    parents = data.draw(st.lists(st.integers(-2, count + 1), min_size=count, max_size=count))
    starts = data.draw(st.lists(st.one_of(st.none(), st.sampled_from([0.0, 1.0, 2.0, 3.5])),
                                min_size=count, max_size=count))  # fmt: skip
    assert run_order(parents, starts) == _run_order_reference(parents, starts)
    tree = [data.draw(st.integers(-1, i - 1)) for i in range(count)]  # parents first in file
    assert run_order(tree, starts) == _run_order_reference(tree, starts)


def test_live_tail_moves_a_late_parent_above_its_children(tmp_path: Path) -> None:
    """Follow a Collector file as it is written: the root span arrives last and takes its
    place above the steps already shown; the view says where each shown step went."""
    lines = _otlp_lines(ROOT / "tests" / "data" / "frameworks" / "pydantic-ai.jsonl")
    live = tmp_path / "live.jsonl"
    live.write_bytes(b"".join(lines[:-1]))
    source = open_source(live, follow=True)
    ordering = RunOrdering()
    try:
        for _ in range(50):
            update = source.update()
            if update.complete:
                break
        view, moved = ordering.update(source.run)
        assert moved is None and view is source.run and len(view) == len(lines) - 1
        first = view.row(0)
        with open(live, "ab") as out:
            out.write(lines[-1])
        for _ in range(50):
            if source.update().complete and len(source.run) == len(lines):
                break
        view, moved = ordering.update(source.run)
        assert isinstance(view, OrderedRun) and moved is not None
        assert view.row(0).parent_index == -1 and view.step(0).kind == "agent"
        assert view.row(0).start_time <= first.start_time
        # the step that was shown first is now second, under the root
        assert moved[0] == 0 and view.position_of(0) == 1 and view.row(1).parent_index == 0
        assert all(view.row(i).parent_index < i for i in range(len(view)))
    finally:
        source.close()


def test_an_unchanged_run_is_not_sorted_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader asks for the view after every update, also while only the facts are still
    being scanned: a reordered run (an OTLP root written last) that did not change keeps its
    view; a sort per pass took minutes on a million spans."""
    import trace_tui.core.navigation.run_order as run_order_module
    from bench.generate_foreign import write_otlp

    path = tmp_path / "otlp.jsonl"
    write_otlp(path, 200)
    source = open_source(path)
    try:
        while not source.update().complete:
            pass
        sorts: list[int] = []
        real = run_order_module.run_order
        monkeypatch.setattr(run_order_module, "run_order",
                            lambda p, s: sorts.append(len(p)) or real(p, s))
        ordering = RunOrdering()
        view, _ = ordering.update(source.run)
        assert isinstance(view, OrderedRun) and sorts == [200]
        for _ in range(3):
            again, moved = ordering.update(source.run)
            assert again is view and moved is None
        assert sorts == [200]
        source.run._touch()  # the run changed (a step updated): sorted again
        assert ordering.update(source.run)[0] is not view and sorts == [200, 200]
    finally:
        source.close()
