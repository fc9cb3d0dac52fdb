"""The byte-scan search finds exactly the steps the per-step scan finds.

Differential tests of :mod:`trace_tui.core.index.byte_search` against
:func:`~trace_tui.core.navigation.step_query.iter_matches` (which loads every step): on
generated native traces whose strings hold escapes, quotes, backslashes, control characters,
non-ASCII and astral text, written with raw UTF-8 or with ``\\uXXXX`` escapes, in any case;
and on the foreign samples (searched in their spill of mapped records).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_agrees import search_agrees

from support import SAMPLES
from trace_tui.core.formats import detect_format
from trace_tui.core.index import search as search_module
from trace_tui.core.index import search_blocks
from trace_tui.core.index.byte_search import ByteSearch
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.index.needle import needle_forms
from trace_tui.core.index.search import find_matches
from trace_tui.core.navigation.step_query import (
    QueryError,
    StepQuery,
    fold,
    iter_matches,
    payload_text,
)

FOREIGN = Path(__file__).parent / "data" / "foreign"
FOREIGN_SAMPLES = [
    FOREIGN / "claude-code" / "claude-code-2.1.328_orders.jsonl",
    FOREIGN / "claude-code" / "claude-code-log_edge_cases_malformed.jsonl",
    FOREIGN / "codex" / "codex-0.169.0_orders.jsonl",
    FOREIGN / "otlp" / "otel-spec_file-exporter_example_traces.jsonl",
    FOREIGN / "otel-genai" / "otel-genai-orders.jsonl",
    FOREIGN / "openinference" / "openinference-orders.jsonl",
    FOREIGN / "wire-exchanges" / "agenttap-wire-orders.jsonl",
    FOREIGN / "handmade" / "anthropic-stream-wire.jsonl",
]
TEXT = st.text(
    alphabet=st.sampled_from(
        list('abcKİé"\\/<>&\'\n\t\x01 :,{}[]') + ["É", "日", "本", "😀", "Ω", "ß", "\u212a"]
    ),
    max_size=12,
)


def _index(path: Path) -> IndexedSource:
    source = IndexedSource(path)
    while not source.update().complete:
        pass
    return source


def _slow(source: IndexedSource, query: StepQuery) -> list[int]:
    return list(iter_matches(source.run, query, range(len(source.run))))


def _write(path: Path, values: list[str], ascii_only: bool, with_ends: bool,
           late_ends: bool = False) -> None:
    """A step per value; with ends, every other step also gets a ``span_end`` holding the next
    value reversed, right after the next step or (``late_ends``) after every step."""
    lines, ends = [], []
    for n, value in enumerate(values):
        record = {"type": "span", "span_id": f"s{n}", "kind": "tool", "name": f"step {value}",
                  "start_time": float(n), "end_time": n + 0.5, "status": "ok",
                  "attributes": {"tool.input": {"q": value, "k": [value.upper(), n]}}}
        lines.append(json.dumps(record, ensure_ascii=ascii_only))
        if with_ends and n % 2:
            (ends if late_ends else lines).append(json.dumps(
                {"type": "span_end", "span_id": f"s{n - 1}",
                 "attributes": {"tool.output": value[::-1]}}, ensure_ascii=ascii_only))
    path.write_text("\n".join(lines + ends) + "\n", encoding="utf-8")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(TEXT, min_size=1, max_size=8),
    needle=TEXT,
    pick=st.integers(0, 7),
    cut=st.tuples(st.integers(0, 12), st.integers(0, 12)),
    ascii_only=st.booleans(),
    with_ends=st.booleans(),
    late_ends=st.booleans(),
    field=st.sampled_from(["", "text:", "name:"]),
    upper=st.booleans(),
    start=st.integers(0, 7),
    small_blocks=st.booleans(),
)
def test_byte_search_equals_per_step_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, values: list[str], needle: str, pick: int,
    cut: tuple[int, int], ascii_only: bool, with_ends: bool, late_ends: bool, field: str,
    upper: bool, start: int, small_blocks: bool,
) -> None:
    # small blocks: a step's late end is blocks after it (the scan stops, then reads on)
    monkeypatch.setattr(search_blocks, "FIRST_BLOCK_BYTES", 64 if small_blocks else 512 * 1024)
    monkeypatch.setattr(search_blocks, "BLOCK_BYTES", 128 if small_blocks else 8 * 1024 * 1024)
    monkeypatch.setattr(search_module, "LATE_CONFIRM", 0 if small_blocks else 64)  # reads on
    source_text = values[pick % len(values)]
    word = source_text[min(cut):max(cut)] or needle  # often a piece of a real value
    word = word.upper() if upper else word
    if not word.strip():
        return  # a blank word is no query
    try:
        query = StepQuery.parse(field + shlex.quote(word))
    except QueryError:
        return  # a word like "K::" reads as a field ("k:") with a bad value: no text query
    path = tmp_path / "t.jsonl"
    _write(path, values, ascii_only, with_ends, late_ends)
    source = _index(path)
    try:
        expected = _slow(source, query)
        found = sorted(i for batch in find_matches(source.run, query, 0, len(source.run))
                       for i in batch)
        assert found == expected
        search_agrees(source.run, query, (0, start % len(values)))
    finally:
        source.close()


@pytest.mark.parametrize("blocks", [None, (64, 256)])
def test_byte_search_on_foreign_samples(blocks: tuple[int, int] | None,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    if blocks is not None:  # blocks much shorter than a line: every line is cut somewhere
        monkeypatch.setattr(search_blocks, "FIRST_BLOCK_BYTES", blocks[0])
        monkeypatch.setattr(search_blocks, "BLOCK_BYTES", blocks[1])
    checked = 0
    for path in FOREIGN_SAMPLES:
        source = _index(path)
        try:
            run = source.run
            words: set[str] = set()
            for index in range(len(run)):
                text = payload_text(run.step(index))
                words.update(w for w in text.replace("\n", " ").split(" ")[:40:7] if len(w) > 2)
            words.update({"zzz-not-there", "orders", "error", "tool"})
            for word in sorted(words)[:40]:
                query = StepQuery.parse(shlex.quote(word))
                expected = _slow(source, query)
                search = ByteSearch(run, query)
                if search.usable:
                    assert search.all_matches() == expected, (path.name, word)
                    checked += 1
                if search.usable and expected:
                    search_agrees(run, query, (0, len(run) // 2, len(run) - 1), path.name)
        finally:
            source.close()
    assert checked > 100


def test_needle_forms_cover_escapes_and_case() -> None:
    assert needle_forms(fold("Refund")) == (b"refund",)
    assert needle_forms('c:\\tmp\\x"y') == (b"tmp",)
    assert needle_forms("日本") == ("日本".encode(), b"\\u65e5\\u672c")
    assert needle_forms("é") == ()  # cased non-ASCII: no byte form, per-step scan
    assert needle_forms("😀") == ("😀".encode(), b"\\ud83d\\ude00")


def test_search_escaped_text_in_a_native_sample(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    _write(path, ['C:\\Temp\\"quoted"', "Café Ωmega", "plain"], ascii_only=True,
           with_ends=False)
    source = _index(path)
    try:
        for text, expected in (("c:\\temp", [0]), ('"quoted"', [0]), ("CAFÉ", [1]),
                               ("ωmega", [1]), ("plain", [2])):
            query = StepQuery.parse("text:" + shlex.quote(text))
            assert _slow(source, query) == expected, text
            assert ByteSearch(source.run, query).all_matches() == expected, text
    finally:
        source.close()


def test_sample_traces_are_detected() -> None:
    assert detect_format(SAMPLES / "discount_over_cap.jsonl").name == "native"


def test_small_blocks_long_lines_and_progress(tmp_path: Path, monkeypatch: Any) -> None:
    """Blocks much smaller than a line, and cut anywhere: the same matches; progress rises to
    the whole file, on the byte scan and on the per-step path."""
    monkeypatch.setattr(search_blocks, "FIRST_BLOCK_BYTES", 37)
    monkeypatch.setattr(search_blocks, "BLOCK_BYTES", 300)
    values = [("Zebra-7q " * (n % 40)) + f"ÉCLAIR-{n} 日本" for n in range(120)]
    path = tmp_path / "t.jsonl"
    _write(path, values, ascii_only=False, with_ends=True)
    source = _index(path)
    try:
        for text in ("text:zebra-7Q", "text:éclair-1", "text:日本", "text:clair-11",
                     "text:'r-7q ze'", "zebra", "kind:tool"):
            query = StepQuery.parse(text)
            expected = _slow(source, query)
            seen: list[float] = []
            found = sorted(i for batch in find_matches(source.run, query, 0, len(source.run),
                                                       progress=seen.append) for i in batch)
            assert found == expected, text
            assert seen == sorted(seen) and seen[-1] == 1.0, text
    finally:
        source.close()
