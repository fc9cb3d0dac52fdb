"""Inspect AI logs (.json and .eval) against numbers read off the files by hand.

Counted with jq on the sample's ``events``: model calls = ``select(.event=="model")``, tool
calls = ``select(.event=="tool")``, tool errors = tool events with a non-null ``error``;
tokens = sums of ``output.usage``. For the .eval zips the sample member was unzipped first
(``unzip -p FILE 'samples/*.json' | jq ...``).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from trace_tui.core.reading.reader import open_run

DIR = Path(__file__).parent / "data" / "foreign" / "inspect-ai"


def test_json_log_with_attachments_and_tool_spans() -> None:
    run = open_run(DIR / "inspect_ai_2025-05-12_browser_gpt-4o-mini.json")
    assert run.format_name == "inspect-json"
    assert len(run.steps_of_kind("llm")) == 5
    tools = run.steps_of_kind("tool")
    assert len(tools) == 4 and not any(t.is_error for t in tools)
    assert [t.tool_name for t in tools] == ["web_browser_go"] + ["web_browser_click"] * 3
    # output.usage input 1124+1568+2732+3896+5915 = 15235, output 281, cache_read 9088; for
    # this OpenAI model total_tokens = input + output, so input already includes the cache.
    totals = run.token_totals()
    assert (totals.input_tokens, totals.output_tokens, totals.cache_read_tokens) == (
        15235,
        281,
        9088,
    )
    # sample → generate span → tool (merged with its span_begin type=tool) → sandbox: depth 3.
    assert max(run.depth_of(s) for s in run.steps) == 3
    sandbox = [s for s in run.steps if s.attr("inspect.event") == "sandbox"]
    assert all(run.parent_of(s).kind == "tool" for s in sandbox)
    first = run.steps_of_kind("llm")[0]
    # input[0].content is "attachment://56c1…": resolved from sample.attachments
    assert not first.input_messages[0].content.startswith("attachment://")
    assert len(first.tool_definitions) == 8
    assert first.output_tool_calls[0].id == tools[0].tool_call_id == "call_35FTpd6shR9efioDgeEBZ33s"
    assert run.info.run_id == "Ta3ZFVTCTcjsb3AEX9FD9v"


def test_eval_zip_message_pool() -> None:
    run = open_run(DIR / "inspect_ai_log_message_deduplication.eval")
    assert run.format_name == "inspect-eval"
    # 6 model events (input [] + input_refs), 5 bash tool events, no usage (hardcoded model).
    assert len(run.steps_of_kind("llm")) == 6
    assert len(run.steps_of_kind("tool")) == 5
    assert run.token_totals().input_tokens is None
    # The last model event has input_refs [[0, 11]]: all 11 messages of message_pool.
    last = run.steps_of_kind("llm")[-1]
    assert len(last.input_messages) == 11
    assert (
        last.input_messages[2].role == "tool"
        and last.input_messages[2].tool_call_id == "hardcoded_0"
    )
    # sample → solvers → generate → tool → sandbox: depth 4.
    assert max(run.depth_of(s) for s in run.steps) == 4


def test_eval_zip_real_ollama_sample() -> None:
    run = open_run(DIR / "inspect_ai_log_read_sample.eval")
    (llm,) = run.steps_of_kind("llm")
    # usage {"input_tokens": 66, "output_tokens": 3, "total_tokens": 69}
    assert (llm.usage.input_tokens, llm.usage.output_tokens) == (66, 3)
    assert llm.attr("gen_ai.provider.name") == "ollama"
    assert llm.system_prompt  # the system_message solver's message is the system prompt
    assert not run.steps_of_kind("tool")


def test_truncated_eval_zip_keeps_complete_members(tmp_path: Path) -> None:
    """A .eval cut before its central directory: the local headers are walked instead."""
    data = (DIR / "inspect_ai_log_message_deduplication.eval").read_bytes()
    with zipfile.ZipFile(DIR / "inspect_ai_log_message_deduplication.eval") as archive:
        central = min(
            info.header_offset for info in archive.infolist() if info.filename == "summaries.json"
        )
    cut = tmp_path / "cut.eval"
    cut.write_bytes(data[: central + 10])  # everything up to and a few bytes into summaries.json
    run = open_run(cut)
    assert len(run.steps_of_kind("llm")) == 6  # the sample member was complete
    assert run.problems and any("cut" in (p.message + p.preview) for p in run.problems)


def test_truncated_json_log_imports_what_came_before(tmp_path: Path) -> None:
    data = (DIR / "inspect_ai_2025-05-12_browser_gpt-4o-mini.json").read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(data[: len(data) // 2])
    run = open_run(cut, "inspect-json")
    assert 0 < len(run.steps) < 32  # some events, not all
    assert any("cut or corrupt" in (p.message + p.preview) for p in run.problems)


def test_unknown_event_type_is_kept(tmp_path: Path) -> None:
    import orjson

    doc = orjson.loads((DIR / "inspect_ai_2025-05-12_browser_gpt-4o-mini.json").read_bytes())
    doc["samples"][0]["events"].append(
        {"event": "telepathy", "span_id": None, "timestamp": "2025-05-12T20:30:00Z"}
    )
    path = tmp_path / "log.json"
    path.write_bytes(orjson.dumps(doc))
    run = open_run(path)
    (unknown,) = [s for s in run.steps if s.attr("inspect.event") == "telepathy"]
    assert unknown.kind == "other" and "does not know" in unknown.attr("trace_tui.import.note")


def test_a_failed_tool_call_keeps_its_error_in_the_model_input(tmp_path: Path) -> None:
    """Inspect records a failed call's tool message with empty content and a separate error:
    the next model call's input shows the error (as Inspect sent it), the tool step's error
    has no "unknown:" prefix."""
    log = json.loads((DIR / "inspect_ai_2025-05-12_browser_gpt-4o-mini.json").read_text())
    sample = log["samples"][0]
    tool = next(e for e in sample["events"] if e["event"] == "tool")
    failure = {"type": "unknown", "message": "page did not load: timeout"}
    tool["error"], tool["result"] = failure, ""
    for event in sample["events"]:
        for message in event.get("input") or [] if event["event"] == "model" else []:
            if message.get("tool_call_id") == tool["id"]:
                message["content"], message["error"] = "", failure
    path = tmp_path / "failed.json"
    path.write_text(json.dumps(log))
    run = open_run(path)
    step = next(s for s in run.steps if s.kind == "tool")
    assert step.error == "page did not load: timeout"
    later = [s for s in run.steps if s.kind == "llm" and s.index > step.index][0]
    answer = next(m for m in later.input_messages if m.tool_call_id == tool["id"])
    assert answer.content == "Error: page did not load: timeout"
