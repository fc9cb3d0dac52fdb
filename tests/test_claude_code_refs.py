"""The Claude Code importer keeps old lines by reference and maps every line as before.

Given a reader (``use_reader``: the indexer's), the importer keeps old lines as refs and reads
them again when a later line needs them (a call's input rebuilt from the chain or from
``api-request`` records, a message reopened by a late block). These tests shrink every
"recent" limit to one, so almost every such need reads the trace again, and compare with the
importer keeping every line parsed (no reader): the same records, line by line, on every real
sample, generated sessions (with and without recorded requests), files cut and repeated
anywhere (hypothesis), and through the index (every built step, huge lines included).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trace_tui.core.formats.importers.claude_code_calls as calls
import trace_tui.core.formats.importers.claude_code_context as context
import trace_tui.core.formats.importers.claude_code_refs as refs
import trace_tui.core.formats.importers.claude_code_requests as requests
import trace_tui.core.index.blobs as blobs
import trace_tui.core.index.indexer as indexer
from bench.generate_sessions import claude_code_lines
from support import FOREIGN_FILES, SHARED_SAMPLES
from trace_tui.core.export.convert import step_record
from trace_tui.core.formats.importers.claude_code import ClaudeCodeMapper
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.io.jsonl import decode_bytes

SAMPLES = sorted(
    {p.name: p for p in [
        *(p for p in FOREIGN_FILES if p.parent.name == "claude-code"),
        *(sorted((SHARED_SAMPLES / "claude-code").glob("*.jsonl")) if SHARED_SAMPLES else []),
    ]}.values()
)  # fmt: skip


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every "recent" limit at one: old lines are read again nearly every time."""
    monkeypatch.setattr(refs, "RECENT_LINES", 1)
    monkeypatch.setattr(calls, "RECENT_CALLS", 1)
    monkeypatch.setattr(requests, "RESOLVED", 1)
    monkeypatch.setattr(requests, "CONVERTED", 1)
    monkeypatch.setattr(context, "_CACHED", 1)


def _reader(data: bytes) -> refs.LineReader:
    def read(offset: int) -> dict[str, Any] | None:
        end = data.find(b"\n", offset)
        value = decode_bytes(data[offset : end if end >= 0 else len(data)], offset, 0)
        return value if isinstance(value, dict) else None

    return read


def _mapped(data: bytes, by_reference: bool) -> tuple[list[Any], int]:
    """Every record the mapper makes of ``data``, line by line (a failure as its name), and
    how many lines it read again."""
    mapper = ClaudeCodeMapper()
    if by_reference:
        mapper.use_reader(_reader(data))
    out: list[Any] = []
    offset = 0
    for k, raw in enumerate(data.split(b"\n")):
        value = decode_bytes(raw, offset, k + 1)
        if isinstance(value, dict):
            try:
                out.append([orjson.loads(orjson.dumps(r, default=str))
                            for r in mapper.feed(value, offset=offset, line=k + 1)])  # fmt: skip
            except Exception as exc:  # the indexer reports it as a problem: the same one
                out.append(f"failed: {type(exc).__name__}")
        offset += len(raw) + 1
    out.append([orjson.loads(orjson.dumps(r, default=str)) for r in mapper.finish()])
    return out, mapper._lines.reads


def _same_both_ways(data: bytes) -> int:
    whole, _ = _mapped(data, by_reference=False)
    by_ref, reads = _mapped(data, by_reference=True)
    assert by_ref == whole
    return reads


