"""Huge strings of a foreign trace are written to the spill once and read back whole.

A huge line of a Claude Code session (a 200 MB pasted file) is not decoded while indexing: each
string literal over the limit is copied to the spill as it is and stands in the importer's
records as a cut copy with its place; the step read back holds the whole string again. These
tests scale the limits down and check that a step shows exactly what it showed when the whole
line was decoded (the old path), for every step, its ``source`` and an export.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from search_agrees import search_agrees

import trace_tui.core.index.blobs as blobs
import trace_tui.core.index.indexer as indexer
import trace_tui.core.index.search_blocks as search_blocks
from trace_tui.core.export.convert import step_record
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.index.search import find_matches
from trace_tui.core.index.store import SpillFile, read_spilled
from trace_tui.core.navigation.step_query import StepQuery, iter_matches

FOREIGN = Path(__file__).parent / "data" / "foreign"
SAMPLE = FOREIGN / "claude-code" / "claude-code-2.1.328_orders.jsonl"


@pytest.fixture(autouse=True)
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slices of 4 KiB and blobs decoded 1,000 bytes at a time: many cuts."""
    monkeypatch.setattr(indexer, "FIRST_SLICE_BYTES", 4096)
    monkeypatch.setattr(indexer, "SLICE_BYTES", 4096)
    monkeypatch.setattr(blobs, "DECODE_BYTES", 1000)


def _index(path: Path) -> IndexedSource:
    source = IndexedSource(path)
    while not source.update().complete:
        pass
    return source


def _steps(path: Path) -> list[dict[str, Any]]:
    source = _index(path)
    try:
        assert not source.run.problems, source.run.problems
        return [step_record(source.run.step(i)) for i in range(len(source.run))]
    finally:
        source.close()


def _session(tmp_path: Path, pasted: str, *, ascii_only: bool, requests: bool,
             image: bool = False) -> Path:
    """The real sample with its first plain user message replaced by ``pasted``; without
    ``requests`` the ``api-request*`` and attachment lines are dropped (conversations rebuilt
    from the chain, so every later call's input holds the pasted text too)."""
    out = []
    replaced = False
    last = None
    for raw in SAMPLE.read_bytes().splitlines():
        record = json.loads(raw)
        if not requests and (str(record.get("type", "")).startswith("api-request")
                             or record.get("type") == "attachment"):
            continue
        if not requests and record.get("type") in ("user", "assistant"):
            record["parentUuid"], last = last, record.get("uuid")  # one chain of messages
        message = record.get("message") or {}
        if not replaced and record.get("type") == "user" and isinstance(
            message.get("content"), str
        ):
            message["content"] = pasted if not image else [
                {"type": "text", "text": "what is in this picture?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                             "data": pasted}}]
            record["toolUseResult"] = {"stdout": pasted[::-1], "nested": [[pasted[:5000]]]}
            replaced = True
        out.append(json.dumps(record, ensure_ascii=ascii_only).encode())
    path = tmp_path / f"session-{ascii_only}-{requests}-{image}.jsonl"
    path.write_bytes(b"\n".join(out) + b"\n")
    return path


def _holds(value: Any, text: str) -> bool:
    if isinstance(value, dict):
        return any(_holds(v, text) for v in value.values())
    if isinstance(value, list):
        return any(_holds(v, text) for v in value)
    return value == text


PASTED = ("PASTED a file: \"quoted\" \\ back\\slash\ttab é ü 中文 😀 \u2028 \x01 "
          + "a line of the pasted file with 😀 and \\u0041 text\n" * 3000)


@pytest.mark.parametrize("image", [False, True])
@pytest.mark.parametrize("ascii_only", [False, True])
@pytest.mark.parametrize("requests", [False, True])
def test_steps_are_the_same_as_when_the_line_was_decoded_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ascii_only: bool, requests: bool,
    image: bool,
) -> None:
    """Pasted text, or an image (base64) next to a short question. The one difference: the
    importer writes a prompt of several parts as text, the image's JSON included; that copy
    holds the cut image and says so (the step's ``source`` and messages hold it whole)."""
    path = _session(tmp_path, PASTED, ascii_only=ascii_only, requests=requests, image=image)
    before = _steps(path)  # strings under the limit: the whole line is decoded, as before
    monkeypatch.setattr(blobs, "INTERN_BYTES", 20_000)
    after = _steps(path)
    if image:
        for old, new in zip(before, after, strict=True):
            was = old["attributes"].pop("claude_code.prompt", None)
            cut = new["attributes"].pop("claude_code.prompt", None)
            if was != cut:
                assert cut[:1000] == was[:1000] and blobs.CUT_NOTE_JSON.decode() in cut
                assert len(cut) < 20_000 < len(was)
                old["name"] = new["name"]  # named from the same first words
    assert after == before
    if not (image and requests):  # (recorded requests do not repeat the image)
        assert any(_holds(s["attributes"], PASTED) for s in after)
    assert any(_holds(s.get("source"), PASTED) for s in after)  # export keeps the raw record


def test_the_importer_never_holds_the_huge_string(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step's name comes from the cut copy; the pasted text is in the spill once."""
    monkeypatch.setattr(blobs, "INTERN_BYTES", 20_000)
    path = _session(tmp_path, PASTED, ascii_only=False, requests=False)
    source = _index(path)
    try:
        spill = source.run._spill
        assert spill is not None
        names = [source.run.row(i).name for i in range(len(source.run))]
        assert any(name.startswith("PASTED a file") for name in names)
        data = Path(f"/proc/self/fd/{spill.fd}").read_bytes()
        line = json.dumps(PASTED, ensure_ascii=False).encode()
        assert data.count(line) == 1  # once, however many records hold it
    finally:
        source.close()


def test_light_attributes_read_the_whole_string(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blobs, "INTERN_BYTES", 20_000)
    path = _session(tmp_path, PASTED, ascii_only=False, requests=True)
    source = _index(path)
    try:
        run = source.run
        index = next(i for i in range(len(run)) if run.row(i).kind == "agent")
        light = run.light_attributes(index, ("claude_code.prompt",))
        assert light == {"claude_code.prompt": PASTED}
    finally:
        source.close()


def test_strings_that_look_like_references_stay_themselves() -> None:
    spill = SpillFile()
    try:
        fake = f"{blobs.REF_PREFIX}0:10\x00"
        record = {"type": "span", "attributes": {"a": fake, "b": [fake + "x"], "c": "plain"}}
        at, length = spill.append(1, 2, record)
        spill.flush()
        assert read_spilled(spill.fd, at, length) == (1, 2, record)
    finally:
        spill.close()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab"\\\n\x01é中😀\U0001f600 u0dDcCfF')),
               max_size=400),
       st.booleans(), st.integers(2, 40))
