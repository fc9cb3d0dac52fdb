"""Model calls' input messages chained in the spill (``SpillFile(chain_messages=True)``).

A call whose messages start with the previous call's is spilled as its new messages plus a
link; reading it back, every step is exactly what the whole-list spill gives, the byte search
still finds every step a per-step scan finds (a word of an early message is in many calls'
input), and the spill is much smaller.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from search_agrees import search_agrees

from bench.generate_sessions import claude_code_lines, codex_lines
from trace_tui.core.formats.base import TraceFormat
from trace_tui.core.formats.importers.claude_code import CLAUDE_CODE
from trace_tui.core.formats.importers.codex import CODEX
from trace_tui.core.index import store
from trace_tui.core.index.byte_search import ByteSearch
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.navigation.step_query import StepQuery, iter_matches

DATA = Path(__file__).parent / "data" / "foreign"


def write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


def index(path: Path, fmt: TraceFormat) -> IndexedSource:
    """The mapper's path (a format indexed from facts spills nothing: see test_light_codex)."""
    source = IndexedSource(path, fmt, use_light=False)
    while not source.update().complete:
        pass
    return source


def steps_of(source: IndexedSource) -> list[Any]:
    return [source.run.step(i) for i in range(len(source.run))]


@pytest.fixture(params=["claude-code", "codex"])
def session(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, TraceFormat]:
    if request.param == "claude-code":
        return write(tmp_path / "cc.jsonl", list(claude_code_lines(500, seed=5))), CLAUDE_CODE
    return write(tmp_path / "cx.jsonl", list(codex_lines(500, seed=5))), CODEX


def test_chained_spill_gives_the_same_steps_and_is_smaller(
    session: tuple[Path, TraceFormat], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, fmt = session
    chained = index(path, fmt)
    spill = chained.run._spill
    assert spill is not None and spill._link_to, "no call was chained"
    with monkeypatch.context() as patch:
        patch.setattr(store, "CHAIN_MIN", 10**9)  # every list written whole
        whole = index(path, fmt)
    assert whole.run._spill is not None and not whole.run._spill._link_to
    assert steps_of(chained) == steps_of(whole)
    assert spill.size * 2 < whole.run._spill.size
    names = ("gen_ai.input.messages", "gen_ai.system_instructions", "gen_ai.tool.name")
    for i in range(len(chained.run)):
        assert chained.run.light_attributes(i, names) == whole.run.light_attributes(i, names)


def test_byte_search_finds_words_of_chained_messages(session: tuple[Path, TraceFormat]) -> None:
    path, fmt = session
    source = index(path, fmt)
    run = source.run
    words: set[str] = {"refund", "zzz-not-there", "error"}
    for i in range(0, len(run), 97):  # words of early and late messages, prompts, results
        for message in run.step(i).attributes.get("gen_ai.input.messages") or []:
            text = orjson.dumps(message).decode()
            words.update(w for w in text.split(" ")[1:30:9] if w.isalpha() and len(w) > 3)
    checked = 0
    for word in sorted(words)[:25]:
        query = StepQuery.parse(shlex.quote(word))
        search = ByteSearch(run, query)
        if search.usable:
            assert search.all_matches() == list(iter_matches(run, query, range(len(run)))), word
            if checked % 4 == 0:  # from the middle of a chain: its first records are before
                search_agrees(run, query, range(3, len(run), len(run) // 3), word)
            checked += 1
    assert checked >= 10


@settings(max_examples=25, deadline=None)
@given(cut=st.integers(1, 400), torn=st.booleans())
def test_cut_sessions_read_back_the_same(tmp_path_factory: pytest.TempPathFactory, cut: int,
                                         torn: bool) -> None:  # fmt: skip
    """A session cut at any line (maybe mid-line) reads back as the whole-list spill does."""
    base = tmp_path_factory.mktemp("cut")
    for fmt, lines in ((CLAUDE_CODE, claude_code_lines(120, seed=9)),
                       (CODEX, codex_lines(120, seed=9))):  # fmt: skip
        data = b"".join(orjson.dumps(line) + b"\n" for line in lines).splitlines(keepends=True)
        head = b"".join(data[:cut]) + (data[cut][:-20] if torn and cut < len(data) else b"")
        path = base / f"{fmt.name}.jsonl"
        path.write_bytes(head)
        chained = steps_of(index(path, fmt))
        old = store.CHAIN_MIN
        store.CHAIN_MIN = 10**9
        try:
            whole = steps_of(index(path, fmt))
        finally:
            store.CHAIN_MIN = old
        assert chained == whole


def test_a_bad_link_is_logged_not_fatal() -> None:
    record = {"type": "span_start", "attributes": {"gen_ai.input.messages": [1]},
              store.CHAIN_KEY: [5, 3, 1, []]}  # fmt: skip
    out = store.unchain(dict(record), 2, lambda offset, length: None)  # links forward: bad
    assert out["attributes"]["gen_ai.input.messages"] == [1]
    assert store.CHAIN_KEY not in out


def test_a_word_of_the_first_message_is_found_from_any_later_call(tmp_path: Path) -> None:
    """Every later model call repeats the session's first user message through the chain
    (written once, in the first call's record): searching from the middle of the session, the
    next call is found, not the first one after wrapping around."""
    lines = list(codex_lines(300, seed=5))
    first = next(line for line in lines if line["type"] == "response_item"
                 and line["payload"].get("role") == "user")
    first["payload"]["content"][0]["text"] += " Wombatglyph"
    source = index(write(tmp_path / "cx.jsonl", lines), CODEX)
    try:
        run = source.run
        query = StepQuery.parse("wombatglyph")
        assert len(list(iter_matches(run, query, range(len(run))))) > 20
        search_agrees(run, query, range(5, len(run), len(run) // 6))
    finally:
        source.close()
