"""The core model on every built-in sample, against numbers read off the files by hand.

Expected values were counted with jq, independently of trace-tui, e.g.
``jq -s '[.[]|select(.type=="span" or .type=="span_start")|.kind]|group_by(.)' FILE`` for the kinds
and ``jq -s '[.[]|.attributes["gen_ai.usage.input_tokens"]//empty]|add' FILE`` for the tokens.
"""

from __future__ import annotations

import pytest

from support import SAMPLES
from trace_tui.core.navigation.state import state_at
from trace_tui.core.reading.reader import open_run

# file: (steps, {kind: count}, input, output, cache-read tokens, 1-based error steps)
EXPECTED = {
    "discount_over_cap": (8, {"agent": 1, "llm": 4, "tool": 3}, 2066, 120, 1280, [7]),
    "empty_retrieval_fabrication": (4, {"agent": 1, "llm": 2, "retrieval": 1}, 803, 63, 256, []),
    "order_lookup_missing_user_id": (4, {"agent": 1, "llm": 2, "tool": 1}, 814, 57, 256, []),
    "system_prompt_evicted": (10, {"agent": 1, "llm": 7, "tool": 2}, 32906, 186, 20224, []),
    "tool_loop_no_progress": (13, {"agent": 1, "llm": 6, "tool": 6}, 3327, 150, 2787, [1]),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_counts_tokens_and_errors(name: str) -> None:
    steps, kinds, tokens_in, tokens_out, cache_read, errors = EXPECTED[name]
    run = open_run(SAMPLES / f"{name}.jsonl")
    assert run.problems == []
    assert len(run) == steps
    counted = {k: len(run.steps_of_kind(k)) for k in ("agent", "llm", "tool", "retrieval")}
    assert {k: v for k, v in counted.items() if v} == kinds
    totals = run.token_totals()
    assert (totals.input_tokens, totals.output_tokens, totals.cache_read_tokens) == (
        tokens_in,
        tokens_out,
        cache_read,
    )
    assert totals.cache_write_tokens is None  # never recorded: unknown, not zero
    assert [s.number for s in run.errors()] == errors


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_tree_is_one_agent_with_all_steps_under_it(name: str) -> None:
    run = open_run(SAMPLES / f"{name}.jsonl")
    [root] = run.roots()
    assert root.kind == "agent" and root.number == 1
    assert [c.number for c in run.children_of(root)] == list(range(2, len(run) + 1))
    assert run.max_depth() == 1
    assert [row.depth for row in map(run.row, range(len(run)))] == [0] + [1] * (len(run) - 1)
    assert all(run.row(i).parent_index == 0 for i in range(1, len(run)))


def test_discount_sample_payloads() -> None:
    run = open_run(SAMPLES / "discount_over_cap.jsonl")
    loyalty = run.step(4)
    assert loyalty.kind == "tool" and loyalty.tool_name == "get_loyalty_discount"
    assert loyalty.tool_result["discount_pct"] == 35
    assert loyalty.tool_call_id == "call_disc"
    rejected = run.step(6)
    assert rejected.status == "error"
    assert rejected.error == "ToolError: 35% exceeds the business cap of 20%"
    first_llm = run.step(1)
    assert first_llm.model == "gpt-4o-2024-08-06"
    assert first_llm.parameters == {"temperature": 0.0, "top_p": 1.0, "max_tokens": 1024, "seed": 7}
    assert [t["name"] for t in first_llm.tool_definitions] == [
        "get_customer",
        "get_loyalty_discount",
        "apply_discount",
    ]
    assert first_llm.duration == pytest.approx(0.9)
    assert run.step(0).status == "ok"  # span_start + span_end merged
    assert run.step(0).end_time is not None
    assert run.info.environment["user_id"] == "u-1001"
    assert run.tool_step_for_call("call_apply") is rejected


def test_state_at_step_shows_what_the_model_had_seen() -> None:
    run = open_run(SAMPLES / "discount_over_cap.jsonl")
    state = state_at(run, 4)  # step 5: get_loyalty_discount answered
    assert state.llm_step is run.step(3)
    assert "above 20%" in (state.system_prompt or "")
    roles = [m.role for m in state.messages]
    assert roles == ["user", "assistant", "tool", "assistant", "tool"]
    assert '"discount_pct": 35' in (state.messages[-1].content or "")
    assert [s.number for s in state.tool_results] == [3, 5]
    assert state.usage_so_far.input_tokens == 412 + 489  # only the two model calls so far
    # Step 2: the first model call, before any tool ran.
    early = state_at(run, 1)
    assert [m.role for m in early.messages] == ["user", "assistant"]
    assert early.tool_results == []


def test_state_at_evicted_system_prompt() -> None:
    run = open_run(SAMPLES / "system_prompt_evicted.jsonl")
    assert state_at(run, 6).system_prompt is not None  # step 7: 7904 tokens, still there
    late = state_at(run, 7)  # step 8: sliding window dropped it
    assert late.system_prompt is None
    assert late.llm_step is not None
    assert late.llm_step.attr("trace_tui.context.truncated") is True
    assert run.info.context_windows == {"acme-support-8k": 8192}


def test_state_at_clamps_and_refuses_empty_run() -> None:
    run = open_run(SAMPLES / "order_lookup_missing_user_id.jsonl")
    assert state_at(run, 99).index == 3
    assert state_at(run, -5).index == 0
    from trace_tui.core.model.run import Run

    with pytest.raises(IndexError):
        state_at(Run(), 0)
