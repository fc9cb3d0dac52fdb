"""Issue 13, items 7 and 12: every byte printed to a terminal goes through the sanitiser, and
output survives a stdout that is not UTF-8.

Crafted key names, file names, a branch's ``parent_path``, log lines and ``diff --json`` carry
OSC 52 (clipboard), title escapes, C1 CSI (U+009B), bidi overrides, Unicode tag characters and
U+2028; none reaches the terminal raw.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from support import SAMPLES
from trace_tui.cli.commands import main
from trace_tui.core.text.sanitize import sanitize_text

HOSTILE = "\x1b]52;c;aGk=\x07\x1b]0;pwned\x07\u009b31m\u202e\U000e0041\u2028"
RAW = ("\x1b", "\x07", "\u009b", "\u202e", "\U000e0041", "\u2028")


def assert_clean(text: str) -> None:
    assert not any(c in text for c in RAW), ascii(text)


def test_sanitiser_covers_tags_and_line_separators() -> None:
    clean = sanitize_text(HOSTILE)
    assert_clean(clean)
    assert "⟨U+E0041⟩" in clean and "⟨U+2028⟩" in clean and "⟨U+009B⟩" in clean


def test_unknown_format_message_shows_key_names_safely(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "crafted.jsonl"
    path.write_text(json.dumps({HOSTILE: 1, "other": 2}) + "\n", encoding="utf-8")
    assert main(["show", str(path)]) == 2
    out, err = capsys.readouterr()
    assert "keys" in err and "other" in err
    assert_clean(out + err)


@pytest.fixture
def hostile_named(tmp_path: Path) -> Path:
    path = tmp_path / f"run{HOSTILE.replace('/', '')}.jsonl"
    path.write_bytes((SAMPLES / "discount_over_cap.jsonl").read_bytes())
    return path


def test_file_names_in_errors_validate_and_tail_are_safe(
    hostile_named: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(hostile_named)]) in (0, 1)
    assert main(["show", str(tmp_path / f"missing{HOSTILE}.jsonl")]) == 2
    assert main(["convert", str(hostile_named), "-o", str(tmp_path / "o.jsonl")]) == 0
    out, err = capsys.readouterr()
    assert_clean(out + err)
    assert "missing" in err


def test_branch_parent_path_is_safe_in_diff_replay_and_log(
    hostile_named: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["fork", str(hostile_named), "--at", "5", "--set",
          "/attributes/gen_ai.tool.call.result/discount_pct=15", "--name", "b"])
    out, err = capsys.readouterr()
    assert_clean(out + err)
    branch = next((tmp_path / ".trace-tui").glob("*.jsonl"))
    assert main(["--debug", "diff", str(branch), "--plain"]) in (0, 1)
    assert main(["--debug", "replay", str(branch)]) in (0, 3)
    out, err = capsys.readouterr()
    assert_clean(out + err)
    hostile_named.unlink()  # the parent is gone: its hostile name is quoted in the error
    assert main(["replay", str(branch)]) == 2
    assert main(["diff", str(branch), "--plain"]) == 2
    out, err = capsys.readouterr()
    assert_clean(out + err) if err else pytest.fail("no error line")


def test_diff_json_escapes_c1_bidi_and_tags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (SAMPLES / "discount_over_cap.jsonl").read_text(encoding="utf-8")
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(text, encoding="utf-8")
    b.write_text(text.replace("apply_discount", f"apply{HOSTILE}", 1), encoding="utf-8")
    assert main(["diff", str(a), str(b), "--json"]) == 1
    out = capsys.readouterr().out
    assert_clean(out)
    json.loads(out)


@pytest.mark.parametrize(
    "argv",
    [["show", "{trace}"], ["show", "{trace}", "--json"], ["diff", "{trace}", "{trace}", "--plain"],
     ["validate", "{trace}"]],
)
def test_commands_work_when_stdout_is_not_utf8(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    trace = str(SAMPLES / "discount_over_cap.jsonl")
    sink = io.BytesIO()
    stream = io.TextIOWrapper(sink, encoding="ascii", errors="strict", write_through=True)
    monkeypatch.setattr(sys, "stdout", stream)
    assert main([a.format(trace=trace) for a in argv]) == 0
    stream.flush()
    assert sink.getvalue()
    sink.getvalue().decode("ascii")


def test_tail_plain_works_when_stdout_is_not_utf8(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import argparse
    import threading

    from trace_tui.cli.plain_tail import tail_plain
    from trace_tui.cli.terminal import safe_output

    sink = io.BytesIO()
    stream = io.TextIOWrapper(sink, encoding="ascii", errors="strict", write_through=True)
    monkeypatch.setattr(sys, "stdout", stream)
    stop = threading.Event()
    stop.set()
    args = argparse.Namespace(file=str(SAMPLES / "discount_over_cap.jsonl"), format=None,
                              json=False, plain=True, from_start=True, no_redact=False)
    with safe_output():
        assert tail_plain(args, stop=stop) == 0
    assert b"apply_discount" in sink.getvalue()
