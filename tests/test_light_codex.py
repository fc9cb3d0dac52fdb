"""Codex rollouts indexed from facts and rebuilt by replay equal the mapper's path (issue 15).

The Codex mapper in facts mode indexes every line (origin ``ORIGIN_REPLAY``, nothing spilled);
a view rebuilds a step by replaying the full mapper from a checkpoint. Every Codex sample, a
generated session, and files cut, repeated and damaged anywhere (hypothesis) are indexed both
ways (``use_light=False``: the full mapper and its spill) and compared: every column, problem
and built step (steps built in an order that makes the replay restore, continue and start
over), a few attributes read without building; a byte search finds what the per-step scan
finds; a followed growing file, and a truncated one, end as the mapper's path does.
"""

from __future__ import annotations

import dataclasses
import os
import random
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_light_decoders import _columns, _index, _steps, _words

from bench.generate_sessions import write_session
from support import samples_of
from trace_tui.core.formats import detect_format
from trace_tui.core.index import replay_steps
from trace_tui.core.index.columns import ORIGIN_REPLAY, STATUS_CODES
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.index.search import ByteSearch, find_next
from trace_tui.core.navigation.step_query import StepQuery, iter_matches

SAMPLES = samples_of("codex", "codex")


@pytest.fixture(autouse=True)
def _small_replay_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checkpoints every few lines and small sessions: every test restores, continues and
    starts replays over many times."""
    monkeypatch.setattr(replay_steps, "CHECKPOINT_LINES", 3)
    monkeypatch.setattr("trace_tui.core.index.indexer.CHECKPOINT_LINES", 3)
    monkeypatch.setattr(replay_steps, "SESSION_STEPS", 4)
    monkeypatch.setattr(replay_steps, "SESSIONS", 2)
    monkeypatch.setattr(replay_steps, "CONTINUE_BYTES", 600)


def _orders(count: int, seed: int) -> Iterator[list[int]]:
    yield list(range(count))
    yield list(range(count - 1, -1, -1))
    rng = random.Random(seed)
    order = list(range(count))
    rng.shuffle(order)
    yield order


def _same_both_ways(path: Path, seed: int = 0) -> int:
    """Index ``path`` both ways and assert they agree, every step replayed; how many."""
    fmt = detect_format(path)
    light, full = _index(path, fmt, True), _index(path, fmt, False)
    try:
        assert _columns(light) == _columns(full), path.name
        expected = _steps(full)
        for order in _orders(len(expected), seed):
            light.run._loader.clear()
            built = {i: light.run.step(i) for i in order}
            got = [built[i] for i in range(len(expected))]
            assert [dataclasses.asdict(s) for s in got] == expected, path.name
        names = ("gen_ai.tool.name", "gen_ai.request.model", "gen_ai.input.messages",
                 "gen_ai.tool.call.result")  # fmt: skip
        for index in range(len(light.run)):
            assert light.run.light_attributes(index, names) == full.run.light_attributes(
                index, names
            )
        spill = light.run._spill
        assert spill is not None
        spill.flush()  # no record spilled: only the huge strings of huge lines (blobs)
        held = os.pread(spill.fd, spill.size, 0).splitlines()
        assert all(line.startswith(b'"') for line in held), held[:1]
        assert light.run._cols.origin.count(ORIGIN_REPLAY) == len(light.run)
        return len(light.run)
    finally:
        light.close()
        full.close()


def _generated(tmp_path: Path, steps: int = 300, seed: int = 7) -> Path:
    path = tmp_path / f"codex-{steps}-{seed}.jsonl"
    write_session("codex", path, steps, seed)
    return path


def test_replay_equals_the_mapper_on_every_codex_sample() -> None:
    assert SAMPLES, "no Codex sample"
    assert sum(map(_same_both_ways, SAMPLES)) > 10


def test_replay_equals_the_mapper_on_a_generated_session(tmp_path: Path) -> None:
    path = _generated(tmp_path, 400)
    assert _same_both_ways(path) > 400  # compactions every 20 turns included


def _line(kind: str, payload: dict[str, Any], n: int) -> dict[str, Any]:
    return {"timestamp": f"2026-11-22T22:{n // 60 % 60:02d}:{n % 60:02d}.{n % 1000:03d}Z",
            "type": kind, "payload": payload}


def _odd_session() -> list[dict[str, Any]]:
    """Lines of every kind the mapper joins across lines, in odd orders."""
    lines: list[dict[str, Any]] = [_line("session_meta", {
        "id": "s-1", "model_provider": "openai", "base_instructions": "be brief Qx-sys"}, 0)]
    n = 1

    def add(kind: str, payload: dict[str, Any]) -> None:
        nonlocal n
        lines.append(_line(kind, payload, n))
        n += 1

    for turn in range(6):
        add("event_msg", {"type": "task_started", "model_context_window": 1000 + turn})
        add("turn_context", {"model": f"gpt-{turn % 2}", "effort": "high"})
        add("response_item", {"type": "message", "role": "user",
                              "content": [{"type": "input_text", "text": f"prompt {turn} é"}]})
        add("response_item", {"type": "reasoning", "summary": [
            {"type": "summary_text", "text": f"think {turn}"}]})
        add("response_item", {"type": "function_call", "name": "exec", "call_id": f"c{turn}",
                              "arguments": '{"cmd": "ls \\u00e9"}'})
        add("response_item", {"type": "custom_tool_call", "name": "apply_patch",
                              "call_id": f"p{turn}", "input": "*** patch"})
        add("event_msg", {"type": "item_completed", "item": {
            "type": "CommandExecution", "id": f"c{turn}", "exit_code": turn % 3}})
        output = f"Process exited with code {turn % 3}\nOutput:\nbad {turn}"
        add("response_item", {"type": "function_call_output", "call_id": f"c{turn}",
                              "output": output})
        add("event_msg", {"type": "token_count", "info": {
            "total_token_usage": {"input_tokens": 100 * turn, "output_tokens": 5 * turn}}})
        add("response_item", {"type": "custom_tool_call_output", "call_id": f"p{turn}",
                              "output": "Done!"})
        add("response_item", {"type": "function_call_output", "call_id": "nobody",
                              "output": "exit code: 2"})
        if turn == 2:
            add("compacted", {"message": "sum", "replacement_history": [
                {"type": "message", "role": "user", "content": "Zq-compacted summary"}]})
        if turn == 3:
            add("event_msg", {"type": "error", "message": "stream broke"})
            add("event_msg", {"type": "context_compacted"})
            add("world_state", {"x": 1})
        add("response_item", {"type": "message", "role": "assistant",
                              "content": [{"type": "output_text", "text": f"answer {turn}"}]})
        add("token_usage_record", {"usage": {"input_tokens": 7, "output_tokens": turn}})
        add("event_msg", {"type": "token_count", "info": {
            "total_token_usage": {"input_tokens": 100 * turn + 50, "output_tokens": 6 * turn}}})
        if turn == 4:
            add("event_msg", {"type": "turn_aborted"})
        else:
            add("event_msg", {"type": "task_complete"})
    add("response_item", {"type": "reasoning", "summary": []})  # a call left open at the end
    add("response_item", {"type": "local_shell_call", "call_id": "open", "action": {"x": 1}})
    return lines


def _write(path: Path, lines: list[Any]) -> Path:
    path.write_bytes(b"".join((x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n"
                             for x in lines))  # fmt: skip
    return path


def test_replay_equals_the_mapper_on_odd_joins(tmp_path: Path) -> None:
    path = _write(tmp_path / "odd.jsonl", _odd_session())
    assert _same_both_ways(path) > 40


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    pick=st.integers(0, 1000),
    cut=st.floats(0.0, 1.0),
    repeat=st.lists(st.integers(0, 1000), max_size=3),
    junk=st.lists(st.tuples(st.integers(0, 1000), st.sampled_from(
        [b"", b"{", b"[1]", b'{"x": 1}', b'{"type": "response_item", "payload": 3}',
         b'{"type": "compacted", "payload": {"replacement_history": 5}}',
         b'{"type": "event_msg", "payload": {"type": "token_count", "info": 1}}',
         b'{"type": "response_item", "payload": {"type": "function_call_output"}}']
    )), max_size=3),
    seed=st.integers(0, 100),
)
def test_replay_equals_the_mapper_on_damaged_files(
    tmp_path: Path, pick: int, cut: float, repeat: list[int], junk: list[tuple[int, bytes]],
    seed: int,
) -> None:
    sources = [*SAMPLES, _write(tmp_path / "odd.jsonl", _odd_session()),
               _generated(tmp_path, 60, seed)]  # fmt: skip
    lines = sources[pick % len(sources)].read_bytes().splitlines()
    for at in repeat:  # a line written twice
        lines.insert(at % (len(lines) + 1), lines[at % len(lines)])
    for at, text in junk:
        lines.insert(at % (len(lines) + 1), text)
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / "cut.jsonl"
    path.write_bytes(data[: max(1, int(len(data) * cut))])
    try:
        if detect_format(path).name != "codex":
            return
    except Exception:
        return  # cut before the first record: not this format any more
    _same_both_ways(path, seed)


def test_byte_search_over_replayed_steps_equals_the_per_step_scan(tmp_path: Path) -> None:
    checked = 0
    for path in [*SAMPLES, _write(tmp_path / "odd.jsonl", _odd_session()),
                 _generated(tmp_path, 150)]:  # fmt: skip
        source = _index(path, detect_format(path), True)
        try:
            run = source.run
            count = len(run)
            words = sorted(_words(source))[:50]
            # words only the importer writes, digits it adds up, carried context
            words += ["chat", "execute_tool", "tool_calls", "codex", "exit code", "1003",
                      "qx-sys", "zq-compacted", "gpt-1", "high", "ls é", "nowhere-at-all",
                      "bad 2", "stream broke", "turn aborted"]
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


def test_a_growing_rollout_followed_line_by_line_indexes_as_the_mapper_does(
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
            assert live.run._cols.status[len(live.run) - 1] == STATUS_CODES["running"]
        finally:
            full.close()
    finally:
        live.close()


def test_a_truncated_rollout_starts_over_and_replays_the_new_file(tmp_path: Path) -> None:
    lines = _odd_session()
    path = _write(tmp_path / "t.jsonl", lines)
    live = IndexedSource(path, detect_format(path), follow=True)
    try:
        while not live.update().complete:
            pass
        live.run.step(len(live.run) - 1)
        _write(path, lines[:25])  # truncated and rewritten shorter
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


def test_replay_equals_the_mapper_with_a_huge_tool_output(tmp_path: Path) -> None:
    """A tool output of 9 MB (a huge line: its string held in the spill, a cut stand-in in
    the mapper's hands, exit code 1): the replay decodes the line as the indexer did and the
    built steps get the whole string back, as the mapper's spilled records do."""
    lines: list[Any] = _odd_session()[:12]
    output = "x" * (9 * 1024 * 1024) + "\nProcess exited with code 1\nOutput:\nboom at the end\n"
    lines.insert(8, _line("response_item", {"type": "function_call_output", "call_id": "c0",
                                            "output": output}, 99))
    path = _write(tmp_path / "huge.jsonl", lines)
    assert _same_both_ways(path) > 5
    source = _index(path, detect_format(path), True)
    try:
        assert source._huge_at  # the line really was read as a huge line
        results = [source.run.step(i).attributes.get("gen_ai.tool.call.result")
                   for i in range(len(source.run))]
        assert output in results
    finally:
        source.close()
