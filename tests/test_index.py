"""The indexed reader: same answers as the in-memory builder, for any file, on any thread.

The reference is :func:`trace_tui.core.reading.reader.open_run` (the builder over the whole file):
every row, every full step and every problem the indexed reader reports must match it, on
the samples, on a generated trace full of awkward records, and on hypothesis-generated
traces through both the bulk fast path and the line-by-line path.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trace_tui.core.formats.base import TraceFormat
from trace_tui.core.formats.native import NATIVE
from trace_tui.core.index import columns as columns_module
from trace_tui.core.index import fast as index_fast
from trace_tui.core.index import indexer as index_module
from trace_tui.core.index.columns import StepColumns
from trace_tui.core.index.indexer import IndexedRun, IndexedSource
from trace_tui.core.model.run import Run
from trace_tui.core.reading.reader import TraceOpenError, open_run
from trace_tui.core.reading.source import open_source

SAMPLES = sorted((Path(__file__).parent.parent / "sample_traces").glob("*.jsonl"))


def index_all(path: Path, fmt: TraceFormat = NATIVE) -> IndexedRun:
    source = IndexedSource(path, fmt)
    while not source.update().complete:
        pass
    return source.run


def assert_same_as_builder(run: IndexedRun, ref: Run) -> None:
    """Rows, steps and problems equal the builder's, late-adopted children included."""
    assert len(run) == len(ref)
    for i in range(len(ref)):
        expected = ref.row(i)
        if expected.parent_index >= 0 and not _in_tree_under(ref, i, expected.parent_index):
            # Run.row resolves parent_id at query time, even where adopting it would have
            # closed a cycle (so the step stayed a root); the index keeps the tree parent.
            expected = _with_parent(expected, -1)
        assert run.row(i) == expected, i
        assert run.step(i) == ref.step(i), i
    got = [(p.line, p.offset, p.message) for p in run.problems]
    want = [(p.line, p.offset, p.message) for p in ref.problems]
    assert got == want


def _in_tree_under(ref: Run, index: int, parent: int) -> bool:
    return any(c is ref.step(index) for c in ref.children_of(ref.step(parent)))


