"""Huge lines in the commands that read a whole run (show, convert, check, diff, fork).

``open_run`` takes lines as long as the indexed reader does (up to ``HUGE_LINE_BYTES``): a
Claude Code session's pasted file is a step there as on the screen, not "1 record skipped".
Longer lines are still one problem each, read with bounded memory. Sizes are scaled: the lines
are just over ``MAX_LINE_BYTES`` (the old cap), the "too long" cap is patched down.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import trace_tui.core.reading.reader as reader
from trace_tui.core.export.convert import convert_file
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.io.jsonl import MAX_LINE_BYTES, decode_bytes, iter_raw_lines
from trace_tui.core.reading.reader import open_run

CLAUDE = Path(__file__).parent / "data" / "foreign" / "claude-code"


def _span(span_id: str, text: str) -> bytes:
    return json.dumps({"type": "span", "span_id": span_id, "kind": "tool", "name": span_id,
                       "attributes": {"tool.output": text}}, ensure_ascii=False).encode()


def _huge_text() -> str:
    return "start é\u2028 \"quoted\" " + "pasted line\n" * (MAX_LINE_BYTES // 12 + 10) + " end"


def test_open_run_keeps_a_native_huge_line_whole(tmp_path: Path) -> None:
    text = _huge_text()
    path = tmp_path / "t.jsonl"
    path.write_bytes(_span("a", "x") + b"\n" + _span("big", text) + b"\n" + _span("b", "y") + b"\n")
    run = open_run(path)
    assert run.problems == []
    assert [s.name for s in run.steps] == ["a", "big", "b"]
    assert run.steps[1].attributes["tool.output"] == text
    assert run.steps[1].offset == len(_span("a", "x")) + 1


def test_open_run_agrees_with_the_index_on_a_claude_code_huge_line(tmp_path: Path) -> None:
    """The real sample with one prompt replaced by a pasted file over the old cap: the same
    steps, names and texts as the indexed reader (the screen) shows."""
    sample = CLAUDE / "claude-code-2.1.328_orders.jsonl"
    lines = sample.read_bytes().splitlines()
    for k, line in enumerate(lines):
        record = json.loads(line)
        message = record.get("message")
        if record.get("type") == "user" and isinstance(message, dict) \
                and isinstance(message.get("content"), str):
            message["content"] = _huge_text()
            lines[k] = json.dumps(record, ensure_ascii=False).encode()
            break
    else:  # pragma: no cover - the sample changed
        pytest.fail("no plain user prompt in the sample")
    path = tmp_path / "session.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    run = open_run(path, in_run_order=False)
    assert not [p for p in run.problems if "longer than" in p.message]
    source = IndexedSource(path)
    try:
        while not source.update().complete:
            pass
        indexed = [source.run.step(i) for i in range(len(source.run))]
        assert [(s.span_id, s.name, s.kind) for s in run.steps] == \
            [(s.span_id, s.name, s.kind) for s in indexed]
        prompts = [s for s in run.steps if s.attributes.get("claude_code.prompt", "")
                   .startswith("start é")]
        assert len(prompts) == 1 and prompts[0].attributes["claude_code.prompt"] == _huge_text()
    finally:
        source.close()


def test_convert_writes_the_huge_step(tmp_path: Path) -> None:
    text = _huge_text()
    path = tmp_path / "t.jsonl"
    path.write_bytes(_span("a", "x") + b"\n" + _span("big", text) + b"\n")
    out = tmp_path / "out.jsonl"
    result = convert_file(path, out)
    assert result.input_problems == [] and result.steps == 2
    written = [json.loads(line) for line in out.read_bytes().splitlines()]
    assert [r["attributes"]["tool.output"] for r in written if r.get("span_id") == "big"] == [text]


def test_a_line_over_the_cap_is_still_one_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader, "HUGE_LINE_BYTES", MAX_LINE_BYTES + 100)
    path = tmp_path / "t.jsonl"
    path.write_bytes(_span("a", "x") + b"\n" + _span("big", _huge_text()) + b"\n"
                     + _span("b", "y") + b"\n")
    run = open_run(path)
    assert [s.name for s in run.steps] == ["a", "b"]
    assert len(run.problems) == 1
    assert f"longer than {MAX_LINE_BYTES + 100} bytes" in run.problems[0].message
    assert run.problems[0].line == 2


def test_huge_lines_are_handed_over_without_a_copy() -> None:
    big = _span("big", _huge_text())
    lines = list(iter_raw_lines(io.BytesIO(big + b"\n" + _span("b", "y") + b"\n"),
                                max_line=len(big) + 1))
    assert [raw.too_long for raw in lines] == [False, False]
    assert isinstance(lines[0].data, bytearray) and bytes(lines[0].data) == big
    assert lines[1].data == _span("b", "y")  # the next line did not reuse the huge buffer


def test_huge_line_values_match_the_ordinary_parser() -> None:
    """Over the old cap, msgspec parses the line: the same value as orjson and the standard
    library give, big integers exact; bad JSON and numbers msgspec refuses take the
    ordinary path (its reason, or its value)."""
    pad = "x" * (MAX_LINE_BYTES + 10)
    exact = b'{"n": 123456789012345678901234567890, "m": -99999999999999999999, "pad": "' \
        + pad.encode() + b'"}'
    value = decode_bytes(exact, 0, 1)
    assert isinstance(value, dict)
    assert value["n"] == 123456789012345678901234567890 and value["m"] == -99999999999999999999
    huge_float = b'{"f": 1e999, "pad": "' + pad.encode() + b'"}'
    assert decode_bytes(huge_float, 0, 1) == json.loads(huge_float)
    broken = b'{"pad": "' + pad.encode() + b'"'
    assert "corrupt" in decode_bytes(broken, 0, 1).message  # type: ignore[union-attr]
    array = b'["' + pad.encode() + b'"]'
    assert "not an object" in decode_bytes(array, 0, 1).message  # type: ignore[union-attr]
    blank = b" " * (MAX_LINE_BYTES + 10)
    assert decode_bytes(blank, 0, 1) is None
