"""Huge lines are traces too: a line far longer than a read slice is indexed as a step.

Claude Code sessions hold single lines of 70–200 MB (a pasted file, an image). The tail engine
finds such a line's end in bounded blocks and hands it out whole; the indexer parses it in
place and keeps a step whose payload is read back in full when shown. Lines over the indexer's
cap (1 GiB) are still one problem, skipped with bounded memory. Sizes here are scaled down:
the slice is made small, and the lines are just over the old 8 MiB cap.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import trace_tui.core.index.indexer as indexer
from trace_tui.core.formats.shared.common import short
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.io.jsonl import MAX_LINE_BYTES
from trace_tui.core.tail.follower import Lines, LongLine, TailReader

FOREIGN = Path(__file__).parent / "data" / "foreign"


@pytest.fixture(autouse=True)
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slices of 4 KiB: a long line spans many slices."""
    monkeypatch.setattr(indexer, "FIRST_SLICE_BYTES", 4096)
    monkeypatch.setattr(indexer, "SLICE_BYTES", 4096)


def _index(path: Path) -> IndexedSource:
    source = IndexedSource(path)
    while not source.update().complete:
        pass
    return source


def _span(span_id: str, text: str) -> bytes:
    return json.dumps({"type": "span", "span_id": span_id, "kind": "tool", "name": span_id,
                       "attributes": {"tool.output": text}}).encode()


def test_tail_hands_out_a_line_longer_than_the_read_budget(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    big = _span("big", "é" * 200_000)
    path.write_bytes(_span("a", "x") + b"\n" + big + b"\n" + _span("b", "y") + b"\n")
    reader = TailReader(path, follow=False, max_line=10_000_000)
    reader.open_now()
    items = []
    for _ in range(100):
        items += reader.read(1024)
        if reader.caught_up:
            break
    data = b"".join(i.data for i in items if isinstance(i, Lines))
    assert data == path.read_bytes()
    assert not any(isinstance(i, LongLine) for i in items)


def test_huge_native_line_is_a_step_with_its_whole_payload(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    text = "the start " + "ü" * (MAX_LINE_BYTES // 2 + 1000) + " the end"  # over the old cap
    path.write_bytes(_span("a", "x") + b"\n" + _span("big", text) + b"\r\n" + _span("b", "y")
                     + b"\n")
    source = _index(path)
    try:
        run = source.run
        assert [run.row(i).name for i in range(len(run))] == ["a", "big", "b"]
        assert not run.problems
        assert run.step(1).attributes["tool.output"] == text
        assert run.step(2).attributes["tool.output"] == "y"
    finally:
        source.close()


def test_huge_line_being_written_waits_for_its_newline(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    big = _span("big", "z" * 100_000)
    path.write_bytes(_span("a", "x") + b"\n" + big[:50_000])
    source = IndexedSource(path, follow=True)
    try:
        for _ in range(100):
            if source.update().complete:
                break
        assert len(source.run) == 1
        with open(path, "ab") as out:
            out.write(big[50_000:] + b"\n")
        for _ in range(100):
            if source.update().complete and len(source.run) == 2:
                break
        assert len(source.run) == 2 and not source.run.problems
        assert source.run.step(1).attributes["tool.output"] == "z" * 100_000
    finally:
        source.close()


def test_line_over_the_cap_is_still_one_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexer, "HUGE_LINE_BYTES", 50_000)
    path = tmp_path / "t.jsonl"
    path.write_bytes(_span("a", "x") + b"\n" + _span("big", "q" * 60_000) + b"\n"
                     + _span("b", "y") + b"\n")
    source = _index(path)
    try:
        run = source.run
        assert [run.row(i).name for i in range(len(run))] == ["a", "b"]
        assert len(run.problems) == 1 and "longer than 50000" in run.problems[0].message
    finally:
        source.close()


def test_huge_claude_code_line_is_a_step(tmp_path: Path) -> None:
    """A real Claude Code session with one user message inflated past 8 MiB (a pasted file)."""
    sample = FOREIGN / "claude-code" / "claude-code-2.1.328_orders.jsonl"
    lines = sample.read_bytes().splitlines()
    pasted = "PASTED " + "line of a pasted file\n" * (MAX_LINE_BYTES // 20)  # over the old cap
    for k, raw in enumerate(lines):
        record = json.loads(raw)
        message = record.get("message") or {}
        if record.get("type") == "user" and isinstance(message.get("content"), str):
            message["content"] = pasted
            lines[k] = json.dumps(record).encode()
            break
    else:
        raise AssertionError("no plain user message in the sample")
    path = tmp_path / "session.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    small = _index(sample)
    source = _index(path)
    try:
        assert len(source.run) == len(small.run)
        assert not [p for p in source.run.problems if "longer than" in p.message]
        found = [i for i in range(len(source.run))
                 if "PASTED" in json.dumps(source.run.step(i).attributes)]
        assert found
    finally:
        source.close()
        small.close()


def test_huge_span_end_is_read_back_whole(tmp_path: Path) -> None:
    """A ``span_end`` record is read back without a known length: its end is searched for."""
    path = tmp_path / "t.jsonl"
    output = "r" * (MAX_LINE_BYTES + 1000)
    end = json.dumps({"type": "span_end", "span_id": "a", "status": "ok",
                      "attributes": {"tool.output": output}}).encode()
    start = _span("a", "x").replace(b'"type": "span"', b'"type": "span_start"')
    path.write_bytes(start + b"\n" + end + b"\n" + _span("b", "y") + b"\n")
    source = _index(path)
    try:
        assert len(source.run) == 2 and not source.run.problems
        assert source.run.step(0).attributes["tool.output"] == output
    finally:
        source.close()


@given(st.text(alphabet=st.sampled_from(list(" \t\n\x1c\u2028\u3000\x85\xa0abé")), max_size=1200),
       st.integers(1, 80))
def test_short_names_read_only_what_they_need(text: str, limit: int) -> None:
    """``short`` (step names from message text) equals the whole-text split it replaced."""
    full = " ".join(text.split())
    assert short(text, limit) == (full if len(full) <= limit else full[: limit - 1] + "…")


def test_spill_writes_huge_strings_apart_and_reads_them_back() -> None:
    """Strings over a megabyte are written apart from their record; the text is unchanged,
    even next to a string that looks like the placeholder, quotes, escapes and non-ASCII."""
    import orjson

    from trace_tui.core.index.blobs import PLACEHOLDER_TEXT as _PLACEHOLDER_TEXT
    from trace_tui.core.index.store import SpillFile, read_line_at

    big = 'a"b\\c\n\u2028é😀\x00' * 200_000
    records = [
        {"type": "span", "attributes": {"x": big, "y": [1, big[:10], big]}},
        {"type": "span", "attributes": {"x": big, "odd": _PLACEHOLDER_TEXT}},
        {"type": "span", "attributes": {"small": "s"}},
    ]
    spill = SpillFile()
    try:
        places = [spill.append(9, k, rec, large=True) for k, rec in enumerate(records)]
        spill.flush()
        for k, (at, length) in enumerate(places):
            assert orjson.loads(read_line_at(spill.fd, at, length)) == [9, k, records[k]]
            assert orjson.loads(read_line_at(spill.fd, at)) == [9, k, records[k]]
    finally:
        spill.close()
