"""Typed errors at the command-line boundary: bad input is exit 2, a bug is exit 1 and a log.

``cli.main`` reports any :class:`~trace_tui.core.errors.BadInput` as one line (exit 2); any
other exception is a bug: its traceback goes to the log file and one line names that file
(exit 1). A bare ``ValueError`` from deep inside is a bug too, not "bad input".
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from support import ROOT, SAMPLES
from trace_tui.cli import commands, show_report
from trace_tui.cli.commands import main
from trace_tui.core.errors import BadInput, BadValue, TraceTuiError
from trace_tui.core.export.convert import ConvertError
from trace_tui.core.formats.base import FormatError
from trace_tui.core.reading.reader import TraceOpenError
from trace_tui.core.replay.fork import ForkError

SAMPLE = str(SAMPLES / "discount_over_cap.jsonl")


@pytest.fixture
def state_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the log file into ``tmp_path``; returns the log file's path."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "trace-tui" / "trace-tui.log"


def test_bad_input_is_exit_2_and_one_line(state_home: Path, capsys) -> None:
    assert main(["show", "--format", "nope", SAMPLE]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"trace-tui: {SAMPLE}: unknown format 'nope'; supported: native, ")
    assert err.count("\n") == 1 and err.endswith("mcp-inspector\n")
    assert not state_home.exists()


@pytest.mark.parametrize("error", [RuntimeError("boom\x1b[2J"), ValueError("boom\x1b[2J")])
def test_an_unexpected_error_is_exit_1_one_line_and_a_logged_traceback(
    error: Exception, state_home: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(show_report, "print_table", broken)
    assert main(["show", SAMPLE]) == 1
    err = capsys.readouterr().err
    name = type(error).__name__
    assert err == (
        f"trace-tui: unexpected error ({name}: boom␛[2J); this is a bug, "
        f"the traceback is in {state_home}\n"
    )
    log = state_home.read_text("utf-8")
    assert "unexpected error in trace-tui show" in log
    assert "Traceback (most recent call last)" in log
    assert f'in broken\n    raise error\n{name}: boom' in log


def test_debug_prints_the_traceback_of_a_bug_too(
    state_home: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(show_report, "print_table", broken)
    assert main(["--debug", "show", SAMPLE]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1].startswith("trace-tui: unexpected error (RuntimeError: boom)")


def test_a_bug_is_still_one_line_when_the_log_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(show_report, "print_table", broken)
    assert main(["show", SAMPLE]) == 1
    assert capsys.readouterr().err == (
        "trace-tui: unexpected error (RuntimeError: boom); this is a bug, no log file\n"
    )


def test_the_project_errors_are_one_family() -> None:
    for kind in (TraceOpenError, FormatError, ConvertError, ForkError, commands.CommandError):
        assert issubclass(kind, BadInput) and issubclass(kind, TraceTuiError)
    assert issubclass(BadValue, ValueError) and issubclass(ForkError, ValueError)


def test_exit_codes_are_defined_once() -> None:
    """Only cli/exit_codes.py assigns EXIT_* names or returns a bare 130."""
    offenders = []
    for path in sorted((ROOT / "cli").glob("*.py")):
        if path.name == "exit_codes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else []
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if any(n.startswith("EXIT_") for n in names):
                offenders.append(f"{path.name}: {names}")
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Constant):
                if node.value.value in (1, 2, 3, 130):
                    offenders.append(f"{path.name}:{node.lineno}: return {node.value.value}")
    assert offenders == []