def _with_parent(row: Any, parent: int) -> Any:
    from dataclasses import replace

    return replace(row, parent_index=parent)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 3 lines, so most lines go through the bulk fast path (and its fallbacks)."""
    monkeypatch.setattr(index_module, "BATCH_LINES", 3)


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_samples_match_builder(path: Path) -> None:
    assert_same_as_builder(index_all(path), open_run(path, in_run_order=False))


def awkward_records(n: int = 400, seed: int = 3) -> Iterator[Any]:
    """A native trace with every rule of the format exercised somewhere."""
    rng = random.Random(seed)
    yield {"type": "run", "schema_version": 1, "run_id": "r", "name": "awkward"}
    yield {
        "type": "span",
        "span_id": "root",
        "kind": "agent",
        "name": "agent",
        "start_time": "2026-11-02T10:00:00.000Z",
        "end_time": 1793613700.5,
    }
    for k in range(n):
        sid = f"s{k}"
        base = {
            "span_id": sid,
            "parent_id": rng.choice(["root", f"s{k - 1}", f"s{k + 3}", "nowhere", None, sid, ""]),
            "kind": rng.choice(["llm", "tool", "retrieval", "other"]),
            "name": rng.choice(["a", "b", f"n{k}"]),
            "start_time": rng.choice(
                [
                    "2026-11-02T10:00:01.250Z",
                    1793613601 + k,
                    None,
                    "yesterday",
                    "2026-11-02T10:00:01+02:00",
                ]
            ),
            "attributes": {
                "gen_ai.usage.input_tokens": rng.choice([10, 0, None, 2**40, 3.0, "7", True]),
                "gen_ai.usage.output_tokens": k,
            },
        }
        roll = rng.random()
        if roll < 0.5:
            yield {
                "type": "span",
                **base,
                "end_time": "2026-11-02T10:00:02.000Z",
                "status": rng.choice(["ok", "error", "unset", "weird", None]),
                "error": rng.choice([None, None, "boom", "", {"type": "E", "message": "m"}]),
            }
        elif roll < 0.8:
            yield {"type": "span_start", **base}
            yield {
                "type": "span_end",
                "span_id": sid,
                "end_time": rng.choice([1793613609.0, None, 0]),
                "status": rng.choice(["ok", None, "error"]),
                "error": rng.choice([None, "late"]),
                "attributes": {"gen_ai.usage.input_tokens": 99, "extra": k},
            }
            if rng.random() < 0.2:
                yield {"type": "span_end", "span_id": sid, "status": "ok"}
        elif roll < 0.85:
            yield {"type": "span_end", "span_id": f"s{k + 50}"}  # before its start / unknown
        elif roll < 0.9:
            yield {"type": "span", **base, "span_id": "root"}  # duplicate id
        elif roll < 0.93:
            yield {"type": "span", **base, "kind": "banana"}
        elif roll < 0.96:
            yield {"type": "mystery", "span_id": sid}
        else:
            yield {"type": "span", **base, "attributes": ["not", "an", "object"]}


def write_records(path: Path, records: Iterable[Any]) -> Path:
    with open(path, "wb") as out:
        for rec in records:
            out.write(rec if isinstance(rec, bytes) else json.dumps(rec).encode())
            out.write(b"\n")
    return path


def test_awkward_trace_matches_builder(tmp_path: Path, small_batches: None) -> None:
    path = write_records(tmp_path / "t.jsonl", awkward_records())
    assert_same_as_builder(index_all(path), open_run(path, in_run_order=False))


def test_awkward_trace_without_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_fast, "AVAILABLE", False)
    path = write_records(tmp_path / "t.jsonl", awkward_records(seed=5))
    assert_same_as_builder(index_all(path), open_run(path, in_run_order=False))


# ----------------------------------------------------------------- fast path == slow path
_names = st.sampled_from(["chat", "tool", "x", "é名", "a\x1bb"])
_ids = st.sampled_from([f"s{i}" for i in range(12)])
_times = st.one_of(
    st.none(),
    st.floats(0, 2e9, allow_nan=False),
    st.sampled_from(["2026-11-02T10:00:01.100Z", "2026-11-02T10:00:01+01:00"]),
)
_tokens = st.one_of(st.integers(0, 10**6), st.none(), st.just(2**35))
_span = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["span", "span_start"]),
        "span_id": _ids,
        "parent_id": st.one_of(st.none(), _ids),
        "kind": st.sampled_from(["llm", "tool", "agent"]),
        "name": _names,
        "start_time": _times,
        "end_time": _times,
        "status": st.sampled_from(["ok", "error", "unset", None]),
        "error": st.sampled_from([None, "", "bad"]),
        "attributes": st.fixed_dictionaries(
            {},
            optional={"gen_ai.usage.input_tokens": _tokens, "gen_ai.usage.output_tokens": _tokens},
        ),
    }
)
_end = st.fixed_dictionaries(
    {"type": st.just("span_end"), "span_id": _ids},
    optional={
        "end_time": _times,
        "status": st.sampled_from(["ok", "error", None]),
        "error": st.sampled_from([None, "late"]),
        "attributes": st.fixed_dictionaries({}, optional={"gen_ai.usage.output_tokens": _tokens}),
    },
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=st.lists(st.one_of(_span, _end), min_size=1, max_size=30))
def test_fast_path_matches_slow_path(tmp_path: Path, records: list[dict[str, Any]]) -> None:
    pytest.importorskip("msgspec")
    lines = [b'{"type": "run"}'] + [json.dumps(r).encode() for r in records]
    cols_fast, cols_slow = StepColumns(), StepColumns()
    offsets, pos = [], 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    cols_fast.add_record({"type": "run"}, offset=0, line=1, ref_offset=0, ref_length=1)
    data = b"\n".join(lines[1:]) + b"\n"
    chunk = index_fast.decode_chunk(data, offsets[1], 2)
    changed_fast: set[int] = set()
    if chunk is None or not index_fast.apply_chunk(
        cols_fast, chunk, data, offsets[1], changed_fast
    ):
        return  # the fast path declined (duplicates...): nothing to compare
    changed_slow: set[int] = set()
    for k in range(1, len(lines)):
        cols_slow.add_record(
            json.loads(lines[k]),
            offset=offsets[k],
            line=k + 1,
            ref_offset=offsets[k],
            ref_length=len(lines[k]),
            changed=changed_slow,
        )
    assert {i for i in changed_slow} == changed_fast
    assert cols_fast.count == cols_slow.count
    for name in (
        "offset",
        "length",
        "line",
        "end_offset",
        "parent",
        "depth",
        "kind",
        "status",
        "flags",
        "tokens",
        "extra_ends",
        "waiting",
        "pending",
    ):
        assert getattr(cols_fast, name) == getattr(cols_slow, name), name
    assert [cols_fast.row(i) for i in range(cols_fast.count)] == [
        cols_slow.row(i) for i in range(cols_slow.count)
    ]
    assert [(p.line, p.offset, p.message) for p in cols_fast.problems] == [
        (p.line, p.offset, p.message) for p in cols_slow.problems
    ]


# ----------------------------------------------------------------- behaviour
def test_children_written_before_parents_are_adopted(tmp_path: Path) -> None:
    records = [
        {"type": "span", "span_id": "child", "parent_id": "p", "kind": "tool", "name": "c"},
        {"type": "span", "span_id": "p", "kind": "agent", "name": "p"},
    ]
    path = write_records(tmp_path / "t.jsonl", records)
    assert index_all(path).row(0).depth == open_run(path, in_run_order=False).row(0).depth == 1


def test_adoption_moves_whole_subtrees_and_never_closes_a_cycle(tmp_path: Path) -> None:
    """Children-first (as OpenTelemetry exporters write), a chain, a self-parent, a cycle."""

    def span(sid: str, parent: str | None) -> dict[str, Any]:
        return {"type": "span", "span_id": sid, "parent_id": parent, "kind": "tool", "name": sid}

    records = [
        span("leaf", "mid"),
        span("mid", "top"),
        span("self", "self"),
        span("a", "b"),
        span("b", "a"),
        span("top", None),
        span("late", "leaf"),
    ]
    path = write_records(tmp_path / "t.jsonl", records)
    run, ref = index_all(path), open_run(path, in_run_order=False)
    assert_same_as_builder(run, ref)
    assert [run.row(i).depth for i in range(len(run))] == [2, 1, 0, 0, 1, 0, 3]
    assert run.row(0).parent_index == 1 and run.row(1).parent_index == 5


def test_adoption_in_a_later_update_reports_changed_rows(tmp_path: Path) -> None:
    path = write_records(
        tmp_path / "t.jsonl",
        [
            {"type": "span", "span_id": "c", "parent_id": "p", "kind": "tool", "name": "c"},
            {"type": "span", "span_id": "g", "parent_id": "c", "kind": "tool", "name": "g"},
        ],
    )
    source = IndexedSource(path, NATIVE, follow=True)
    assert source.update().added == 2 and source.run.row(1).depth == 1
    with open(path, "ab") as out:
        out.write(b'{"type": "span", "span_id": "p", "kind": "agent", "name": "p"}\n')
    update = source.update()
    assert update.added == 1 and update.changed == (0, 1)
    assert [source.run.row(i).depth for i in range(3)] == [1, 2, 0]
    source.close()


def test_first_update_is_bounded_and_progress_grows(tmp_path: Path) -> None:
    record = {"type": "span", "kind": "tool", "name": "t", "attributes": {"pad": "x" * 900}}
    path = write_records(
        tmp_path / "t.jsonl", ({**record, "span_id": f"s{i}"} for i in range(3000))
    )
    source = IndexedSource(path, NATIVE)
    first = source.update()
    assert not first.complete and 0 < first.added < 3000 and 0 < first.progress < 1
    total = first.added
    while not (update := source.update()).complete:
        total += update.added
    assert total + update.added == len(source.run) == 3000 and update.progress == 1.0


def test_span_end_in_a_later_update_reports_changed_index(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    write_records(
        path,
        [
            {"type": "span_start", "span_id": "a", "kind": "llm", "name": "m"},
            {"type": "span", "span_id": "b", "kind": "tool", "name": "t"},
        ],
    )
    source = IndexedSource(path, NATIVE, follow=True)
    assert source.update().added == 2 and source.run.row(0).status == "running"
    version = source.run.version
    with open(path, "ab") as out:
        out.write(
            b'{"type": "span_end", "span_id": "a", "status": "error", "error": "x",'
            b' "attributes": {"gen_ai.usage.input_tokens": 5}}\n'
        )
    update = source.update()
    assert update.added == 0 and update.changed == (0,)
    assert source.run.version > version
    assert source.run.row(0).status == "error" and source.run.row(0).input_tokens == 5
    assert source.run.step(0).error == "x"
    source.close()


def test_find_next_and_previous_error(tmp_path: Path) -> None:
    records = [
        {
            "type": "span",
            "span_id": f"s{i}",
            "kind": "tool",
            "name": "t",
            "status": "error" if i in (3, 7) else "ok",
        }
        for i in range(10)
    ]
    run = index_all(write_records(tmp_path / "t.jsonl", records))
    assert run.find(status="error") == 3
    assert run.find(status="error", start=4) == 7
    assert run.find(status="error", start=8) == -1
    assert run.find(status="error", start=6, backward=True) == 3
    assert run.find(kind="tool", start=2) == 2


def test_rows_and_steps_are_safe_while_indexing(tmp_path: Path) -> None:
    """A worker thread indexes while this thread reads every published row and some steps."""
    records = (
        {
            "type": "span",
            "span_id": f"s{i}",
            "parent_id": f"s{i - 1}" if i else None,
            "kind": "llm",
            "name": "m",
            "attributes": {"gen_ai.usage.input_tokens": i},
        }
        for i in range(20_000)
    )
    path = write_records(tmp_path / "t.jsonl", records)
    source = IndexedSource(path, NATIVE)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while not source.update().complete:
                pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    seen = 0
    while worker.is_alive() or seen < len(source.run):
        n = len(source.run)
        for i in range(seen, n):
            row = source.run.row(i)
            assert row.input_tokens == i and row.depth == min(i, row.depth) and row.index == i
        if n:
            assert source.run.step(n - 1).attributes["gen_ai.usage.input_tokens"] == n - 1
        seen = n
    worker.join()
    assert not errors and seen == 20_000
    assert source.run.row(19_999).depth == 19_999


def test_index_memory_per_step_is_small(tmp_path: Path) -> None:
    records = (
        {
            "type": "span",
            "span_id": f"span-{i:08d}",
            "parent_id": "span-00000000",
            "kind": "tool",
            "name": "t",
        }
        for i in range(50_000)
    )
    run = index_all(write_records(tmp_path / "t.jsonl", records))
    assert run.memory_bytes() / len(run) < 256  # the benchmark records the real figure


def test_id_hash_collision_is_verified_and_kept_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    records = {0: {"span_id": "a"}}
    cols = StepColumns(verify_id=lambda i, sid: records[i]["span_id"] == sid)
    cols.add_record(
        {"type": "span", "span_id": "a", "kind": "tool", "name": "a"},
        offset=0,
        line=1,
        ref_offset=0,
        ref_length=1,
    )
    real_hash = hash
    monkeypatch.setattr(  # pretend "b" hashes like "a"
        columns_module, "hash", lambda v: real_hash("a" if v == "b" else v), raising=False
    )
    assert (
        cols.add_record(
            {"type": "span", "span_id": "b", "kind": "tool", "name": "b", "parent_id": "a"},
            offset=5,
            line=2,
            ref_offset=5,
            ref_length=1,
        )
        == 1
    )
    assert cols.index_of("a") == 0 and cols.index_of("b") == 1 and cols.row(1).parent_index == 0
    assert not cols.problems
    records[1] = {"span_id": "b"}
    assert (
        cols.add_record(
            {"type": "span", "span_id": "b", "kind": "tool", "name": "b2"},
            offset=9,
            line=3,
            ref_offset=9,
            ref_length=1,
        )
        is None
    )
    assert "appears twice" in cols.problems[0].message


def test_step_cache_is_reused_and_invalidated_by_span_end(tmp_path: Path) -> None:
    path = write_records(
        tmp_path / "t.jsonl", [{"type": "span_start", "span_id": "a", "kind": "llm", "name": "m"}]
    )
    source = IndexedSource(path, NATIVE, follow=True)
    source.update()
    first = source.run.step(0)
    assert source.run.step(0) is first
    with open(path, "ab") as out:
        out.write(b'{"type": "span_end", "span_id": "a", "status": "ok"}\n')
    source.update()
    assert source.run.step(0) is not first and source.run.step(0).status == "ok"
    source.close()


def test_open_source_uses_indexed_reader_and_refuses_directories(tmp_path: Path) -> None:
    path = write_records(tmp_path / "t.jsonl", [{"type": "span", "span_id": "a", "kind": "tool"}])
    assert isinstance(open_source(path), IndexedSource)
    with pytest.raises(TraceOpenError, match="directory"):
        open_source(tmp_path)
    waiting = open_source(tmp_path / "later.jsonl", follow=True)
    assert isinstance(waiting, IndexedSource) and waiting.format_name == "unknown"
    waiting.close()


# ----------------------------------------------------------------- foreign formats
class PairMapper:
    """A toy importer with join state: a "call" line becomes a step when its "result" comes."""

    def __init__(self) -> None:
        self.pending: dict[str, dict[str, Any]] = {}

    def feed(self, record: dict[str, Any], *, offset: int, line: int) -> Iterable[dict[str, Any]]:
        if record.get("ev") == "call":
            self.pending[record["id"]] = record
            return ()
        if record.get("ev") == "result":
            call = self.pending.pop(record["id"], None)
            if call is None:
                return ({"type": "mystery"},)
            return (
                {
                    "type": "span",
                    "span_id": record["id"],
                    "kind": "tool",
                    "name": call["tool"],
                    "attributes": {"gen_ai.tool.call.result": record["out"]},
                    "source": [call, record],
                },
            )
        return ()

    def finish(self) -> Iterable[dict[str, Any]]:
        return (
            {"type": "span_start", "span_id": k, "kind": "tool", "name": v["tool"]}
            for k, v in self.pending.items()
        )


PAIRS = TraceFormat(name="pairs", title="test pairs", detect=lambda head: False, mapper=PairMapper)


def test_foreign_format_through_mapper_and_spill(tmp_path: Path) -> None:
    lines = [
        {"ev": "call", "id": "c1", "tool": "search"},
        {"ev": "call", "id": "c2", "tool": "read"},
        {"ev": "result", "id": "c1", "out": {"hits": 3}},
        b"garbage{",
        {"ev": "result", "id": "zz", "out": 1},
        {"ev": "noise"},
    ]
    path = write_records(tmp_path / "f.jsonl", lines)
    run = index_all(path, PAIRS)
    assert len(run) == 2 and run.format_name == "pairs"
    assert [run.row(i).name for i in range(2)] == ["search", "read"]
    assert run.row(1).status == "running"
    step = run.step(0)
    assert step.tool_result == {"hits": 3} and step.source[0]["tool"] == "search"
    third_line = sum(len(json.dumps(x)) + 1 for x in lines[:2])
    assert step.offset == third_line and step.line == 3
    messages = [p.message for p in run.problems]
    assert any("corrupt record" in m for m in messages)
    assert any("unknown record type" in m for m in messages)


def test_detect_format_of_file_created_later(tmp_path: Path) -> None:
    path = tmp_path / "later.jsonl"
    source = open_source(path, follow=True)
    update = source.update()
    assert update.complete and "waiting" in (update.notice or "")
    write_records(path, [{"type": "span", "span_id": "a", "kind": "tool", "name": "t"}])
    source.update()
    assert source.format_name == "native" and len(source.run) == 1
    source.close()


def test_unknown_format_appearing_later_is_a_notice(tmp_path: Path) -> None:
    path = tmp_path / "later.jsonl"
    source = open_source(path, follow=True)
    source.update()
    write_records(path, [{"hello": "world"}])
    update = source.update()
    assert update.complete and "not a known trace format" in (update.notice or "")
    source.close()


def test_head_detection_matches_registry(tmp_path: Path) -> None:
    from trace_tui.core.formats import detect_format
    from trace_tui.core.index.indexer import detect_from_bytes

    for sample in SAMPLES:
        assert detect_from_bytes(sample, sample.read_bytes()[:65536]) is detect_format(sample)
