"""Reading native traces: split spans, bad lines and bad records never stop reading."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from trace_tui.core.reading.reader import TraceOpenError, open_run

SPAN = {"type": "span", "span_id": "a", "parent_id": None, "kind": "agent", "name": "agent"}


def test_span_start_then_end_is_running_then_done(write_trace) -> None:
    start = {
        "type": "span_start",
        "span_id": "l1",
        "parent_id": "a",
        "kind": "llm",
        "name": "chat",
        "start_time": "2026-01-01T00:00:00Z",
        "attributes": {"gen_ai.request.model": "gpt-4o"},
    }
    path = write_trace([SPAN, start])
    running = open_run(path).step_by_id("l1")
    assert running is not None and running.status == "running" and running.end_time is None
    end = {
        "type": "span_end",
        "span_id": "l1",
        "end_time": "2026-01-01T00:00:02.5Z",
        "attributes": {"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 3},
    }
    path = write_trace([SPAN, start, end])
    done = open_run(path).step_by_id("l1")
    assert done is not None and done.status == "ok" and done.duration == pytest.approx(2.5)
    assert done.usage is not None and done.usage.total_tokens == 13
    assert done.model == "gpt-4o"  # start attributes kept, end attributes merged


def test_error_field_makes_status_error(write_trace) -> None:
    tool = {
        "type": "span",
        "span_id": "t",
        "parent_id": "a",
        "kind": "tool",
        "name": "x",
        "error": {"type": "Timeout", "message": "after 30s"},
    }
    run = open_run(write_trace([SPAN, tool]))
    assert run.step(1).status == "error" and run.step(1).error == "Timeout: after 30s"
    assert run.first_error() is run.step(1)


def test_bad_lines_become_problems_and_neighbours_survive(write_trace) -> None:
    lines = [
        SPAN,
        b"\x00\x00\x00\x00",
        b'{"type": "span", "span_id": "torn", "kind": "to',
        b"[1, 2, 3]",
        b"\xff\xfe not utf-8",
        {"type": "span", "span_id": "b", "parent_id": "a", "kind": "tool", "name": "ok"},
        {"type": "span", "span_id": "c", "parent_id": "a", "kind": "banana", "name": "bad kind"},
        {"type": "span", "span_id": "b", "parent_id": "a", "kind": "tool", "name": "duplicate"},
        {"type": "span_end", "span_id": "nobody"},
        {"type": "mystery"},
        "",
        {"type": "span", "span_id": "d", "parent_id": "a", "kind": "llm", "name": "last"},
    ]
    run = open_run(write_trace(lines))
    assert [s.span_id for s in run.steps] == ["a", "b", "d"]
    assert [p.line for p in run.problems] == [2, 3, 4, 5, 7, 8, 9, 10]
    assert run.problems[0].message.startswith("corrupt record at offset ")
    assert "not an object" in run.problems[2].message
    assert "appears twice" in run.problems[5].message


def test_bom_crlf_and_blank_lines_are_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"type":"span","span_id":"a","kind":"agent","name":"x"}\r\n\r\n\n'
        b'{"type":"span","span_id":"b","parent_id":"a","kind":"tool","name":"y"}\r\n'
    )
    run = open_run(path)
    assert [s.span_id for s in run.steps] == ["a", "b"] and run.problems == []
    assert run.step(1).offset == path.read_bytes().index(b'{"type":"span","span_id":"b"')


def test_unsupported_schema_version_is_reported(write_trace) -> None:
    run = open_run(write_trace([{"type": "run", "schema_version": 9}, SPAN]))
    assert "schema_version 9 is not supported" in run.problems[0].message
    assert len(run) == 1


def test_orphan_parent_hangs_at_root(write_trace) -> None:
    run = open_run(write_trace([{**SPAN, "parent_id": "elsewhere"}]))
    assert run.roots() == [run.step(0)] and run.row(0).depth == 0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p, "no such file"),
        (lambda p: (p.mkdir(), p)[1], "is a directory"),
        (lambda p: (p.write_bytes(b""), p)[1], "the file is empty"),
        (lambda p: (p.write_bytes(b"hello world\n"), p)[1], "the first line is not JSON"),
        (
            lambda p: (p.write_bytes(b'{"foo": 1, "bar": 2}\n'), p)[1],
            "first record has keys: bar, foo",
        ),
        (lambda p: (os.mkfifo(p), p)[1], "not a regular file"),
    ],
)
def test_unreadable_paths_give_one_clear_error(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path / "input.jsonl")
    with pytest.raises(TraceOpenError) as info:
        open_run(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_reading_never_writes_to_the_trace(tmp_path: Path) -> None:
    from support import SAMPLES

    path = tmp_path / "copy.jsonl"
    path.write_bytes((SAMPLES / "discount_over_cap.jsonl").read_bytes())
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    open_run(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_children_written_before_their_parent_are_adopted(write_trace) -> None:
    child = {"type": "span", "span_id": "c", "parent_id": "p", "kind": "llm", "name": "child"}
    grandchild = {"type": "span", "span_id": "g", "parent_id": "c", "kind": "tool", "name": "gc"}
    parent = {"type": "span", "span_id": "p", "parent_id": None, "kind": "agent", "name": "parent"}
    run = open_run(write_trace([child, grandchild, parent]))
    assert [s.span_id for s in run.roots()] == ["p"]
    # numbered in run order: the parent first, whatever order the file wrote them in
    assert [s.span_id for s in run.steps] == ["p", "c", "g"]
    assert [run.row(i).depth for i in range(3)] == [0, 1, 2]
    assert [r.step.span_id for r in run.tree_rows()] == ["p", "c", "g"]
    filed = open_run(write_trace([child, grandchild, parent]), in_run_order=False)
    assert [filed.row(i).depth for i in range(3)] == [1, 2, 0]


def test_a_parent_cycle_never_loops(write_trace) -> None:
    a = {"type": "span", "span_id": "a", "parent_id": "b", "kind": "agent", "name": "a"}
    b = {"type": "span", "span_id": "b", "parent_id": "a", "kind": "agent", "name": "b"}
    run = open_run(write_trace([a, b]))
    assert len(list(run.tree_rows())) == 2 and run.depth_of(run.step(0)) <= 2


def test_importer_problem_records_and_merged_sources() -> None:
    from trace_tui.core.model.builder import RunBuilder
    from trace_tui.core.model.run import Run

    run = Run()
    builder = RunBuilder(run)
    builder.add({"type": "span_start", "span_id": "x", "kind": "llm", "source": {"line": 1}})
    builder.add({"type": "problem", "message": "skipped a torn record"}, line=2)
    builder.add({"type": "span_end", "span_id": "x", "source": {"line": 3}})
    assert run.step(0).source == [{"line": 1}, {"line": 3}]
    assert [p.message for p in run.problems] == ["skipped a torn record"]
