"""Claude Code transcripts against numbers read off the sample files by hand.

Counting rules used below (independent of the importer):
- model calls = distinct ``message.id`` among ``type: assistant`` lines
  (``jq -c 'select(.type=="assistant") | .message.id' FILE | sort -u | wc -l``);
- tool calls = ``tool_use`` blocks (``grep -o '"type": *"tool_use"' FILE | wc -l``);
- tool errors = ``tool_result`` blocks with ``"is_error": true``;
- input tokens = per distinct message, input + cache_creation + cache_read (Anthropic counts
  them apart), summed (``jq -s 'unique_by(.message.id) | map(...) | add'``).
"""

from __future__ import annotations

from pathlib import Path

import orjson

from trace_tui.core.formats.importers.claude_code import ClaudeCodeMapper
from trace_tui.core.model.run import Run
from trace_tui.core.reading.reader import open_run

DIR = Path(__file__).parent / "data" / "foreign" / "claude-code"


def counts(run: Run) -> tuple[int, int, int]:
    tools = run.steps_of_kind("tool")
    return len(run.steps_of_kind("llm")), len(tools), sum(1 for t in tools if t.is_error)


def max_depth(run: Run) -> int:
    return max((run.depth_of(s) for s in run.steps), default=0)


def test_current_cli_transcript_with_recorded_requests() -> None:
    run = open_run(DIR / "claude-code-2.1.328_orders.jsonl")
    assert run.format_name == "claude-code"
    # msg_0001 (tool_use toolu_010 Bash), msg_0002 (text); the tool_result has is_error false.
    assert counts(run) == (2, 1, 0)
    # usage 2300+0+0 / 30 and 2900+0+0 / 30.
    totals = run.token_totals()
    assert (totals.input_tokens, totals.output_tokens) == (5200, 60)
    assert max_depth(run) == 1  # the prompt's turn → calls and tools
    assert run.info.session_id == "36c0f558-637e-45df-a117-b02b61aa02eb"
    first, second = run.steps_of_kind("llm")
    # api-request-shape: system text + 12 tools; api-request params max_tokens 32000.
    assert first.system_prompt.startswith("You are a Claude agent")
    assert len(first.tool_definitions) == 12
    assert first.parameters["max_tokens"] == 32000
    # Request 2 = request 1's first message (keep 1) + the assistant reply + the tool_result blob.
    assert [m.role for m in second.input_messages] == ["user", "assistant", "tool"]
    assert second.input_messages[1].tool_calls[0].id == "toolu_010"
    tool = run.steps_of_kind("tool")[0]
    assert tool.tool_name == "Bash" and tool.tool_call_id == "toolu_010"
    assert tool.tool_result == '{"order_id":"4421","user_id":"u_1203","status":"shipped"}'
    assert tool.attr("claude_code.tool_use_result")["stderr"] == ""
    # Bookkeeping lines (queue-operation, attachment, atis-latch, …) are kept as other steps.
    kept = {s.attr("claude_code.line_type") for s in run.steps_of_kind("other")}
    assert {"queue-operation", "attachment", "atis-latch", "last-prompt", "cost-state"} <= kept


def test_sidechain_usage_deduplicated_by_message_id() -> None:
    run = open_run(DIR / "claude-code-log_sidechain_integrated.jsonl")
    # Message ids …MU6kpD, …hqbTkf (two lines, same usage), …VbohVZ → 3 calls.
    # tool_use: Task (…E4qWEk), Grep (…PqqtN2); tool_result …TY53Ni has no tool_use in the
    # file and becomes its own tool step → 3 tool steps, none with is_error true.
    assert counts(run) == (3, 3, 0)
    totals = run.token_totals()
    # (3+141272+0) + (3+19830+0) + (3+2952+141272) = 305335; out 365+183+190 = 738.
    assert (totals.input_tokens, totals.output_tokens) == (305335, 738)
    assert totals.cache_read_tokens == 141272
    # Task tool (root) → sub-agent step → sidechain call: depth 2.
    assert max_depth(run) == 2
    subagent = run.steps_of_kind("agent")[0]
    task = run.parent_of(subagent)
    assert task is not None and task.tool_name == "Task"
    grep = next(s for s in run.steps_of_kind("tool") if s.tool_name == "Grep")
    assert grep.status == "running"  # its result is not in the file
    orphan = next(s for s in run.steps_of_kind("tool") if s.tool_call_id.endswith("TY53Ni"))
    assert "not in this file" in orphan.attr("trace_tui.import.note")


