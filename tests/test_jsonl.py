"""Corrupt data never stops reading: each bad physical line is one visible problem.

Every fault from the issue has a case here, checked two ways: :func:`decode_bytes` on the line
alone, and the indexed reader on a file where the bad line sits between two good records
(the neighbours must be unaffected and the problem must name the line's offset).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trace_tui.core.formats.native import NATIVE
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.io.jsonl import (
    BOM,
    MAX_LINE_BYTES,
    CorruptLine,
    RepairedRecord,
    decode_bytes,
    iter_raw_lines,
)

GOOD_A = b'{"type": "span", "span_id": "a", "kind": "tool", "name": "before"}'
GOOD_B = b'{"type": "span", "span_id": "b", "kind": "tool", "name": "after"}'

CORRUPT_LINES = {
    "nul run": b"\x00" * 64,
    "torn record": b'{"type": "span", "span_id": "t", "ki',
    "spliced records": b'{"type": "span", "span_id": "s1", "kind": "tool"{"type": "span"}',
    "two records on one line": GOOD_A.replace(b'"a"', b'"y"') * 2,
    "invalid utf-8, torn": b'{"type": "span", "span_id": "u", "kind": "tool", "name": "\xff\xfe',
    "nul run then a torn record": b"\x00\x00\x00" + GOOD_A[:20],
    "json array": b"[1, 2, 3]",
    "json string": b'"just a string"',
    "json number": b"42",
    "json null": b"null",
    "NaN": b'{"type": "span", "span_id": "n", "kind": "tool", "attributes": {"x": NaN}}',
    "Infinity": b'{"type": "span", "span_id": "i", "kind": "tool", "attributes": {"x": -Infinity}}',
    "100k nested brackets": b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "control character in string": (
        b'{"type": "span", "span_id": "c", "kind": "tool", "name": "a\x07b"}'
    ),
    "lone surrogate escape": b'{"type": "span", "span_id": "s", "kind": "tool", "name": "\\ud800"}',
}


#: Damaged lines that still hold one whole record: kept, and reported (issue 13, item 4).
REPAIRED_LINES = {
    "nul run then record": (b"\x00\x00\x00" + GOOD_A.replace(b'"a"', b'"x"'), "NUL"),
    "invalid utf-8": (
        b'{"type": "span", "span_id": "x", "kind": "tool", "name": "\xff\xfe"}', "UTF-8"
    ),
    "invalid utf-8 in payload": (
        b'{"type": "span", "span_id": "x", "kind": "tool", "attributes": {"x": "\xc3("}}',
        "UTF-8",
    ),
}


@pytest.mark.parametrize("name", sorted(REPAIRED_LINES))
def test_damaged_line_with_a_whole_record_is_kept_and_reported(tmp_path: Path, name: str) -> None:
    bad, words = REPAIRED_LINES[name]
    value = decode_bytes(bad, 9, 2)
    assert isinstance(value, RepairedRecord) and words in value.repair
    assert value["span_id"] == "x"
    path = tmp_path / "t.jsonl"
    path.write_bytes(GOOD_A + b"\n" + bad + b"\n" + GOOD_B + b"\n")
    run = _index(path)
    assert [run.step(i).span_id for i in range(len(run))] == ["a", "x", "b"]
    assert len(run.problems) == 1 and words in run.problems[0].message
    assert run.problems[0].line == 2


@pytest.mark.parametrize("name", sorted(CORRUPT_LINES))
def test_corrupt_line_is_one_problem_with_offset_and_preview(name: str) -> None:
    result = decode_bytes(CORRUPT_LINES[name], 1234, 7)
    assert isinstance(result, CorruptLine)
    assert result.message.startswith("corrupt record at offset 1234 (line 7): ")
    assert result.preview and all(ch.isprintable() for ch in result.preview)
    assert len(result.preview) <= 80


@pytest.mark.parametrize("name", sorted(CORRUPT_LINES))
def test_corrupt_line_leaves_neighbours_alone(tmp_path: Path, name: str) -> None:
    bad = CORRUPT_LINES[name]
    path = tmp_path / "t.jsonl"
    path.write_bytes(GOOD_A + b"\n" + bad + b"\n" + GOOD_B + b"\n")
    run = _index(path)
    assert [run.row(i).name for i in range(len(run))] == ["before", "after"]
    assert len(run.problems) == 1
    problem = run.problems[0]
    assert problem.offset == len(GOOD_A) + 1 and problem.line == 2
    assert f"corrupt record at offset {len(GOOD_A) + 1}" in problem.message


def test_reasons_name_the_fault() -> None:
    reasons = {
        name: decode_bytes(line, 0 if name != "x" else 1, 1) for name, line in CORRUPT_LINES.items()
    }
    assert "NUL" in reasons["nul run"].reason  # type: ignore[union-attr]
    assert "UTF-8" in reasons["invalid utf-8, torn"].reason  # type: ignore[union-attr]
    assert "NaN" in reasons["NaN"].reason  # type: ignore[union-attr]
    assert "cut short" in reasons["torn record"].reason  # type: ignore[union-attr]
    assert "nested too deeply" in reasons["100k nested brackets"].reason  # type: ignore[union-attr]
    assert "array" in reasons["json array"].reason  # type: ignore[union-attr]


def test_huge_integers_are_kept_exactly() -> None:
    big = 123456789012345678901234567890
    line = (
        b'{"type": "span", "span_id": "h", "kind": "tool", "attributes": {"n": %d, "m": -%d}}'
        % (big, big)
    )
    value = decode_bytes(line, 10, 2)
    assert isinstance(value, dict)
    assert value["attributes"] == {"n": big, "m": -big}
    assert isinstance(value["attributes"]["n"], int)


def test_number_beyond_double_range_is_kept() -> None:
    value = decode_bytes(b'{"x": 1e999, "y": 2}', 5, 1)
    assert isinstance(value, dict) and value["y"] == 2 and value["x"] == float("inf")


def test_duplicate_keys_last_one_wins() -> None:
    value = decode_bytes(b'{"type": "span", "name": "first", "name": "second"}', 0, 1)
    assert isinstance(value, dict) and value["name"] == "second"


def test_duplicate_keys_in_index_match_full_parse(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(
        b'{"type": "span", "span_id": "d", "kind": "llm", "kind": "tool", "name": "x"}\n'
    )
    run = _index(path)
    assert run.row(0).kind == "tool" and run.step(0).kind == "tool" and not run.problems


def test_crlf_blank_lines_and_bom_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(BOM + GOOD_A + b"\r\n\r\n\n   \n" + GOOD_B + b"\r\n")
    run = _index(path)
    assert [run.row(i).name for i in range(len(run))] == ["before", "after"]
    assert run.problems == []
    assert run.step(1).name == "after"


def test_blank_and_bom_decode() -> None:
    assert decode_bytes(b"   \r", 9, 1) is None
    assert decode_bytes(BOM + b'{"a": 1}', 0, 1) == {"a": 1}
    assert isinstance(decode_bytes(BOM + b'{"a": 1}', 5, 2), CorruptLine)  # a BOM mid-file is not


def test_overlong_line_is_skipped_with_bounded_memory() -> None:
    huge = b'{"x": "' + b"a" * (MAX_LINE_BYTES + 10) + b'"}'
    stream = io.BytesIO(GOOD_A + b"\n" + huge + b"\n" + GOOD_B + b"\n")
    lines = list(iter_raw_lines(stream))
    assert [raw.too_long for raw in lines] == [False, True, False]
    assert len(lines[1].data) <= 256
    assert lines[2].offset == len(GOOD_A) + 1 + len(huge) + 1


def test_overlong_line_in_index_is_one_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trace_tui.core.index.indexer as indexer

    monkeypatch.setattr(indexer, "HUGE_LINE_BYTES", MAX_LINE_BYTES)  # the indexer's cap
    path = tmp_path / "t.jsonl"
    huge = b'{"x": "' + b"a" * (MAX_LINE_BYTES + 10) + b'"}'
    path.write_bytes(GOOD_A + b"\n" + huge + b"\n" + GOOD_B + b"\n")
    run = _index(path)
    assert [run.row(i).name for i in range(len(run))] == ["before", "after"]
    assert len(run.problems) == 1
    assert "longer than" in run.problems[0].message
    assert run.problems[0].offset == len(GOOD_A) + 1 and run.problems[0].line == 2
    assert run.step(1).offset == len(GOOD_A) + 1 + len(huge) + 1


def test_every_corrupt_line_together(tmp_path: Path) -> None:
    """All faults in one file, each between good records: n problems, every good step kept."""
    lines, expected = [], []
    for k, name in enumerate(sorted(CORRUPT_LINES)):
        rec = {"type": "span", "span_id": f"g{k}", "kind": "tool", "name": f"good {k}"}
        lines.append(json.dumps(rec).encode())
        lines.append(CORRUPT_LINES[name])
        expected.append(f"good {k}")
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    run = _index(path)
    assert [run.row(i).name for i in range(len(run))] == expected
    assert len(run.problems) == len(CORRUPT_LINES)
    assert all("corrupt record at offset" in p.message for p in run.problems)


def _index(path: Path):
    source = IndexedSource(path, NATIVE)
    while not source.update().complete:
        pass
    return source.run


_digits = st.one_of(st.integers(0, 10**25), st.integers(10**19 - 10, 10**25)).map(str)
_number_text = st.one_of(
    _digits,
    _digits.map(lambda t: "-" + t),
    st.tuples(_digits, _digits).map(lambda p: f"{p[0]}.{p[1]}"),
    st.tuples(_digits, st.sampled_from(["e", "E-", "e+"]), st.text("0123456789", min_size=1,
              max_size=3)).map(lambda p: "".join(p)),
)  # fmt: skip
_piece = st.one_of(
    _number_text,
    _digits.map(lambda t: json.dumps("id:" + t)),
    _digits.map(json.dumps),
    st.sampled_from(["true", "null", '"x"']),
)
_space = st.sampled_from(["", " ", "\t", "\n "])


@given(pieces=st.lists(st.tuples(_space, _piece), min_size=1, max_size=6))
def test_numbers_of_any_length_parse_as_the_standard_library_does(
    pieces: list[tuple[str, str]],
) -> None:
    """Only numbers need the exact parse; 20-digit runs in strings (hashes) do not, and the
    value is the same either way."""
    items = ",".join(f"{space}{piece}" for space, piece in pieces)
    line = f'{{"a":[{items}],"b":{pieces[0][1]}}}'.encode()
    assert decode_bytes(line, 1, 1, exact=True) == json.loads(line)
