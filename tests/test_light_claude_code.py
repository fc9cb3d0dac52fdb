"""Claude Code sessions indexed from facts and rebuilt by replay equal the mapper's path
(issue 15).

The Claude Code mapper in facts mode indexes every line (origin ``ORIGIN_REPLAY``, nothing
spilled); a view rebuilds a step by replaying the full mapper restored from a checkpoint (the
stores copied "as of" its line). Every Claude Code sample, generated sessions with and without
``api-request`` records, and files cut, repeated and damaged anywhere (hypothesis) are indexed both
ways (``use_light=False``: the full mapper and its spill) and compared: every column, problem
and built step (steps built in an order that makes the replay restore, continue and start
over), a few attributes read without building; a byte search finds what the per-step scan
finds; a followed growing file, and a truncated one, end as the mapper's path does.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_light_codex import _same_both_ways, _write
from test_light_decoders import _columns, _index, _steps, _words

from bench.generate_sessions import write_session
from support import samples_of
from trace_tui.core.formats import detect_format
from trace_tui.core.index import replay_steps
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.index.search import ByteSearch, find_next
from trace_tui.core.navigation.step_query import StepQuery, iter_matches

SAMPLES = samples_of("claude-code", "claude-code")


@pytest.fixture(autouse=True)
def _small_replay_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checkpoints every few lines and small sessions: every test restores, continues and
    starts replays over many times."""
    monkeypatch.setattr(replay_steps, "CHECKPOINT_LINES", 3)
    monkeypatch.setattr("trace_tui.core.index.indexer.CHECKPOINT_LINES", 3)
    monkeypatch.setattr(replay_steps, "SESSION_STEPS", 4)
    monkeypatch.setattr(replay_steps, "SESSIONS", 2)
    monkeypatch.setattr(replay_steps, "CONTINUE_BYTES", 600)



def _generated(tmp_path: Path, steps: int = 300, seed: int = 7, requests: bool = True) -> Path:
    """A generated session; ``requests=False``: without its ``api-request*`` lines (inputs
    rebuilt from the ``parentUuid`` chain)."""
    path = tmp_path / f"cc-{steps}-{seed}-{requests}.jsonl"
    write_session("claude-code", path, steps, seed)
    if not requests:
        kept = [x for x in path.read_bytes().splitlines() if b'"type":"api-request' not in x]
        path.write_bytes(b"\n".join(kept) + b"\n")
    return path


def test_replay_equals_the_mapper_on_every_claude_code_sample() -> None:
    assert SAMPLES, "no Claude Code sample"
    assert sum(map(_same_both_ways, SAMPLES)) > 50


@pytest.mark.parametrize("requests", [True, False])
def test_replay_equals_the_mapper_on_a_generated_session(tmp_path: Path, requests: bool) -> None:
    path = _generated(tmp_path, 400, requests=requests)
    assert _same_both_ways(path) > 400  # compactions included
    source = _index(path, detect_format(path), True)
    try:  # checkpoints are taken between calls (restored, not replayed from the start)
        replay = source.run._replay
        assert replay is not None and len(replay.resets) >= 1
        assert sum(1 for state in replay.states if state) > len(source.run) // 10
    finally:
        source.close()


def _cc(kind: str, n: int, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "sessionId": "s-odd", "uuid": f"u{n}",
            "timestamp": f"2026-11-22T22:{n // 60 % 60:02d}:{n % 60:02d}.000Z", **fields}


