"""Agent-framework traces (OpenAI Agents SDK, LangGraph, pydantic-ai) made with the real packages.

The files in ``tests/data/frameworks`` were generated offline by ``generate.py`` there (see its
SOURCE.md). OpenInference puts no call id on agent-framework tool spans, so results are joined
to calls by what the trace does record (:mod:`trace_tui.core.model.tool_join`): the next
request's ``tool_call_id``, then order within the parent. Readiness and replay use that join.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from support import FOREIGN, ROOT
from trace_tui.core.model.tool_join import BY_ID, BY_ORDER, join_tool_calls
from trace_tui.core.reading.reader import open_run
from trace_tui.core.replay.engine import NEEDS_MODEL, Replay
from trace_tui.core.replay.fork import plan_fork
from trace_tui.core.replay.readiness import readiness

FRAMEWORKS = ROOT / "tests" / "data" / "frameworks"
FILES = sorted(FRAMEWORKS.glob("*.jsonl"))
assert len(FILES) == 3


@pytest.mark.parametrize("trace", FILES, ids=lambda p: p.stem)
def test_framework_traces_are_replayable_and_every_call_is_answered(trace: Path) -> None:
    run = open_run(trace)
    ready = readiness(run)
    assert ready.ready, ready.summary()
    joins = join_tool_calls(run)
    assert [j.name for j in joins] == ["lookup_order", "refund_order"]
    assert all(j.answered(run) and j.tool is not None for j in joins), joins
    assert all(run.steps[j.tool].tool_name == j.name for j in joins if j.tool is not None)


def test_openai_agents_tool_spans_are_joined_by_order_and_the_next_request() -> None:
    run = open_run(FRAMEWORKS / "openai-agents.jsonl")
    joins = join_tool_calls(run)
    assert {j.how for j in joins} == {BY_ORDER}
    assert all(j.request is not None and j.request > j.llm for j in joins)


def test_an_edited_result_on_a_tool_span_without_id_reaches_the_next_request() -> None:
    run = open_run(FRAMEWORKS / "openai-agents.jsonl")
    tool = next(s for s in run.steps if s.tool_name == "lookup_order")
    assert tool.tool_call_id is None
    edit = {"op": "replace", "path": "/attributes/gen_ai.tool.call.result", "value": "lost"}
    replay = Replay(plan_fork(run, tool.number, [edit]))
    assert replay.run() == NEEDS_MODEL  # the request changed: no recorded answer fits
    message = replay.pending.request.messages[-1]
    assert (message["role"], message["content"]) == ("tool", "lost")
    assert message["tool_call_id"] == "call_lookup_1"


def test_a_langgraph_tool_result_is_the_message_content_not_the_wrapper() -> None:
    run = open_run(FRAMEWORKS / "langgraph.jsonl")
    lookup = next(s for s in run.steps if s.tool_name == "lookup_order")
    assert lookup.tool_result == {"order_id": "A-1042", "status": "delivered", "total": 30}
    assert lookup.tool_call_id == "call_lookup_1"
    assert {j.how for j in join_tool_calls(run)} == {BY_ID}


def test_pydantic_ai_parts_system_instructions_are_text() -> None:
    run = open_run(FRAMEWORKS / "pydantic-ai.jsonl")
    llm = next(s for s in run.steps if s.kind == "llm")
    assert llm.system_prompt == "You help with orders. Use the tools."


def test_langfuse_openai_agents_sample_is_replayable() -> None:
    run = open_run(
        FOREIGN / "langfuse" / "langfuse_framework-trace_openai-agents-2025-09-30.trace.json"
    )
    assert readiness(run).ready, readiness(run).summary()


def test_a_final_answer_tool_the_run_ended_on_needs_no_result() -> None:
    run = open_run(
        FOREIGN / "langfuse" / "langfuse_framework-trace_pydantic-ai-tools-2025-12-04.trace.json"
    )
    assert readiness(run).ready, readiness(run).summary()


@pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("agents", "langgraph", "pydantic_ai")),
    reason="the frameworks extra is not installed (pip install -e '.[frameworks]')",
)
def test_the_generator_runs_the_real_frameworks(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(FRAMEWORKS))
    try:
        import generate  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(FRAMEWORKS))
    for path in generate.generate(tmp_path):
        first = json.loads(path.read_text().splitlines()[0])
        assert "resourceSpans" in first
        run = open_run(path)
        assert readiness(run).ready, (path.name, readiness(run).summary())
        assert [j.name for j in join_tool_calls(run)] == ["lookup_order", "refund_order"]
