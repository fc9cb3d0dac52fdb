"""Issue 13, item 5: NaN and Infinity never make a file or an output we cannot read back.

``fork --set …=NaN`` (or ``1e999``) and a trace holding ``1e999`` give branch files our own
reader opens without a corrupt line; ``show --json`` and ``tail --json`` print standard JSON;
``convert`` keeps a non-finite number recognisably (the string ``"Infinity"``, as in the
Protocol Buffers JSON mapping) instead of turning it into ``null``.
"""

from __future__ import annotations

import argparse
import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from support import SAMPLES
from trace_tui.cli.commands import main
from trace_tui.cli.plain_tail import tail_plain
from trace_tui.core.io.standard_json import dumps, dumps_line
from trace_tui.core.reading.reader import open_run

POINTER = "/attributes/gen_ai.tool.call.result/discount_pct"


def strict_loads(text: str | bytes) -> Any:
    """``json.loads`` that refuses NaN and Infinity, like every strict JSON parser."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def huge(tmp_path: Path) -> Path:
    """The discount sample with one result number too large for a double."""
    text = (SAMPLES / "discount_over_cap.jsonl").read_text(encoding="utf-8")
    assert '"discount_pct": 35' in text
    path = tmp_path / "huge.jsonl"
    path.write_text(text.replace('"discount_pct": 35', '"discount_pct": 1e999', 1))
    return path


def _branch_values(out: str) -> tuple[Path, list[dict[str, Any]]]:
    path = Path(next(line for line in out.splitlines() if line.startswith("branch: "))[8:])
    records = [strict_loads(line) for line in path.read_bytes().splitlines()]
    run = open_run(path)
    assert run.problems == []
    return path, records


@pytest.mark.parametrize(("typed", "kept"), [("NaN", "NaN"), ("1e999", "Infinity"),
                                             ("-Infinity", "-Infinity")])
def test_fork_set_non_finite_writes_a_branch_we_can_read_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], typed: str, kept: str
) -> None:
    trace = tmp_path / "d.jsonl"
    trace.write_bytes((SAMPLES / "discount_over_cap.jsonl").read_bytes())
    main(["fork", str(trace), "--at", "5", "--set", f"{POINTER}={typed}"])
    path, records = _branch_values(capsys.readouterr().out)
    branch = next(r for r in records if r.get("type") == "branch")
    assert branch["edits"][0]["value"] == kept
    assert main(["show", str(path), "--json"]) == 0
    strict_loads(capsys.readouterr().out)


def test_forking_a_trace_with_1e999_writes_infinity_recognisably(
    huge: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["fork", str(huge), "--at", "5"])
    _, records = _branch_values(capsys.readouterr().out)
    results = [r["attributes"].get("gen_ai.tool.call.result") for r in records
               if r.get("span_id") == "dis-0005"]
    assert results and results[0]["discount_pct"] == "Infinity"


def test_show_json_is_standard_json(huge: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(huge), "--json"]) == 0
    text = capsys.readouterr().out
    assert "Infinity" in text
    strict_loads(text)


def test_tail_json_is_standard_json(huge: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    stop = threading.Event()
    stop.set()  # read what is there, then stop
    args = argparse.Namespace(file=str(huge), format=None, json=True, plain=False,
                              from_start=True, no_redact=False)
    assert tail_plain(args, out=out, err=err, stop=stop) == 0
    lines = out.getvalue().splitlines()
    assert lines and any('"Infinity"' in line for line in lines)
    for line in lines:
        strict_loads(line)


def test_convert_keeps_infinity_instead_of_null(
    huge: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.jsonl"
    assert main(["convert", str(huge), "-o", str(out)]) == 0
    records = [strict_loads(line) for line in out.read_bytes().splitlines()]
    step = next(r for r in records if r.get("span_id") == "dis-0005")
    assert step["attributes"]["gen_ai.tool.call.result"]["discount_pct"] == "Infinity"


def test_writer_escapes_what_a_terminal_obeys_and_reads_back_unchanged() -> None:
    value = {"t": "a\x1b]52;c;x\x07 \u009b31m \u202e \U000e0041 \u2028 \x7f 名", "n": [1.5, 2]}
    for text in (dumps(value), dumps_line(value).decode("utf-8"), dumps(value, indent=2)):
        assert not any(c in text for c in "\x1b\x07\u009b\u202e\U000e0041\u2028\x7f")
        assert "名" in text and strict_loads(text) == value
