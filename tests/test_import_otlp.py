"""OTLP/JSON importers (GenAI, OpenInference, spec examples) against numbers read off the files.

Every expected number below was counted by hand from the JSON with jq (command in the
comment), independently of the importer.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from trace_tui.core.formats.importers.otlp import OtlpMapper
from trace_tui.core.model.run import Run
from trace_tui.core.reading.reader import open_run

FOREIGN = Path(__file__).parent / "data" / "foreign"


def kinds(run: Run, kind: str) -> int:
    return len(run.steps_of_kind(kind))


def tool_errors(run: Run) -> int:
    return sum(1 for s in run.steps_of_kind("tool") if s.is_error)


def max_depth(run: Run) -> int:
    """Depth through parent ids (works whatever order parents and children arrived in)."""
    return max((run.depth_of(s) for s in run.steps), default=0)


def test_otel_genai_metadata_only() -> None:
    run = open_run(FOREIGN / "otel-genai" / "otel-genai-orders.jsonl")
    assert run.format_name == "otlp-jsonl"
    # jq -c '.resourceSpans[].scopeSpans[].spans[] | [.name, (.attributes[]
    #   | select(.key=="gen_ai.operation.name") | .value.stringValue)]' → chat ×2, execute_tool ×1,
    #   invoke_agent ×1; no span has status.code 2.
    assert (kinds(run, "llm"), kinds(run, "tool"), kinds(run, "agent")) == (2, 1, 1)
    assert tool_errors(run) == 0
    # gen_ai.usage.input_tokens 120 + 160, output_tokens 18 + 18.
    totals = run.token_totals()
    assert (totals.input_tokens, totals.output_tokens) == (280, 36)
    # chat/tool spans have parentSpanId 0b06305c879f8d02 = the invoke_agent span: depth 1.
    assert max_depth(run) == 1
    llm = run.steps_of_kind("llm")[0]
    assert llm.attr("gen_ai.provider.name") == "openai"  # from the old name gen_ai.system
    assert llm.parameters == {"temperature": 0.7, "seed": 42}
    assert "gen_ai.input.messages" not in llm.attributes  # content not recorded by this version
    tool = run.steps_of_kind("tool")[0]
    assert tool.tool_call_id == "call_1"
    assert tool.tool_arguments == {"query": "my order"}
    assert tool.tool_result["orders"][0]["order_id"] == "4421"
    assert tool.source["spanId"] == "188732ca5dc94fe0"  # the original OTLP span stays reachable


def test_openinference_flattened_messages() -> None:
    run = open_run(FOREIGN / "openinference" / "openinference-orders.jsonl")
    # openinference.span.kind LLM ×2; the tool span uses GenAI execute_tool names.
    assert (kinds(run, "llm"), kinds(run, "tool"), kinds(run, "agent")) == (2, 1, 1)
    # llm.token_count.prompt 120 + 160, completion 18 + 18.
    totals = run.token_totals()
    assert (totals.input_tokens, totals.output_tokens) == (280, 36)
    assert max_depth(run) == 1
    first, second = run.steps_of_kind("llm")
    # llm.input_messages.0 is the system message; .1 the user question.
    assert first.system_prompt.startswith("You are a support agent")
    assert [m.role for m in first.input_messages] == ["user"]
    # The second call has input_messages 0..3: system, user, assistant (tool call), tool.
    assert [m.role for m in second.input_messages] == ["user", "assistant", "tool"]
    assert second.input_messages[1].tool_calls[0].id == "call_3"
    assert first.output_tool_calls[0].name == "lookup_order"
    assert first.output_tool_calls[0].arguments == {"query": "my order"}
    # llm.tools.0..2.tool.json_schema
    assert [t["name"] for t in first.tool_definitions] == [
        "lookup_order",
        "calculate_discount",
        "apply_discount",
    ]
    assert "input.value" not in first.attributes  # the raw request stays in source only


def test_file_exporter_spec_example_empty_ids() -> None:
    run = open_run(FOREIGN / "otlp" / "otel-spec_file-exporter_example_traces.jsonl")
    # 4 lines × 2 spans (operationA, operationB); every spanId is "".
    assert len(run.steps) == 8
    assert len({s.span_id for s in run.steps}) == 8  # ids generated, none lost
    # operationA has status {"code": 2, "message": "status-cancelled"} on each of the 4 lines.
    assert len(run.errors()) == 4
    assert run.steps[0].error == "status-cancelled"
    assert "trace_tui.import.note" in run.steps[0].attributes
    assert max_depth(run) == 0
    assert not run.problems


def test_single_request_document() -> None:
    run = open_run(FOREIGN / "otlp" / "opentelemetry-proto_examples_trace.json")
    assert run.format_name == "otlp-json"
    # One span, kind 2 (SERVER), hex ids upper-case in the file.
    (step,) = run.steps
    assert step.span_id == "eee19b7ec3c1b174"
    assert step.parent_id == "eee19b7ec3c1b173"  # not in the file: a root
    assert step.attr("otel.span.kind") == "SERVER"
    assert step.attr("my.span.attr") == "some value"
    assert step.duration == 1.0  # 1544712660 → 1544712661 s


def test_genai_variants_base64_events_logs_and_old_names() -> None:
    run = open_run(FOREIGN / "handmade" / "otlp-genai-variants.jsonl")
    # Written by hand: chat + execute_tool (line 1), log content (line 2), chat + agent (line 3).
    assert (kinds(run, "llm"), kinds(run, "tool"), kinds(run, "agent")) == (2, 1, 1)
    chat = run.step_by_id("00f067aa0ba902b7")  # base64 "APBnqguqArc=" decoded to hex
    assert chat is not None and chat.parent_id == "b7ad6b7169203331"
    assert chat.system_prompt == "Be brief."  # gen_ai.system.message event
    assert [m.content for m in chat.input_messages] == ["Delete temp files"]
    assert chat.output_tool_calls[0].arguments == {"path": "/tmp/x"}  # gen_ai.choice event
    assert chat.attr("gen_ai.response.finish_reasons") == ["tool_calls"]
    # anthropic: prompt_tokens 12 excludes cache reads 800 and writes 100 → 912 in total.
    assert chat.usage.input_tokens == 912 and chat.usage.output_tokens == 30
    tool = run.steps_of_kind("tool")[0]
    assert tool.is_error and tool.error == "PermissionError: denied"
    assert tool.tool_arguments == {"path": "/tmp/x"}  # kvlistValue
    # The log record (line 2) names span aaaa… that only arrives on line 3: held, then merged.
    late = run.step_by_id("aaaaaaaaaaaaaaaa")
    assert late is not None and [m.content for m in late.output_messages] == ["Done."]
    assert [m.content for m in late.input_messages] == ["again?"]
    assert max_depth(run) == 1
    # Line 4 is resourceMetrics: reported, not dropped silently.
    assert any("resourceMetrics" in (p.message + p.preview) for p in run.problems)


def test_mapper_emits_each_span_as_its_line_arrives() -> None:
    """Live tail: a span is a complete record as soon as its line is read."""
    mapper = OtlpMapper()
    lines = (FOREIGN / "otel-genai" / "otel-genai-orders.jsonl").read_bytes().splitlines()
    first = list(mapper.feed(orjson.loads(lines[0]), offset=0, line=1))
    assert [r["type"] for r in first] == ["run", "span"]
    assert first[1]["kind"] == "llm"
    second = list(mapper.feed(orjson.loads(lines[1]), offset=len(lines[0]) + 1, line=2))
    assert [r["kind"] for r in second] == ["tool", "llm"]
    assert list(mapper.finish()) == []
