"""Alignment of two runs' steps by what they are (core/diff/align.py): insertions and removals show
as such and everything else still lines up, on small hand-made runs and on 20k-step runs."""

from __future__ import annotations

import random
from typing import Any

from trace_tui.core.diff.align import (
    AlignedPair,
    align_runs,
    longest_increasing,
    signatures,
)
from trace_tui.core.model.builder import RunBuilder
from trace_tui.core.model.run import Run


def make_run(spans: list[dict[str, Any]], prefix: str = "s") -> Run:
    """A run of ``spans`` (kind, name, attributes; ``parent`` an index) under fresh ids."""
    run = Run()
    builder = RunBuilder(run)
    for n, spec in enumerate(spans):
        parent = spec.get("parent")
        builder.add(
            {
                "type": "span",
                "span_id": f"{prefix}{n}",
                "parent_id": f"{prefix}{parent}" if parent is not None else None,
                "kind": spec["kind"],
                "name": spec["name"],
                "status": "ok",
                "start_time": n + (1000 if prefix != "s" else 0),
                "end_time": n + 0.5,
                "attributes": spec.get("attributes", {}),
            }
        )
    return run


def tool(name: str, parent: int | None = 0, call_id: str = "c", **args: Any) -> dict[str, Any]:
    """A tool span spec."""
    return {
        "kind": "tool",
        "name": name,
        "parent": parent,
        "attributes": {
            "gen_ai.tool.name": name,
            "gen_ai.tool.call.id": call_id,
            "gen_ai.tool.call.arguments": args,
            "gen_ai.tool.call.result": {"ok": True},
        },
    }


def llm(answer: str, parent: int | None = 0, call_id: str = "c") -> dict[str, Any]:
    """A model-call span spec whose answer is ``answer`` plus a tool call with ``call_id``."""
    return {
        "kind": "llm",
        "name": "chat gpt-4o",
        "parent": parent,
        "attributes": {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.output.messages": [
                {
                    "role": "assistant",
                    "content": answer,
                    "tool_calls": [{"id": call_id, "name": "t", "arguments": {"x": 1}}],
                }
            ],
        },
    }


AGENT = {
    "kind": "agent",
    "name": "agent",
    "parent": None,
    "attributes": {"gen_ai.agent.name": "support"},
}


def pairs(left: Run, right: Run) -> list[tuple[int | None, int | None]]:
    return [tuple(p) for p in align_runs(left, right).pairs()]  # type: ignore[misc]


def test_identical_runs_with_other_ids_align_one_to_one() -> None:
    spans = [
        AGENT,
        llm("a", call_id="c1"),
        tool("lookup", order_id=1, call_id="c1"),
        llm("b", call_id="c2"),
        tool("refund", order_id=1, call_id="c2"),
    ]
    other = [
        AGENT,
        llm("a", call_id="x1"),
        tool("lookup", order_id=1, call_id="x1"),
        llm("b", call_id="x2"),
        tool("refund", order_id=1, call_id="x2"),
    ]
    assert pairs(make_run(spans), make_run(other, prefix="z")) == [(i, i) for i in range(5)]


def test_inserted_tool_call_is_an_insertion_and_the_rest_lines_up() -> None:
    left = make_run([AGENT, llm("a"), tool("lookup", order_id=1), llm("b"), tool("refund", n=2)])
    right = make_run(
        [
            AGENT,
            llm("a"),
            tool("lookup", order_id=1),
            tool("get_user", id=7),
            llm("b"),
            tool("refund", n=2),
        ]
    )
    assert pairs(left, right) == [(0, 0), (1, 1), (2, 2), (None, 3), (3, 4), (4, 5)]


def test_removed_step_is_a_removal() -> None:
    left = make_run([AGENT, tool("a", k=1), tool("b", k=2), tool("c", k=3), tool("d", k=4)])
    right = make_run([AGENT, tool("a", k=1), tool("c", k=3), tool("d", k=4)])
    assert pairs(left, right) == [(0, 0), (1, 1), (2, None), (3, 2), (4, 3)]


def test_changed_arguments_pair_the_same_tool() -> None:
    left = make_run([AGENT, llm("a"), tool("lookup_order", order_id=1), llm("done")])
    right = make_run([AGENT, llm("a2"), tool("lookup_order", order_id=1, user_id=2), llm("done")])
    assert pairs(left, right) == [(0, 0), (1, 1), (2, 2), (3, 3)]


