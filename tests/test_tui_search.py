"""Search on the screen: the first hit is shown, then every match counted with progress on the
way; the filter says how far its scan got. On a trace big enough for the workers (the limits
lowered), scanned in small blocks so that the count visibly grows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trace_tui.core.index import search_blocks
from trace_tui.core.navigation.step_query import StepQuery, iter_matches
from trace_tui.tui.app import TraceApp, build_app
from trace_tui.tui.messages import FilterMatches, SearchCount
from trace_tui.tui.screens import finding
from trace_tui.tui.widgets.status import StatusLine

SIZE = (120, 36)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


def _trace(path: Path, steps: int) -> None:
    lines = [json.dumps({"type": "run", "run_id": "r", "name": "search test"})]
    for n in range(steps):
        said = "the Needle-Word is here" if n % 7 == 3 else "nothing to see"
        lines.append(json.dumps({
            "type": "span", "span_id": f"s{n}", "parent_id": None, "kind": "tool",
            "name": f"tool {n}", "start_time": float(n), "end_time": n + 0.5, "status": "ok",
            "attributes": {"tool.output": f"{said} {'x' * 200}"}}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def _settled(app: TraceApp, pilot: Any) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


def _status(app: TraceApp) -> str:
    model = app.debugger.query_one(StatusLine).model
    return (model.search or "") if model else ""


async def test_search_shows_first_hit_then_the_count_as_it_grows(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(finding, "SYNC_FIND_LIMIT", 0)
    monkeypatch.setattr(finding, "PROGRESS_EVERY", 0.0)
    monkeypatch.setattr(search_blocks, "FIRST_BLOCK_BYTES", 2000)
    monkeypatch.setattr(search_blocks, "BLOCK_BYTES", 4000)
    path = tmp_path / "t.jsonl"
    _trace(path, 300)
    app = build_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await _settled(app, pilot)
        screen = app.debugger
        counts: list[SearchCount] = []
        take = screen._take_count
        monkeypatch.setattr(screen, "_take_count",
                            lambda message: (counts.append(message), take(message)))
        query = StepQuery.parse("text:needle-word")
        expected = list(iter_matches(screen.run_view, query, range(screen.count)))
        assert len(expected) > 40
        await pilot.press("slash", *"text:needle-word", "enter")
        await _settled(app, pilot)
        assert screen.cursor.position == expected[0]
        assert _status(app) == f"/text:needle-word match 1/{len(expected)}"
        partial = [m for m in counts if not m.done]
        assert len(partial) >= 3  # the count was shown growing, with the part scanned
        assert [m.part for m in partial] == sorted(m.part for m in partial)
        assert 0 < partial[0].part < 1
        assert sorted(i for m in counts for i in m.matches) == expected

        def no_scan(*args: Any) -> None:
            raise AssertionError("every match is known: n and N need no scan")

        monkeypatch.setattr(finding, "find_next", no_scan)
        await pilot.press("n", "n")
        await _settled(app, pilot)
        assert screen.cursor.position == expected[2]
        assert _status(app) == f"/text:needle-word match 3/{len(expected)}"
        assert len([m for m in counts if m.done]) == 1  # n/N do not count again
        await pilot.press("N", "N", "N")  # wraps around to the last match
        await _settled(app, pilot)
        assert screen.cursor.position == expected[-1]
        await pilot.press("down")
        await pilot.pause()
        assert _status(app) == f"/text:needle-word {len(expected)} matches"


async def test_filter_says_how_far_its_scan_got(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(finding, "SYNC_FIND_LIMIT", 0)
    monkeypatch.setattr(finding, "PROGRESS_EVERY", 0.0)
    monkeypatch.setattr(search_blocks, "FIRST_BLOCK_BYTES", 2000)
    monkeypatch.setattr(search_blocks, "BLOCK_BYTES", 4000)
    path = tmp_path / "t.jsonl"
    _trace(path, 300)
    app = build_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await _settled(app, pilot)
        screen = app.debugger
        seen: list[FilterMatches] = []
        take = screen._take_matches
        monkeypatch.setattr(screen, "_take_matches",
                            lambda message: (seen.append(message), take(message)))
        await pilot.press("ampersand", *"text:needle-word", "enter")
        await _settled(app, pilot)
        parts = [m.part for m in seen if m.part is not None]
        assert len(parts) >= 3 and parts == sorted(parts) and 0 < parts[0] < 1
        assert seen[-1].done and screen.finding_busy is None


async def test_n_while_counting_stops_at_a_step_matched_by_a_far_later_span_end(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Steps 2 and 3 are matched only by their ``span_end``s, written after every other record;
    ``/`` and then ``n`` pressed while the count is still running visit them in order."""
    import threading

    monkeypatch.setattr(finding, "SYNC_FIND_LIMIT", 0)
    monkeypatch.setattr(search_blocks, "FIRST_BLOCK_BYTES", 2000)
    monkeypatch.setattr(search_blocks, "BLOCK_BYTES", 4000)
    path = tmp_path / "t.jsonl"
    _trace(path, 300)
    lines = path.read_text(encoding="utf-8").splitlines()
    for n in (2, 3):  # lines[0] is the run record
        record = json.loads(lines[n + 1])
        record.update(type="span_start", attributes={})
        del record["end_time"], record["status"]
        lines[n + 1] = json.dumps(record)
        lines.append(json.dumps({"type": "span_end", "span_id": f"s{n}", "end_time": 1e4,
                                 "attributes": {"tool.output": "late Needle-Word"}}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    release = threading.Event()
    counting = finding.find_matches

    def held(*args: Any, **kwargs: Any) -> Any:  # the count waits until released
        release.wait(10)
        yield from counting(*args, **kwargs)

    monkeypatch.setattr(finding, "find_matches", held)
    app = build_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await _settled(app, pilot)
        screen = app.debugger
        query = StepQuery.parse("text:needle-word")
        expected = list(iter_matches(screen.run_view, query, range(screen.count)))
        assert expected[:3] == [2, 3, 10]
        await pilot.press("slash", *"text:needle-word", "enter")
        for _ in range(100):
            await pilot.pause(0.02)
            if screen.finding_busy is None:
                break
        assert screen.cursor.position == 2
        assert "counting" in _status(app)
        for want in (3, 10):
            await pilot.press("n")
            for _ in range(100):
                await pilot.pause(0.02)
                if screen.finding_busy is None and screen.cursor.position == want:
                    break
            assert screen.cursor.position == want
            assert "counting" in _status(app)  # still counting: n scanned the file
        release.set()
        await _settled(app, pilot)
        assert _status(app) == f"/text:needle-word match 3/{len(expected)}"