def _odd_session() -> list[dict[str, Any]]:
    """Lines the mapper joins across lines, in odd orders: a message split over lines and
    reopened late, a rewind, a sub-agent, a compaction, errors, unknown lines."""
    out: list[dict[str, Any]] = []
    n = 0

    def add(kind: str, parent: str | None, **fields: Any) -> str:
        nonlocal n
        n += 1
        out.append(_cc(kind, n, parentUuid=parent, **fields))
        return f"u{n}"

    def said(mid: str, content: list[Any], stop: str | None = None, **more: Any) -> dict:
        return {"message": {"id": mid, "role": "assistant", "model": "claude-x", "content": content,
                            "stop_reason": stop, "usage": {"input_tokens": 7, "output_tokens": 3}},
                **more}  # fmt: skip

    last = add("user", None, message={"role": "user", "content": "first Qz-prompt é"})
    last = add("assistant", last, **said("m1", [{"type": "text", "text": "thinking Zr-out"}]))
    last = add("assistant", last, **said("m1", [{"type": "tool_use", "id": "t1", "name": "Bash",
                                                 "input": {"command": "ls Wq-arg"}}], "tool_use"))
    last = add("user", last, message={"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t1", "content": "boom Xv-err", "is_error": True}]})
    last = add("assistant", last, **said("m2", [{"type": "tool_use", "id": "a1", "name": "Task",
                                                 "input": {"prompt": "go"}}], "tool_use"))
    side = add("user", None, isSidechain=True, agentId="ag1",
               message={"role": "user", "content": "sub Kp-prompt"})
    side = add("assistant", side, isSidechain=True, agentId="ag1",
               **said("s1", [{"type": "text", "text": "sub answer"}], "end_turn"))
    add("progress", last, data={"x": 1})
    last = add("user", last, toolUseResult={"agentId": "ag1"}, agentId="ag1", message={
        "role": "user", "content": [{"type": "tool_result", "tool_use_id": "a1", "content": "ok"}]})
    last = add("assistant", last, **said("m3", [{"type": "text", "text": "done"}], "end_turn"))
    rewind = add("user", "u1", message={"role": "user", "content": "again from the start"})
    last = add("assistant", rewind, **said("m4", [{"type": "tool_use", "id": "t2",
                                                   "name": "Read", "input": {}}]))
    add("assistant", "u2", **said("m1", [{"type": "text", "text": "late block of m1"}]))
    add("system", last, subtype="compact_boundary", compactMetadata={"trigger": "auto"})
    last = add("user", None, isCompactSummary=True, message={"role": "user", "content": "sum Yq"})
    last = add("user", last, message={"role": "user", "content": "after compaction"})
    last = add("assistant", last, **said("m5", [{"type": "text", "text": "fresh"}], "end_turn"))
    add("user", last, message={"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "nobody", "content": "orphan"}]})
    add("world-state", last, x=1)
    add("assistant", last, message={"role": "assistant", "content": "no id at all"})
    add("assistant", last, message={"role": "assistant", "content": "no id again"})
    last = add("user", last, message={"role": "user", "content": "last prompt"})
    add("assistant", last, **said("m6", [{"type": "tool_use", "id": "t3", "name": "Task",
                                          "input": {}}]))  # open at the end
    for item in out[-2:]:
        item.pop("uuid", None) if item["type"] == "progress" else None
    return out


def test_replay_equals_the_mapper_on_odd_joins(tmp_path: Path) -> None:
    path = _write(tmp_path / "odd.jsonl", _odd_session())
    assert _same_both_ways(path) > 15


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    pick=st.integers(0, 1000),
    cut=st.floats(0.0, 1.0),
    repeat=st.lists(st.integers(0, 1000), max_size=3),
    junk=st.lists(st.tuples(st.integers(0, 1000), st.sampled_from(
        [b"", b"{", b"[1]", b'{"x": 1}', b'{"type": "assistant", "message": 3}',
         b'{"type": "system", "subtype": "compact_boundary"}',
         b'{"type": "api-request", "id": "r", "tail": 5}',
         b'{"type": "api-request", "id": "r", "tail": [[1]]}',
         b'{"type": "user", "message": {"content": [{"type": "tool_result"}]}}']
    )), max_size=3),
    seed=st.integers(0, 100),
)
def test_replay_equals_the_mapper_on_damaged_files(
    tmp_path: Path, pick: int, cut: float, repeat: list[int], junk: list[tuple[int, bytes]],
    seed: int,
) -> None:
    sources = [*SAMPLES, _write(tmp_path / "odd.jsonl", _odd_session()),
               _generated(tmp_path, 60, seed), _generated(tmp_path, 60, seed, False)]  # fmt: skip
    lines = sources[pick % len(sources)].read_bytes().splitlines()
    for at in repeat:  # a line written twice
        lines.insert(at % (len(lines) + 1), lines[at % len(lines)])
    for at, text in junk:
        lines.insert(at % (len(lines) + 1), text)
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / "cut.jsonl"
    path.write_bytes(data[: max(1, int(len(data) * cut))])
    try:
        if detect_format(path).name != "claude-code":
            return
    except Exception:
        return  # cut before the first record: not this format any more
    _same_both_ways(path, seed)


def test_byte_search_over_replayed_steps_equals_the_per_step_scan(tmp_path: Path) -> None:
    checked = 0
    for path in [*SAMPLES, _write(tmp_path / "odd.jsonl", _odd_session()),
                 _generated(tmp_path, 120), _generated(tmp_path, 120, requests=False)]:  # fmt: skip
        source = _index(path, detect_format(path), True)
        try:
            run = source.run
            count = len(run)
            words = sorted(_words(source))[:40]
            # words only the importer writes, digits it adds up, carried context
            words += ["chat", "execute_tool", "anthropic", "claude-code", "rewind", "1003",
                      "qz-prompt", "zr-out", "wq-arg", "xv-err", "kp-prompt", "ag1", "a1",
                      "nowhere-at-all", "truncated", "subagent", "end_turn", "sum yq"]
            for word in words:
                query = StepQuery.parse(shlex.quote(word))
                search = ByteSearch(run, query)
                if not search.usable:
                    continue
                expected = list(iter_matches(run, query, range(count)))
                assert search.all_matches() == expected, (path.name, word)
                for start, direction in ((0, 1), (count // 2, 1), (count - 1, -1)):
                    order = [(start + direction * k) % count for k in range(1, count + 1)]
                    want = next(iter_matches(run, query, order), None)
                    got = find_next(run, query, order, start, direction, count)
                    assert got == want, (path.name, word, start, direction)
                checked += 1
        finally:
            source.close()
    assert checked > 100


def test_a_growing_session_followed_line_by_line_indexes_as_the_mapper_does(
    tmp_path: Path,
) -> None:
    """Lines arrive in pieces; steps are built while the file grows (a replay must stop at
    what is indexed) and again at the end."""
    whole = _write(tmp_path / "whole.jsonl", _odd_session())
    data = whole.read_bytes()
    path = tmp_path / "live.jsonl"
    path.write_bytes(b"")
    live = IndexedSource(path, detect_format(whole), follow=True)
    try:
        cuts = sorted({0, len(data), *range(17, len(data), len(data) // 19)})
        for a, b in zip(cuts, cuts[1:], strict=False):
            with open(path, "ab") as out:
                out.write(data[a:b])
            live.update()
            for index in range(len(live.run)):  # running steps: built from what is there
                live.run.step(index)
        while not live.update().complete:
            pass
        live.run._loader.clear()
        full = IndexedSource(whole, detect_format(whole), follow=True, use_light=False)
        try:  # followed: the mapper is never told the file ended (the last steps run on)
            while not full.update().complete:
                pass
            assert _columns(live) == _columns(full)
            assert _steps(live) == _steps(full)
        finally:
            full.close()
    finally:
        live.close()


def test_replay_equals_the_mapper_with_a_huge_tool_result(tmp_path: Path) -> None:
    """A tool result of 9 MB (a huge line: its string held in the spill, a cut stand-in in
    the mapper's hands, an error): the replay decodes the line as the indexer did and the
    built steps get the whole string back, as the mapper's spilled records do."""
    lines: list[Any] = _odd_session()
    result = "x" * (9 * 1024 * 1024) + "\nboom at the end\n"
    lines[3]["message"]["content"][0]["content"] = result
    path = _write(tmp_path / "huge.jsonl", lines)
    assert _same_both_ways(path) > 15
    source = _index(path, detect_format(path), True)
    try:
        assert source._huge_at  # the line really was read as a huge line
        results = [source.run.step(i).attributes.get("gen_ai.tool.call.result")
                   for i in range(len(source.run))]
        assert any(result in str(r) for r in results)
    finally:
        source.close()


def test_a_truncated_session_starts_over_and_replays_the_new_file(tmp_path: Path) -> None:
    lines = _odd_session()
    path = _write(tmp_path / "t.jsonl", lines)
    live = IndexedSource(path, detect_format(path), follow=True)
    try:
        while not live.update().complete:
            pass
        live.run.step(len(live.run) - 1)
        _write(path, lines[:9])  # truncated and rewritten shorter
        update = live.update()
        while not live.update().complete:
            pass
        assert update.reset
        full = IndexedSource(path, detect_format(path), follow=True, use_light=False)
        try:
            while not full.update().complete:
                pass
            assert _columns(live) == _columns(full)
            assert _steps(live) == _steps(full)
        finally:
            full.close()
    finally:
        live.close()