def test_rewind_and_compaction() -> None:
    run = open_run(DIR / "claude-code-log_dag_compact_after_rewind.jsonl")
    # assistant uuids a1, b1a, b2a, b2a2, p1a (5 message ids), usage 10/5 each.
    assert counts(run) == (5, 0, 0)
    totals = run.token_totals()
    assert (totals.input_tokens, totals.output_tokens) == (50, 25)
    # b1u and b2u both have parentUuid a1 (jq -r .parentUuid | sort | uniq -d → a1).
    rewinds = [s for s in run.steps if s.attr("claude_code.rewind")]
    assert [s.name for s in rewinds] == ["Second attempt"]
    # The call after the rewind sees the new branch, not the abandoned one.
    after = run.steps_of_kind("llm")[2]
    assert [m.content for m in after.input_messages] == ["Start", "Ready", "Second attempt"]
    # One compact_boundary; the call after it starts from the compact summary, truncated.
    (boundary,) = [s for s in run.steps if s.attr("claude_code.subtype") == "compact_boundary"]
    last = run.steps_of_kind("llm")[-1]
    assert last.attr("trace_tui.context.truncated") is True
    assert last.input_messages[0].content.startswith("This session is being continued")
    assert boundary.index < last.index


def test_representative_early_format() -> None:
    run = open_run(DIR / "claude-code-log_representative_messages.jsonl")
    # msg ids sg_002, sg_004, sg_006, sg_008, sg_010; tool_use ol_001, ol_002; no is_error.
    assert counts(run) == (5, 2, 0)
    totals = run.token_totals()
    # input 25+45+78+25+45 = 218, output 120+85+95+35+110 = 445.
    assert (totals.input_tokens, totals.output_tokens) == (218, 445)
    # parentUuid is null on every line (v1.0): the chain is rebuilt from file order.
    last = run.steps_of_kind("llm")[-1]
    assert len(last.input_messages) == 9
    assert "rebuilt" in last.attr("trace_tui.import.note")


def test_malformed_lines_are_reported_and_the_rest_imported() -> None:
    run = open_run(DIR / "claude-code-log_edge_cases_malformed.jsonl")
    # Assistant lines with a message object: edge_002, edge_004, edge_009, msg_004 → 4 calls.
    # tool_use: tool_edge_001, tool_edge_002, toolu_todowrite_002; is_error true once.
    assert counts(run) == (4, 3, 1)
    totals = run.token_totals()
    assert (totals.input_tokens, totals.output_tokens) == (35 + 200 + 85 + 168, 145 + 25 + 180 + 85)
    # Lines 13, 15, 16 are JSON but not objects ("massive error", 42, [1]).
    assert sorted(p.line for p in run.problems) == [13, 15, 16]
    # {"silly": "this"} (line 14) has no type: kept as an other step, not dropped.
    assert any(s.name == "record without a type" for s in run.steps_of_kind("other"))
    failing = next(s for s in run.steps_of_kind("tool") if s.tool_name == "FailingTool")
    assert failing.is_error and "Command not found" in failing.error


def test_mapper_emits_tool_start_before_its_result_arrives() -> None:
    """Live tail: the tool step exists (running) as soon as the tool_use line is read."""
    lines = (DIR / "claude-code-2.1.328_orders.jsonl").read_bytes().splitlines()
    mapper = ClaudeCodeMapper()
    emitted: list[list[dict]] = []
    for number, raw in enumerate(lines, 1):
        emitted.append(list(mapper.feed(orjson.loads(raw), offset=0, line=number)))
    # Line 19 is the assistant tool_use line; line 22 carries the tool_result.
    assert [(r["type"], r["kind"]) for r in emitted[18] if "kind" in r] == [
        ("span_start", "llm"),
        ("span_start", "tool"),
    ]
    # The next line (20, last-prompt) shows the message is complete: the call ends there.
    assert [r["type"] for r in emitted[19] if r["type"] == "span_end"] == ["span_end"]
    ends = [r for r in emitted[21] if r["type"] == "span_end"]
    assert len(ends) == 1  # the tool step ends when its result arrives
    assert ends[0]["attributes"]["gen_ai.tool.call.result"].startswith('{"order_id"')


def test_a_turn_ends_when_the_model_answers_also_under_tail() -> None:
    """Followed line by line (no end of file to close it), the turn ends when its model
    answers without a tool (stop_reason end_turn), at the same time ``open`` gives it."""
    from trace_tui.core.model.builder import RunBuilder

    lines = (DIR / "claude-code-2.1.328_orders.jsonl").read_bytes().splitlines()
    mapper = ClaudeCodeMapper()
    live = Run(path=None, format_name="claude-code")
    builder = RunBuilder(live)
    for number, raw in enumerate(lines, 1):
        for record in mapper.feed(orjson.loads(raw), offset=0, line=number):
            builder.add(record)
    turn = next(s for s in live.steps if s.kind == "agent")
    answer = live.steps_of_kind("llm")[-1]
    assert turn.status != "running" and turn.end_time == answer.end_time
    whole = next(
        s for s in open_run(DIR / "claude-code-2.1.328_orders.jsonl").steps if s.kind == "agent"
    )
    assert (whole.status, whole.end_time) == (turn.status, turn.end_time)
