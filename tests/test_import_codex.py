"""Codex CLI rollouts against numbers read off the sample files by hand.

Counting rules: tool calls = ``response_item`` payloads of type ``function_call`` /
``custom_tool_call`` (``jq -c 'select(.type=="response_item") | .payload.type' | sort | uniq -c``);
model calls = runs of model-output items (reasoning, assistant message, calls) between two
inputs (a tool output or a user message); usage from ``token_usage_record`` / the cumulative
``token_count`` totals.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from trace_tui.core.formats.importers.codex import CodexMapper
from trace_tui.core.reading.reader import open_run

DIR = Path(__file__).parent / "data" / "foreign" / "codex"
SYNTHETIC = (
    DIR / "claude-code-log_rollout-2026-01-02T03-04-05-11111111-1111-4111-8111-111111111111.jsonl"
)


def test_real_rollout_usage_and_calls() -> None:
    run = open_run(DIR / "codex-0.169.0_orders.jsonl")
    assert run.format_name == "codex"
    # Two token_usage_record lines (resp_1, resp_2) = two model calls; one function_call.
    assert len(run.steps_of_kind("llm")) == 2
    (tool,) = run.steps_of_kind("tool")
    assert tool.tool_name == "exec_command" and tool.tool_call_id == "call_001"
    assert tool.tool_arguments == {"cmd": "grep -h 4421 orders/a.json orders/b.json"}
    assert "Process exited with code 0" in tool.tool_result and not tool.is_error
    # Last token_count total: input 6400 (cached 1000 included), output 80.
    totals = run.token_totals()
    assert (totals.input_tokens, totals.output_tokens, totals.cache_read_tokens) == (6400, 80, 1000)
    first, second = run.steps_of_kind("llm")
    assert (first.usage.input_tokens, second.usage.input_tokens) == (3000, 3400)
    assert first.attr("trace_tui.context_window") == 258400
    assert first.system_prompt.startswith("You are a coding agent running in the Codex CLI")
    # The second call saw the tool output that came before it.
    assert second.input_messages[-1].role == "tool"
    assert second.input_messages[-1].tool_call_id == "call_001"
    assert second.output_messages[0].content == "Order #4421 is shipped and arrives Thursday."
    turn = run.steps_of_kind("agent")[0]
    assert turn.name == "Where is my order?"  # not the injected <environment_context>
    assert max(run.depth_of(s) for s in run.steps) == 1


def test_synthetic_rollout_function_and_custom_calls() -> None:
    run = open_run(SYNTHETIC)
    # function_call ×2 (exec_command, mcp__synthetic__lookup) + custom_tool_call ×1 (apply_patch).
    tools = run.steps_of_kind("tool")
    assert [t.tool_name for t in tools] == ["exec_command", "apply_patch", "mcp__synthetic__lookup"]
    assert all(t.tool_result is not None for t in tools)  # every call_id has its output
    assert tools[1].tool_arguments.startswith("*** Begin Patch")  # custom call: raw input
    assert tools[1].tool_result == [{"type": "output_text", "text": "Done!"}]  # as recorded
    # Model output runs: [reasoning, function_call] [custom_tool_call] [function_call] [message].
    assert len(run.steps_of_kind("llm")) == 4
    assert run.token_totals().input_tokens is None  # the file has no token_count line
    # The last line has type future_synthetic_record: kept as an other step.
    (unknown,) = [s for s in run.steps_of_kind("other") if s.name == "future_synthetic_record"]
    assert unknown.source["payload"] == {"safe": "ignored"}
    # encrypted reasoning content is never copied into the messages
    assert (
        "SYNTHETIC_ENCRYPTED" not in orjson.dumps(run.steps_of_kind("llm")[0].attributes).decode()
    )


def test_mapper_starts_the_tool_when_the_call_line_arrives() -> None:
    mapper = CodexMapper()
    lines = [orjson.loads(x) for x in SYNTHETIC.read_bytes().splitlines()]
    out = [list(mapper.feed(rec, offset=0, line=i)) for i, rec in enumerate(lines, 1)]
    # Line 6 is the function_call: the tool step starts at once, running.
    assert [(r["type"], r["kind"]) for r in out[5] if "kind" in r] == [("span_start", "tool")]
    # Line 7 is its output: the model call and the tool step end.
    assert [r["type"] for r in out[6]] == ["span_end", "span_end"]


def test_cumulative_token_counts_become_per_call_deltas() -> None:
    """Older rollouts only have token_count totals, often repeated; deltas, counted once."""

    def line(kind: str, payload: dict) -> dict:
        return {"timestamp": "2026-01-01T00:00:00Z", "type": kind, "payload": payload}

    def count(total_in: int, total_out: int) -> dict:
        usage = {"input_tokens": total_in, "cached_input_tokens": 0, "output_tokens": total_out}
        return line("event_msg", {"type": "token_count", "info": {"total_token_usage": usage}})

    records = [
        line("session_meta", {"id": "s", "cli_version": "0.1"}),
        line(
            "response_item",
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
        ),
        line(
            "response_item",
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "a"}],
            },
        ),
        count(100, 10),
        count(100, 10),  # the same total twice: one call
        line(
            "response_item",
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "again"}],
            },
        ),
        line(
            "response_item",
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "b"}],
            },
        ),
        count(250, 25),
    ]
    mapper = CodexMapper()
    from trace_tui.core.model.builder import RunBuilder
    from trace_tui.core.model.run import Run

    run = Run()
    builder = RunBuilder(run)
    for i, rec in enumerate(records, 1):
        for native in mapper.feed(rec, offset=0, line=i):
            builder.add(native)
    for native in mapper.finish():
        builder.add(native)
    calls = run.steps_of_kind("llm")
    assert [(c.usage.input_tokens, c.usage.output_tokens) for c in calls] == [(100, 10), (150, 15)]
    assert not run.problems


def test_a_failed_command_says_why_not_only_the_exit_code(tmp_path: Path) -> None:
    """The real rollout's command output, with the command failing: the step's error carries
    the message the command printed, not only "exit code 1"."""
    lines = (DIR / "codex-0.169.0_orders.jsonl").read_bytes().splitlines()
    out = []
    for line in lines:
        rec = orjson.loads(line)
        payload = rec.get("payload", {})
        if payload.get("type") == "function_call_output":
            payload["output"] = (
                "Chunk ID: e85a64\nWall time: 0.0000 seconds\nProcess exited with code 1\n"
                "Original token count: 9\nOutput:\ngrep: orders/c.json: No such file or directory\n"
            )
        if payload.get("type") == "item_completed" and isinstance(payload.get("item"), dict):
            payload["item"]["exit_code"] = 1
        out.append(orjson.dumps(rec))
    path = tmp_path / "failed.jsonl"
    path.write_bytes(b"\n".join(out) + b"\n")
    step = next(s for s in open_run(path).steps if s.kind == "tool")
    assert step.error == "exit code 1: grep: orders/c.json: No such file or directory"