def test_one_more_loop_iteration_is_one_insertion() -> None:
    poll = [tool("check_status", ticket=5) for _ in range(6)]
    left = make_run([AGENT, *poll, llm("give up")])
    right = make_run([AGENT, *poll, tool("check_status", ticket=5), llm("give up")])
    rows = pairs(left, right)
    assert [r for r in rows if r[0] is None or r[1] is None] == [(None, 7)]
    assert rows[-1] == (7, 8)


def test_tree_position_matters() -> None:
    """The same tool under a different parent kind is not the same step."""
    left = make_run([AGENT, tool("x", parent=0, k=1)])
    right = make_run([AGENT, tool("x", parent=None, k=1)])
    assert (1, 1) not in pairs(left, right)


def test_signatures_ignore_call_ids_and_key_order() -> None:
    left = make_run(
        [
            AGENT,
            llm("same", call_id="call_1"),
            {
                **tool("t"),
                "attributes": {
                    "gen_ai.tool.name": "t",
                    "gen_ai.tool.call.arguments": {"a": 1, "b": 2},
                },
            },
        ]
    )
    right = make_run(
        [
            AGENT,
            llm("same", call_id="call_zz"),
            {
                **tool("t"),
                "attributes": {
                    "gen_ai.tool.name": "t",
                    "gen_ai.tool.call.arguments": {"b": 2, "a": 1},
                },
            },
        ],
        prefix="q",
    )
    assert signatures(left).strong == signatures(right).strong


def test_longest_increasing() -> None:
    assert longest_increasing([(0, 0), (1, 5), (2, 1), (3, 2), (4, 6)]) == [
        (0, 0),
        (2, 1),
        (3, 2),
        (4, 6),
    ]
    assert longest_increasing([]) == []


def test_alignment_rows_helpers() -> None:
    alignment = align_runs(make_run([AGENT, tool("a", k=1)]), make_run([AGENT]))
    assert len(alignment) == 2
    assert alignment.pair(1) == AlignedPair(1, None)
    assert alignment.matched == 1


def _big_spans(count: int, rng: random.Random, repetitive: bool) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = [AGENT]
    for n in range(count - 1):
        key = rng.randrange(5) if repetitive else n
        if n % 2:
            spans.append(tool(f"tool{n % 3}", order=key))
        else:
            spans.append(llm(f"answer {key}"))
        spans[-1]["attributes"] = {**spans[-1]["attributes"], "origin": n}
    return spans


def _check_big(repetitive: bool) -> None:
    rng = random.Random(3)
    spans = _big_spans(20_000, rng, repetitive)
    removed = set(rng.sample(range(1, len(spans)), 12))
    right_spans = [s for n, s in enumerate(spans) if n not in removed]
    inserted_at = sorted(rng.sample(range(1, len(right_spans)), 12), reverse=True)
    for k in inserted_at:
        right_spans.insert(k, tool("inserted", parent=0, k=k))
    left, right = make_run(spans), make_run(right_spans, prefix="r")
    rows = pairs(left, right)
    assert sorted(i for i, j in rows if j is None) == sorted(removed)
    inserted = [j for i, j in rows if i is None]
    assert [right.step(j).name for j in inserted] == ["inserted"] * 12
    for i, j in rows:
        if i is not None and j is not None:
            assert left.step(i).attributes.get("origin") == right.step(j).attributes.get("origin")


def test_large_runs_with_unique_steps_align_exactly() -> None:
    _check_big(repetitive=False)


def test_large_repetitive_runs_still_find_the_edits() -> None:
    """Few unique steps: the runs-of-steps anchors and the fallbacks must still find them."""
    _check_big(repetitive=True)


def test_one_incident_recorded_by_claude_code_and_codex_pairs_turn_calls_and_tools() -> None:
    from support import FOREIGN
    from trace_tui.core.diff.compare import diff_runs
    from trace_tui.core.reading.reader import open_run

    claude = open_run(FOREIGN / "claude-code" / "claude-code-2.1.328_orders.jsonl")
    codex = open_run(FOREIGN / "codex" / "codex-0.169.0_orders.jsonl")
    diff = diff_runs(claude, codex)
    paired = {
        (claude.step(r.left).kind, codex.step(r.right).kind)
        for r in diff.rows
        if r.left is not None and r.right is not None
    }
    assert {("agent", "agent"), ("llm", "llm"), ("tool", "tool")} <= paired
    kinds = [claude.step(r.left).kind for r in diff.rows if r.left is not None and r.right]
    assert kinds.count("llm") == 2 and kinds.count("tool") == 1
    assert not any(r.left is None for r in diff.rows)  # every Codex step found its partner
