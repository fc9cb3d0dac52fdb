"""Format detection from a file's first 64 KiB, ``--format``, ``formats``, and unknown shapes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trace_tui.cli.commands import main
from trace_tui.core.formats import FORMATS, detect_format, format_by_name
from trace_tui.core.formats.base import FormatError

FOREIGN = Path(__file__).parent / "data" / "foreign"
CODEX_SYNTHETIC = (
    "claude-code-log_rollout-2026-01-02T03-04-05-11111111-1111-4111-8111-111111111111.jsonl"
)

EXPECTED = {
    "assay/assay_edge_case.trace.jsonl": "assay",
    "claude-code/claude-code-2.1.328_orders.jsonl": "claude-code",
    "claude-code/claude-code-log_dag_compact_after_rewind.jsonl": "claude-code",
    "claude-code/claude-code-log_edge_cases_malformed.jsonl": "claude-code",
    "claude-code/claude-code-log_representative_messages.jsonl": "claude-code",
    "claude-code/claude-code-log_sidechain_integrated.jsonl": "claude-code",
    "codex/" + CODEX_SYNTHETIC: "codex",
    "codex/codex-0.169.0_orders.jsonl": "codex",
    "inspect-ai/inspect_ai_2025-05-12_browser_gpt-4o-mini.json": "inspect-json",
    "inspect-ai/inspect_ai_log_message_deduplication.eval": "inspect-eval",
    "inspect-ai/inspect_ai_log_read_sample.eval": "inspect-eval",
    "langfuse/langfuse_framework-trace_claude-agent-2025-12-22.trace.json": "langfuse",
    "langfuse/langfuse_framework-trace_microsoft-agent-2025-12-17.trace.json": "langfuse",
    "langfuse/langfuse_framework-trace_openai-agents-2025-09-30.trace.json": "langfuse",
    "langfuse/langfuse_framework-trace_pydantic-ai-tools-2025-12-04.trace.json": "langfuse",
    "langsmith/langsmith-fetch_sample_runs_flat.json": "langsmith",
    "mcp-inspector/assay_edge_case_inspector_session.json": "mcp-inspector",
    "openhands/openhands_basic_gui_mode_trajectory.json": "openhands",
    "openhands/openhands_basic_trajectory.json": "openhands",
    "openinference/openinference-orders.jsonl": "otlp-jsonl",
    "otel-genai/otel-genai-orders.jsonl": "otlp-jsonl",
    "otlp/opentelemetry-proto_examples_trace.json": "otlp-json",
    "otlp/otel-spec_file-exporter_example_traces.jsonl": "otlp-jsonl",
    "swe-agent/swe-agent_function_calling_simple.traj": "swe-agent",
    "swe-agent/swe-agent_gpt4_test-repo_6e44b9.traj": "swe-agent",
    "wire-exchanges/agenttap-wire-orders.jsonl": "api-exchanges",
    "handmade/openai-chat-wire.jsonl": "api-exchanges",
    "handmade/openai-responses-wire.jsonl": "api-exchanges",
    "handmade/anthropic-stream-wire.jsonl": "api-exchanges",
    "handmade/otlp-genai-variants.jsonl": "otlp-jsonl",
}


def test_every_sample_file_is_covered() -> None:
    files = {
        str(p.relative_to(FOREIGN))
        for p in FOREIGN.rglob("*")
        if p.is_file() and p.name != "SOURCE.md"
    }
    assert files == set(EXPECTED)


@pytest.mark.parametrize(("name", "expected"), sorted(EXPECTED.items()))
def test_detects_sample(name: str, expected: str) -> None:
    assert detect_format(FOREIGN / name).name == expected


@pytest.mark.parametrize(
    ("first_line", "expected"),
    [
        ({"jsonrpc": "2.0", "method": "initialize", "id": 0}, "mcp-jsonl"),
        ({"id": "r1", "run_type": "llm", "dotted_order": "x", "name": "chat"}, "langsmith-jsonl"),
        ({"type": "summary", "summary": "s", "leafUuid": "u"}, "claude-code"),
        (
            {
                "type": "file-history-snapshot",
                "messageId": "m",
                "snapshot": {},
                "isSnapshotUpdate": False,
            },
            "claude-code",
        ),
        ({"id": 1, "tool": "read", "args": {}, "prompt": "p", "response": "r"}, "assay"),
        ({"type": "span", "span_id": "s1", "kind": "llm"}, "native"),
    ],
)
def test_detects_first_record_shapes(tmp_path: Path, first_line: dict, expected: str) -> None:
    path = tmp_path / "trace.jsonl"
    path.write_text(json.dumps(first_line) + "\n")
    assert detect_format(path).name == expected


def test_detection_reads_only_the_head(tmp_path: Path) -> None:
    """A pretty-printed document far longer than 64 KiB is still recognised from its start."""
    doc = {
        "version": 2,
        "status": "success",
        "eval": {"task": "t", "model": "m"},
        "samples": [{"id": i, "events": [], "pad": "x" * 1000} for i in range(200)],
    }
    path = tmp_path / "log.json"
    path.write_text(json.dumps(doc, indent=2))
    assert path.stat().st_size > 128 * 1024
    assert detect_format(path).name == "inspect-json"


def test_format_override_and_unknown_name() -> None:
    assert format_by_name("codex").name == "codex"
    with pytest.raises(FormatError, match="supported: native"):
        format_by_name("nope")


def test_formats_command_lists_detection_order(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["formats"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == [f.name for f in FORMATS]
    assert names[0] == "native" and {"claude-code", "codex", "otlp-jsonl", "inspect-eval"} <= set(
        names
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"a": 1, "b": 2, "c": 3}\n', "JSON lines whose first record has keys: a, b, c"),
        (
            b'{\n  "alpha": 1,\n  "beta": [1, 2]\n}\n',
            "a JSON object with top-level keys: alpha, beta",
        ),
        (b'[\n  {"x": 1, "y": 2}\n]\n', "a JSON array whose first item has keys: x, y"),
        (b"hello world\n", "the first line is not JSON"),
        (b"PK\x03\x04" + b"\x00" * 40, "a zip archive"),
        (b"", "the file is empty"),
    ],
)
def test_unknown_shape_exit_2_with_what_was_seen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    path = tmp_path / "mystery.dat"
    path.write_bytes(content)
    assert main(["show", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err


def test_forced_format_reads_a_file_detection_would_not(tmp_path: Path) -> None:
    """``--format`` skips detection: an OTLP line after a leading blank object still reads."""
    line = (FOREIGN / "otel-genai" / "otel-genai-orders.jsonl").read_bytes().splitlines()[0]
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b'{"note": "header"}\n' + line + b"\n")
    with pytest.raises(FormatError):
        detect_format(path)
    from trace_tui.core.reading.reader import open_run

    run = open_run(path, "otlp-jsonl")
    assert len(run.steps_of_kind("llm")) == 1
    assert any("not an OTLP request" in (p.message + p.preview) for p in run.problems)
