"""Langfuse and LangSmith exports against numbers read off the files by hand.

Langfuse, per file: ``jq '[.observations[] | select(.type=="GENERATION")] | length'`` (model
calls), ``select(.type=="TOOL")`` (tool calls), ``select(.level=="ERROR")`` (errors), and the sums
of ``usageDetails.input`` / ``.output`` over GENERATION observations. Depth counts the trace as
the root step, then ``parentObservationId`` links.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trace_tui.core.reading.reader import open_run

FOREIGN = Path(__file__).parent / "data" / "foreign"

LANGFUSE = [
    # file, generations, tools, errors, input tokens, output tokens, depth
    ("langfuse_framework-trace_claude-agent-2025-12-22.trace.json", 4, 2, 0, 34, 232, 2),
    ("langfuse_framework-trace_microsoft-agent-2025-12-17.trace.json", 2, 1, 0, 293, 106, 2),
    ("langfuse_framework-trace_openai-agents-2025-09-30.trace.json", 2, 1, 0, 140, 44, 3),
    ("langfuse_framework-trace_pydantic-ai-tools-2025-12-04.trace.json", 4, 3, 0, 1315, 209, 4),
]


@pytest.mark.parametrize(("name", "llm", "tools", "errors", "tin", "tout", "depth"), LANGFUSE)
def test_langfuse_counts(
    name: str, llm: int, tools: int, errors: int, tin: int, tout: int, depth: int
) -> None:
    run = open_run(FOREIGN / "langfuse" / name)
    assert run.format_name == "langfuse"
    assert len(run.steps_of_kind("llm")) == llm
    assert len(run.steps_of_kind("tool")) == tools
    assert len(run.errors()) == errors
    totals = run.token_totals()
    assert (totals.input_tokens, totals.output_tokens) == (tin, tout)
    assert max(run.depth_of(s) for s in run.steps) == depth


def test_langfuse_genai_attributes_and_messages() -> None:
    run = open_run(
        FOREIGN / "langfuse" / "langfuse_framework-trace_microsoft-agent-2025-12-17.trace.json"
    )
    (tool,) = run.steps_of_kind("tool")
    # metadata.attributes gen_ai.tool.call.id; input {"location":"Tokyo, Japan"}
    assert tool.tool_call_id == "call_CwaJHuXTm9dmHFQPlVbqyzJ0"
    assert tool.tool_arguments == {"location": "Tokyo, Japan"}
    first = run.steps_of_kind("llm")[0]
    # output: GenAI parts with a tool_call whose arguments are a JSON string.
    assert first.output_tool_calls[0].arguments == {"location": "Tokyo, Japan"}
    assert first.output_tool_calls[0].id == tool.tool_call_id
    assert first.tool_definitions[0]["name"] == "get_weather"  # gen_ai.tool.definitions
    second = run.steps_of_kind("llm")[1]
    assert second.input_messages[0].role == "tool"


def test_langfuse_openinference_responses_output() -> None:
    run = open_run(
        FOREIGN / "langfuse" / "langfuse_framework-trace_openai-agents-2025-09-30.trace.json"
    )
    first = run.steps_of_kind("llm")[0]  # the earlier GENERATION (started 09:03:59.963)
    # Its output is a raw Responses object whose output[0] is a function_call get_weather.
    assert first.output_tool_calls[0].name == "get_weather"
    assert first.output_tool_calls[0].arguments == {"city": "Tokyo"}
    second = run.steps_of_kind("llm")[1]
    # input: user message, function_call, function_call_output (Responses items).
    assert [m.role for m in second.input_messages] == ["user", "assistant", "tool"]


def test_langsmith_run_tree() -> None:
    run = open_run(FOREIGN / "langsmith" / "langsmith-fetch_sample_runs_flat.json")
    assert run.format_name == "langsmith"
    # run_type: chain ×2 (root, child-uuid-1), tool ×1, llm ×1.
    assert [s.kind for s in run.steps].count("agent") == 2
    assert len(run.steps_of_kind("tool")) == 1
    (llm,) = run.steps_of_kind("llm")
    # Only the llm run's own tokens count (chains repeat their children's totals).
    assert (llm.usage.input_tokens, llm.usage.output_tokens) == (180000, 20000)
    assert run.token_totals().input_tokens == 180000
    # root → generateEpicResponse → createStreamChat (dotted_order …Z.1.1): depth 2.
    assert max(run.depth_of(s) for s in run.steps) == 2
    assert not run.errors()
    root = run.steps[0]
    assert root.attr("langsmith.total_tokens") == 705401  # kept, not summed


def test_langsmith_jsonl_streams(tmp_path: Path) -> None:
    import orjson

    doc = orjson.loads(
        (FOREIGN / "langsmith" / "langsmith-fetch_sample_runs_flat.json").read_bytes()
    )
    path = tmp_path / "runs.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(r) for r in doc["runs"]) + b"\n")
    run = open_run(path)
    assert run.format_name == "langsmith-jsonl"
    assert len(run.steps) == 4 and max(run.depth_of(s) for s in run.steps) == 2