def test_a_literal_decoded_in_slices_is_the_string(text: str, ascii_only: bool,
                                                   size: int) -> None:
    """However small the slices, no character, escape or surrogate pair is split."""
    literal = json.dumps(text, ensure_ascii=ascii_only).encode()
    saved = blobs.DECODE_BYTES
    blobs.DECODE_BYTES = size
    try:
        pieces = list(blobs.literal_slices(memoryview(literal)[1:-1]))
        assert "".join(blobs.decode_slice(p) for p in pieces) == text
    finally:
        blobs.DECODE_BYTES = saved


def test_a_blob_is_read_back_in_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blobs, "INTERN_BYTES", 1000)
    spill = SpillFile()
    try:
        line = json.dumps({"type": "span", "big": PASTED, "list": [PASTED, 1]}).encode()
        value = spill.decode_huge(memoryview(line))
        assert isinstance(value["big"], blobs.SpilledText)
        assert value["big"].startswith("PASTED a file")
        at, length = spill.append(0, 1, value, large=True)
        spill.flush()
        reader = blobs.BlobReader(spill.fd)
        _, _, record = read_spilled(spill.fd, at, length, reader)
        assert record == {"type": "span", "big": PASTED, "list": [PASTED, 1]}
        assert record["big"] is record["list"][0]  # the same text: one blob, read once
        assert reader.bytes_read == len(json.dumps(PASTED).encode())
    finally:
        spill.close()


def test_a_bad_huge_line_is_still_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    """Invalid UTF-8 inside a huge string literal: the line is a problem, as before."""
    monkeypatch.setattr(blobs, "INTERN_BYTES", 1000)
    lines = SAMPLE.read_bytes().splitlines()
    bad = b'{"type":"user","message":{"role":"user","content":"' + b"ab\xff" * 5000 + b'"}}'
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"\n".join([*lines[:5], bad, *lines[5:]]) + b"\n")
    source = _index(path)
    try:
        assert any("corrupt line" in p.message for p in source.run.problems)
    finally:
        source.close()


@pytest.mark.parametrize("small_blocks", [False, True])
@pytest.mark.parametrize("text", ["text:pasted", "中文", "text:u0041", "repeated"])
def test_search_finds_every_step_holding_the_huge_string(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, small_blocks: bool
) -> None:
    """A hit in a huge string held apart is a hit in every step whose records refer to it:
    the byte search finds exactly what the per-step scan finds (with small blocks, the blob
    is scanned in many pieces, words cut by a piece's start found in the overlap)."""
    monkeypatch.setattr(blobs, "INTERN_BYTES", 20_000)
    if small_blocks:
        monkeypatch.setattr(search_blocks, "FIRST_BLOCK_BYTES", 2048)
        monkeypatch.setattr(search_blocks, "BLOCK_BYTES", 4096)
        monkeypatch.setattr(search_blocks, "BLOB_OVERLAP", 16)
    path = _session(tmp_path, PASTED, ascii_only=False, requests=False)
    source = _index(path)
    try:
        run, query = source.run, StepQuery.parse(text)
        fast = sorted(i for batch in find_matches(run, query, 0, len(run)) for i in batch)
        slow = list(iter_matches(run, query, range(len(run))))
        assert fast == slow
        assert len(slow) >= (2 if text != "repeated" else 0)
        search_agrees(run, query, range(len(run)))  # users after the huge string, too
    finally:
        source.close()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("aAΣσςİKk\u212a é\n")), max_size=12),
                max_size=5),
       st.text(alphabet=st.sampled_from(list("aAΣσςİKk\u212a é")), min_size=1, max_size=4))
