"""The command line: help, version, show, validate, formats and clear errors (exit code 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support import SAMPLES
from trace_tui import __version__
from trace_tui.cli.commands import build_parser, main

COMMANDS = ["open", "tail", "show", "validate", "formats", "demo", "diff", "fork", "convert"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m trace_tui`` in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "trace_tui", *args], capture_output=True, text=True, timeout=60
    )


def test_version_and_help_for_every_command(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and __version__ in capsys.readouterr().out
    parser = build_parser()
    for command in COMMANDS:
        with pytest.raises(SystemExit) as info:
            parser.parse_args([command, "--help"])
        assert info.value.code == 0
        assert f"usage: trace-tui {command}" in capsys.readouterr().out


def test_no_command_prints_help_and_exits_2(capsys) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


def test_show_prints_a_table_of_steps(capsys) -> None:
    assert main(["show", str(SAMPLES / "discount_over_cap.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "steps:     8 (4 llm, 3 tool, 0 retrieval), 1 error, first at step 7" in out
    assert "tokens:    2,066 in, 120 out (1,280 cache read)" in out
    row = next(line for line in out.splitlines() if line.lstrip().startswith("7 "))
    assert "apply_discount" in row and "error" in row and "35% exceeds the business cap" in row


def test_show_json_is_the_normalised_model(capsys) -> None:
    assert main(["show", "--json", str(SAMPLES / "order_lookup_missing_user_id.jsonl")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["format"] == "native" and len(data["steps"]) == 4
    tool = data["steps"][2]
    assert tool["kind"] == "tool" and tool["depth"] == 1
    assert tool["attributes"]["gen_ai.tool.call.arguments"] == {"order_number": "1042"}
    assert data["readiness"]["ready"] is True


def test_show_reports_schema_breaks_with_file_and_line(write_trace, capsys) -> None:
    path = write_trace(
        [
            {"type": "span", "span_id": "a", "kind": "agent", "name": "x"},
            {
                "type": "span",
                "span_id": "b",
                "parent_id": "a",
                "kind": "llm",
                "name": "y",
                "attributes": {"gen_ai.usage.input_tokens": "many"},
            },
        ]
    )
    assert main(["show", str(path)]) == 2
    captured = capsys.readouterr()
    assert "2 (" in captured.out.split("steps:")[1][:8]  # both steps still shown
    assert (
        f"{path}:2: /attributes/gen_ai.usage.input_tokens: expected integer, got string"
        in captured.err
    )


def test_show_escapes_hostile_text(write_trace, capsys) -> None:
    path = write_trace(
        [
            {
                "type": "span",
                "span_id": "a",
                "kind": "tool",
                "name": "evil\x1b]0;pwned\x07\x1b[2J",
                "attributes": {"gen_ai.tool.call.result": "\x9b31m\u202eabc"},
            }
        ]
    )
    assert main(["show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out and "\u202e" not in out
    assert "␛]0;pwned␇" in out


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda p: p / "missing.jsonl", "no such file"),
        (lambda p: p, "is a directory"),
        (
            lambda p: (p / "e.jsonl").write_bytes(b"") and p / "e.jsonl" or p / "e.jsonl",
            "the file is empty",
        ),
        (
            lambda p: (p / "t.txt").write_text("plain text\n") and p / "t.txt",
            "not a known trace format",
        ),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(tmp_path: Path, setup, expected: str) -> None:
    path = setup(tmp_path)
    result = run_cli("show", str(path))
    assert result.returncode == 2
    assert (
        result.stderr.count("\n") == 1 and expected in result.stderr and str(path) in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_validate_accepts_samples_and_lists_problems(write_trace, capsys) -> None:
    for sample in sorted(SAMPLES.glob("*.jsonl")):
        assert main(["validate", str(sample)]) == 0
    capsys.readouterr()
    bad = write_trace([{"type": "span", "span_id": "", "kind": "llm"}, b"{oops"])
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:1: /span_id: must not be empty" in err
    assert f"{bad}:2: corrupt record at offset" in err


def test_formats_lists_native_first(capsys) -> None:
    assert main(["formats"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("native") and "tail" in first


def test_unknown_format_name_is_a_clear_error(capsys) -> None:
    assert main(["show", "--format", "nope", str(SAMPLES / "discount_over_cap.jsonl")]) == 2
    assert "unknown format 'nope'" in capsys.readouterr().err
