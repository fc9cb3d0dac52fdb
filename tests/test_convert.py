"""``trace-tui convert``: native output that validates, round-trips, and never harms the input."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from trace_tui.cli.commands import main
from trace_tui.core.export import convert as convert_module
from trace_tui.core.export.convert import ConvertError, convert_file
from trace_tui.core.export.validate import validate_file
from trace_tui.core.reading.reader import open_run

FOREIGN = Path(__file__).parent / "data" / "foreign"
SAMPLES = sorted(p for p in FOREIGN.rglob("*") if p.is_file() and p.name != "SOURCE.md")


def _facts(run):  # type: ignore[no-untyped-def]
    totals = run.token_totals()
    return (
        [(s.kind, s.name, s.status, s.parent_id) for s in run.steps],
        (totals.input_tokens, totals.output_tokens, totals.cache_read_tokens),
        [s.tool_result for s in run.steps_of_kind("tool")],
        [len(s.input_messages) for s in run.steps_of_kind("llm")],
    )


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name[:50])
def test_converted_file_is_valid_and_reads_back_the_same(tmp_path: Path, path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = convert_file(path, out)
    assert validate_file(out) == []
    original, converted = open_run(path), open_run(out)
    assert converted.format_name == "native"
    assert result.steps == len(original.steps) == len(converted.steps)
    assert _facts(converted) == _facts(original)
    # Each step keeps the foreign record it came from.
    assert all(s.source is not None for s in converted.steps)
    env = converted.info.environment["trace_tui.imported_from"]
    assert env == {"format": original.format_name, "file": path.name}


def test_no_source_leaves_the_foreign_records_out(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    convert_file(FOREIGN / "codex" / "codex-0.169.0_orders.jsonl", out, include_source=False)
    records = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert records[0]["type"] == "run"
    assert not any("source" in r for r in records)


def test_running_steps_stay_running(tmp_path: Path) -> None:
    """A tool call with no result in the input is written as a span_start, not as finished."""
    out = tmp_path / "out.jsonl"
    convert_file(FOREIGN / "claude-code" / "claude-code-log_sidechain_integrated.jsonl", out)
    grep = next(s for s in open_run(out).steps if s.name == "Grep")
    assert grep.status == "running"


def test_refuses_to_overwrite_the_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "trace.jsonl"
    source.write_bytes((FOREIGN / "otel-genai" / "otel-genai-orders.jsonl").read_bytes())
    before = source.read_bytes()
    assert main(["convert", str(source), "-o", str(source)]) == 2
    assert "is the input file" in capsys.readouterr().err
    link = tmp_path / "link.jsonl"
    os.link(source, link)  # another name for the same file
    with pytest.raises(ConvertError, match="is the input file"):
        convert_file(source, link)
    assert main(["convert", str(source), "-o", str(tmp_path / "." / "trace.jsonl")]) == 2
    assert source.read_bytes() == before


def test_invalid_records_write_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"previous content\n")

    def broken(run, *, include_source=True):  # type: ignore[no-untyped-def]
        yield {"type": "span", "span_id": "", "kind": "llm"}

    monkeypatch.setattr(convert_module, "native_records", broken)
    with pytest.raises(ConvertError, match="nothing written"):
        convert_file(FOREIGN / "otel-genai" / "otel-genai-orders.jsonl", out)
    assert out.read_bytes() == b"previous content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]  # no temp file left


def test_cli_reports_what_the_input_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "edge.native.jsonl"
    source = FOREIGN / "claude-code" / "claude-code-log_edge_cases_malformed.jsonl"
    assert main(["convert", str(source), "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "18 steps from claude-code, 3 problem(s) in the input skipped" in captured.out
    assert captured.err.count("skipped: corrupt record") == 3
    assert validate_file(out) == []


def test_cli_format_override_and_unreadable_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o.jsonl"
    source = FOREIGN / "langsmith" / "langsmith-fetch_sample_runs_flat.json"
    assert main(["convert", str(source), "-o", str(out), "--format", "langsmith"]) == 0
    assert main(["convert", str(tmp_path / "missing.json"), "-o", str(out)]) == 2
    assert "no such file" in capsys.readouterr().err