def test_a_huge_payload_is_searched_a_piece_at_a_time_with_the_same_answers(
    texts: list[str], word: str
) -> None:
    """Over :data:`HUGE_PAYLOAD` the step's text is folded a piece at a time, never joined:
    the same steps match as with the joined text."""
    from trace_tui.core.model.run import Step
    from trace_tui.core.navigation import step_query

    step = Step(index=0, span_id="a", parent_id=None, kind="tool", name="n",
                attributes={f"k{n}": text for n, text in enumerate(texts)})
    query = StepQuery.parse(f"text:{word.strip() or 'a'} {word.strip() or 'b'}")
    saved = step_query.HUGE_PAYLOAD
    try:
        step_query.HUGE_PAYLOAD = 10**12
        joined = query.matches_step(step)
        step_query.HUGE_PAYLOAD = 0
        assert query.matches_step(step) == joined
    finally:
        step_query.HUGE_PAYLOAD = saved


def test_a_step_holding_a_huge_string_is_cached_by_its_whole_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step cache counts the huge strings read back, and lets a step over its budget go
    before the next step is read (the cache never holds one while another is built)."""
    import trace_tui.core.index.store as store

    monkeypatch.setattr(blobs, "INTERN_BYTES", 20_000)
    monkeypatch.setattr(store, "CACHE_BYTES", 100_000)
    seen: list[int] = []
    build = store.StepLoader._build

    def watched(self: store.StepLoader, *args: Any) -> Any:
        seen.append(max((size for _, size in self._cache.values()), default=0))
        return build(self, *args)

    monkeypatch.setattr(store.StepLoader, "_build", watched)
    path = _session(tmp_path, PASTED, ascii_only=False, requests=False)
    source = _index(path)
    try:
        run, loader = source.run, source.run._loader
        holding = [i for i in range(len(run)) if _holds(run.step(i).attributes, PASTED)]
        assert len(holding) >= 2
        seen.clear()
        for index in holding:
            run.step(index)
            assert loader._cache[next(reversed(loader._cache))][1] > len(PASTED)
        assert len(seen) == len(holding) and max(seen) <= store.CACHE_BYTES
    finally:
        source.close()


def test_a_huge_native_line_is_indexed_without_decoding_its_strings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Native: the index takes a huge line's light fields from cut stand-ins (its step is read
    again from the trace when shown); rows and steps are those of decoding the line whole."""
    error = "E" * 30_000
    records = [
        {"type": "run", "run_id": "r"},
        {"type": "span", "span_id": "a", "parent_id": None, "kind": "agent", "name": "root",
         "start_time": 1.0, "end_time": 9.0, "status": "ok", "attributes": {}},
        {"type": "span", "span_id": "b", "parent_id": "a", "kind": "tool", "name": "read",
         "start_time": 2.0, "end_time": 3.0, "status": "error", "error": error,
         "attributes": {"gen_ai.tool.name": "read", "gen_ai.tool.call.result": PASTED,
                        "nested": [{"x": PASTED[::-1]}]}},
        {"type": "span", "span_id": "c", "parent_id": "a", "kind": "tool", "name": "after",
         "start_time": 4.0, "end_time": 5.0, "status": "ok", "attributes": {}},
    ]
    path = tmp_path / "native.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")

    def read() -> tuple[list[Any], list[dict[str, Any]]]:
        source = _index(path)
        try:
            run = source.run
            assert source.format_name == "native" and not run.problems
            return ([run.row(i) for i in range(len(run))],
                    [step_record(run.step(i)) for i in range(len(run))])
        finally:
            source.close()

    import trace_tui.core.index.store as store

    rows, steps = read()
    monkeypatch.setattr(blobs, "INTERN_BYTES", 20_000)
    heads: list[str] = []

    def head(literal: memoryview) -> str:
        heads.append(blobs.literal_head(literal))
        return heads[-1]

    monkeypatch.setattr(store, "literal_head", head)
    # read back as a big record: huge strings decoded in slices, joined once the bytes are gone
    monkeypatch.setattr(store, "BIG_STRING_BYTES", 50_000)
    joined: list[int] = []

    def pieces(literal: memoryview) -> blobs.Pieces:
        joined.append(len(literal))
        return blobs.decoded_pieces(literal)

    monkeypatch.setattr(store, "_decoded_pieces", pieces)
    cut_rows, cut_steps = read()
    assert len(heads) == 2  # the result and the nested copy: cut (the error is the index's)
    assert len(joined) >= 3  # read back: the error, the result and the nested copy
    assert cut_rows == rows and cut_steps == steps
    assert steps[1]["attributes"]["gen_ai.tool.call.result"] == PASTED
