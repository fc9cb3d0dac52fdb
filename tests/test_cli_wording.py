"""``validate`` on a file that is no native trace says so in one line with what to do, and the
words people read are right: "1 error", "(step 6)", "an agent step", ``λ`` for tools in
``show`` as on the screen (issue 14)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from support import SAMPLES
from trace_tui.cli.commands import main
from trace_tui.core.replay.readiness import Gap
from trace_tui.core.text.redact import Redactor

DATA = Path(__file__).parent / "data"


def test_validate_on_a_foreign_trace_is_one_line_with_a_convert_hint(tmp_path: Path,
                                                                     capsys) -> None:
    foreign = DATA / "foreign" / "claude-code" / "claude-code-2.1.328_orders.jsonl"
    assert main(["validate", str(foreign)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a native one" in err and "trace-tui convert" in err


def test_validate_on_a_binary_file_is_one_line(tmp_path: Path, capsys) -> None:
    binary = tmp_path / "blob.jsonl"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 40)
    assert main(["validate", str(binary)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "binary data, not a trace" in err


def test_show_marks_tools_with_the_screens_lambda(capsys) -> None:
    assert main(["show", str(SAMPLES / "discount_over_cap.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "λ apply_discount" in out and "▶" not in out
    assert "1 error, first at step 7" in out


def test_show_fits_an_80_column_terminal(monkeypatch, capsys) -> None:
    from trace_tui.cli import show_report
    from trace_tui.core.reading.reader import open_run

    class Tty:
        lines: list[str] = []

        def isatty(self) -> bool:
            return True

        def write(self, text: str) -> None:
            self.lines.append(text)

    monkeypatch.setattr(shutil, "get_terminal_size", lambda *a: os.terminal_size((80, 24)))
    out = Tty()
    run = open_run(SAMPLES / "discount_over_cap.jsonl")
    show_report.print_table(run, out, Redactor())  # type: ignore[arg-type]
    rows = "".join(out.lines).splitlines()
    assert rows and max(len(r) for r in rows[6:]) <= 80


def test_gap_says_step_for_one_step() -> None:
    assert Gap("k", "no tool results", (6,)).describe() == "no tool results (step 6)"
    assert Gap("k", "no tool results", (6, 7)).describe() == "no tool results (steps 6, 7)"


def test_wrapped_json_keeps_its_indent() -> None:
    import json as _json

    from trace_tui.tui.documents.lines import wrap_text

    text = _json.dumps({"a": {"b": "word " * 20}}, indent=2)
    lines, _ = wrap_text(text, 30, limit=10_000)
    value_lines = [line for line in lines if "word" in line]
    assert len(value_lines) > 1
    assert all(line.startswith("    ") for line in value_lines)  # nested, not back at column 0
    assert all(len(line) <= 30 for line in lines)
