"""Search finds the nearest match exactly, also where a step's matching record is far from
its first one: a ``span_end`` written much later in the file, a tool call's result spilled
for a step mapped from an earlier source line (API exchanges). ``n`` before the count is done
must not skip such a step, and a count over part of the run must not miss one."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from search_agrees import search_agrees

from bench.generate_sessions import api_exchange_lines
from trace_tui.core.formats import detect_format
from trace_tui.core.index import search as search_module
from trace_tui.core.index import search_blocks
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.navigation.step_query import StepQuery, iter_matches


def _index(path: Path, light: bool = True) -> IndexedSource:
    source = IndexedSource(path, detect_format(path), use_light=light)
    while not source.update().complete:
        pass
    return source


def _late_ends_trace(path: Path, steps: int, late: tuple[int, ...], word: str) -> None:
    """Native steps; those in ``late`` are ``span_start``s whose ``span_end`` (the only record
    holding ``word``) comes after every other record; every 7th step holds it itself."""
    lines = [json.dumps({"type": "run", "run_id": "r"})]
    for n in range(steps):
        said = f"the {word} is here" if n % 7 == 3 else "nothing to see"
        record = {"type": "span_start" if n in late else "span", "span_id": f"s{n}",
                  "kind": "tool", "name": f"tool {n}", "start_time": float(n),
                  "attributes": {"tool.input": {"q": f"{said} {'x' * 100}"}}}
        if n not in late:
            record.update(end_time=n + 0.5, status="ok")
        lines.append(json.dumps(record))
    for n in late:
        lines.append(json.dumps({"type": "span_end", "span_id": f"s{n}", "end_time": 1e6,
                                 "attributes": {"tool.output": f"late {word}"}}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _tool_result_trace(path: Path, word: str) -> None:
    """Generated API exchanges where a tool result (and every later request that repeats it)
    starts with ``word``: the first one after the first few lines (which the importer reads
    itself before the light decoder takes over)."""
    lines = list(api_exchange_lines(60))
    marked = None
    for number, line in enumerate(lines):
        for message in line["request_body"]["messages"] if number >= 6 else ():
            result = _tool_result(message)
            if result is None:
                continue
            key, holder = result
            marked = marked or key
            if key == marked:
                holder["content"] = f"{word} {holder['content']}"
    assert marked is not None
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))


def _tool_result(message: dict) -> tuple[str, dict] | None:
    """(tool call id, the dict holding the result's content) of a tool result message."""
    if message.get("role") == "tool":
        return message["tool_call_id"], message
    content = message.get("content")
    if isinstance(content, list):
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                return block["tool_use_id"], block
    return None


@pytest.mark.parametrize("late_confirm", [64, 0])
@pytest.mark.parametrize("blocks", [None, (300, 600)])
def test_next_is_the_nearest_match_when_a_far_later_span_end_matches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, blocks: tuple[int, int] | None,
    late_confirm: int,
) -> None:
    if blocks is not None:  # the late ends are many blocks after their steps
        monkeypatch.setattr(search_blocks, "FIRST_BLOCK_BYTES", blocks[0])
        monkeypatch.setattr(search_blocks, "BLOCK_BYTES", blocks[1])
    # steps left with records further on: confirmed one by one, or (0) the scan reads on
    monkeypatch.setattr(search_module, "LATE_CONFIRM", late_confirm)
    path = tmp_path / "t.jsonl"
    _late_ends_trace(path, 400, late=(1, 2, 40, 41, 200), word="Needle-Word")
    source = _index(path)
    try:
        run, count = source.run, len(source.run)
        query = StepQuery.parse("text:needle-word")
        expected = list(iter_matches(run, query, range(count)))
        assert expected[:3] == [1, 2, 3]
        search_agrees(run, query, (0, 1, 2, 5, 38, 39, 100, 199, 201, count - 1))
    finally:
        source.close()


def test_a_tool_result_spilled_for_a_light_step_is_found_from_anywhere(tmp_path: Path) -> None:
    """API exchanges: a tool step is mapped from the response that calls the tool (a light
    step, scanned in the trace); its result, sent back in the next request, is a spilled
    ``span_end``. A word only in that result matches the tool step (through the spill) and
    the next model call (through its source line)."""
    path = tmp_path / "exchanges.jsonl"
    _tool_result_trace(path, "Quokkafish")
    source = _index(path)
    try:
        run, count = source.run, len(source.run)
        cols = run._cols
        query = StepQuery.parse("quokkafish")
        expected = list(iter_matches(run, query, range(count)))
        tool = expected[0]
        assert cols.origin[tool] and cols.end_offsets(tool)  # light, its end spilled
        search_agrees(run, query, range(count))
    finally:
        source.close()