def _lines(records: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def _without_requests(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A 2.1 session as older versions wrote it: no ``api-request*`` lines (every call's
    input is rebuilt from the ``parentUuid`` chain)."""
    return [r for r in records if not str(r.get("type", "")).startswith("api-request")]


@pytest.mark.usefixtures("tiny")
def test_every_sample_maps_the_same_by_reference() -> None:
    assert len(SAMPLES) >= 5
    reads = sum(_same_both_ways(path.read_bytes()) for path in SAMPLES)
    assert reads > 20  # the limits at one really made the importer read lines again


@pytest.mark.usefixtures("tiny")
def test_generated_sessions_map_the_same_by_reference() -> None:
    session = list(claude_code_lines(400, seed=5))
    assert _same_both_ways(_lines(session)) > 100
    assert _same_both_ways(_lines(_without_requests(session))) > 100


@pytest.mark.usefixtures("tiny")
def test_a_late_block_reopens_an_old_message_as_it_was() -> None:
    """A line of a message that ended long ago (its state let go) reopens it with every
    block, its usage and stop reason read again."""
    session = list(claude_code_lines(60, seed=2))
    late = [k for k, r in enumerate(session) if r.get("type") == "assistant"][:3]
    again = [dict(session[k], uuid=f"late-{k}") for k in late]
    _same_both_ways(_lines(session[:40] + again + session[40:] + again))


@given(
    pick=st.integers(0, 1000),
    start=st.floats(0.0, 1.0),
    stop=st.floats(0.0, 1.0),
    repeat=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)), max_size=4),
    old_style=st.booleans(),
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_cut_and_repeated_files_map_the_same_by_reference(
    pick: int, start: float, stop: float, repeat: list[tuple[int, int]], old_style: bool
) -> None:
    """Any slice of a sample (lines cut mid-way are corrupt), with lines repeated later
    (uuids, message ids, blob hashes and request ids seen twice)."""
    with pytest.MonkeyPatch.context() as patch:
        for module, name in ((refs, "RECENT_LINES"), (calls, "RECENT_CALLS"),
                             (requests, "RESOLVED"), (requests, "CONVERTED"),
                             (context, "_CACHED")):  # fmt: skip
            patch.setattr(module, name, 1)
        sources = [p.read_bytes() for p in SAMPLES]
        sources.append(_lines(list(claude_code_lines(40, seed=pick))))
        data = sources[pick % len(sources)]
        if old_style:
            data = _lines(_without_requests([json.loads(x) for x in data.splitlines()
                                             if x.strip().startswith(b"{")
                                             and isinstance(json.loads(x), dict)]))  # fmt: skip
        a, b = sorted((int(start * len(data)), int(stop * len(data))))
        lines = data[a:b].split(b"\n")
        for src, dst in repeat:
            if lines:
                lines.insert(dst % (len(lines) + 1), lines[src % len(lines)])
        _same_both_ways(b"\n".join(lines))


def test_requests_rebuild_old_bases_and_growing_responses() -> None:
    """Requests based on requests long let go, a response that grows after a later request
    used it, blob hashes and request ids written twice."""
    records: list[dict[str, Any]] = []
    for n in range(30):
        records.append({"type": "api-request-blob", "hash": f"h{n % 25}",
                        "message": {"role": "user", "content": f"m{n}"}})  # fmt: skip
        base = {"base": f"r{n - 1}", "keep": n} if n else {}
        records.append({"type": "api-request", "id": f"r{n % 27}", "tail": [f"h{n % 25}"],
                        **base})  # fmt: skip
        for part in range(2):
            records.append({"type": "assistant", "uuid": f"a{n}-{part}", "requestRef":
                            f"r{n % 27}", "message": {"id": f"msg{n}", "role": "assistant",
                            "content": [{"type": "text", "text": f"answer {n}.{part}"}]}})
    records.append({"type": "api-request", "id": "late", "base": "r3", "keep": 2,
                    "tail": ["h4", "nope"]})  # fmt: skip
    records.append({"type": "assistant", "uuid": "late-a", "requestRef": "late",
                    "message": {"id": "msg-late", "content": "x"}})  # fmt: skip
    records.append({"type": "assistant", "uuid": "grow", "requestRef": "r5",
                    "message": {"id": "msg5", "content": [{"type": "text", "text": "more"}]}})
    records.append({"type": "assistant", "uuid": "after", "requestRef": "r6",
                    "message": {"id": "msg-x", "content": "y"}})  # fmt: skip
    data = _lines(records)
    with pytest.MonkeyPatch.context() as patch:
        for module, name in ((refs, "RECENT_LINES"), (calls, "RECENT_CALLS"),
                             (requests, "RESOLVED"), (requests, "CONVERTED")):  # fmt: skip
            patch.setattr(module, name, 1)
        assert _same_both_ways(data) > 10
    whole, _ = _mapped(data, by_reference=False)
    late = next(r for rs in whole if isinstance(rs, list) for r in rs
                if r.get("type") == "span_start" and (r.get("source") or {}).get("uuid")
                == "late-a")  # fmt: skip
    texts = [str(m.get("content")) for m in late["attributes"]["gen_ai.input.messages"]]
    # r3's first two (as written then), h4 as written last, r3's response for the unknown hash
    assert texts[:3] == ["m0", "m1", "m29"] and "answer 3.0" in texts[3], texts


def _index(path: Path) -> IndexedSource:
    """The mapper's path (``use_light=False``; the light path replays this same mapper,
    restored from checkpoints: ``test_light_claude_code``)."""
    source = IndexedSource(path, use_light=False)
    while not source.update().complete:
        pass
    return source


def _built(path: Path) -> tuple[list[dict[str, Any]], list[str], int]:
    source = _index(path)
    try:
        lines = getattr(source._mapper, "_lines", None)
        reads = lines.reads if lines is not None else -1
        steps = [step_record(source.run.step(i)) for i in range(len(source.run))]
        return steps, [str(p) for p in source.run.problems], reads
    finally:
        source.close()


def _built_both_ways(path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """Steps built by the index with lines kept by reference (limits at one) and with every
    line kept parsed (the mapper given no reader)."""
    with monkeypatch.context() as patch:
        patch.setattr(ClaudeCodeMapper, "use_reader", lambda self, read: None)
        whole = _built(path)
    with monkeypatch.context() as patch:
        for module, name in ((refs, "RECENT_LINES"), (calls, "RECENT_CALLS"),
                             (requests, "RESOLVED"), (requests, "CONVERTED"),
                             (context, "_CACHED")):  # fmt: skip
            patch.setattr(module, name, 1)
        by_ref = _built(path)
    assert by_ref[:2] == whole[:2]
    assert whole[2] == 0
    return by_ref[2]


def test_the_index_builds_the_same_steps_by_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for path in SAMPLES:
        _built_both_ways(path, monkeypatch)
    session = list(claude_code_lines(300, seed=11))
    for name, records in (("new", session), ("old", _without_requests(session))):
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(_lines(records))
        assert _built_both_ways(path, monkeypatch) > 50


PASTED = "PASTED é 中文 😀 \\ \" " + "a line of a pasted file\n" * 3000


@pytest.mark.parametrize("old_style", [False, True])
def test_huge_lines_read_again_hold_the_same_stand_ins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old_style: bool
) -> None:
    """A huge line (its long strings spilled, cut copies in the importer's records) read
    again by the importer gives the very same stand-ins: every later call whose input holds
    the pasted message builds the same step."""
    monkeypatch.setattr(indexer, "FIRST_SLICE_BYTES", 4096)
    monkeypatch.setattr(indexer, "SLICE_BYTES", 4096)
    monkeypatch.setattr(blobs, "INTERN_BYTES", 20_000)
    session = list(claude_code_lines(40, seed=4))
    if old_style:
        session = _without_requests(session)
    prompt = next(k for k, r in enumerate(session)
                  if r.get("type") == "user" and isinstance(r["message"].get("content"), str))
    session[prompt]["message"]["content"] = PASTED
    blob = next((r for r in session if r.get("type") == "api-request-blob"), None)
    if blob is not None:  # and a late request based on the first: its blob is read again
        blob["message"]["content"] = PASTED
        first = next(r for r in session if r.get("type") == "api-request")
        session.append({"type": "api-request", "id": "late", "base": first["id"], "keep": 1,
                        "tail": []})  # fmt: skip
        session.append({"type": "assistant", "uuid": "late-a", "requestRef": "late",
                        "message": {"id": "msg-late", "content": "late answer"}})  # fmt: skip
    if blob is None:  # a late call continuing from the pasted prompt: the chain read again
        session.append({"type": "assistant", "uuid": "late-a", "parentUuid":
                        session[prompt]["uuid"], "message": {"id": "msg-late", "content":
                        "late answer"}})  # fmt: skip
    path = tmp_path / "huge.jsonl"
    path.write_bytes(_lines(session))
    huge_reads = []
    read_source = IndexedSource._read_source

    def watched(self: IndexedSource, offset: int) -> dict[str, Any] | None:
        huge_reads.append(offset in self._huge_at)
        return read_source(self, offset)

    monkeypatch.setattr(IndexedSource, "_read_source", watched)
    assert _built_both_ways(path, monkeypatch) > 5
    assert any(huge_reads)
    steps, _, _ = _built(path)
    assert any(_holds(s["attributes"], PASTED) for s in steps)


def _holds(value: Any, text: str) -> bool:
    if isinstance(value, dict):
        return any(_holds(v, text) for v in value.values())
    if isinstance(value, list):
        return any(_holds(v, text) for v in value)
    return isinstance(value, str) and text in value
