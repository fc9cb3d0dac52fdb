"""``G``/End pressed while a big trace is still being indexed goes on to the true end.

The reader is gated: each ``update`` of the source waits for the test to release it, so the
file is provably still being indexed when the key is pressed (no timing involved).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

import trace_tui.core.index.indexer as indexer
from support import eventually_async
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.reading.source import SourceUpdate
from trace_tui.tui.app import TraceApp
from trace_tui.tui.widgets.status import StatusLine

pytestmark = pytest.mark.anyio
STEPS = 400


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


@pytest.fixture(autouse=True)
def small_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slices of 2 KiB and no pause between updates: a few hundred steps take many updates."""
    monkeypatch.setattr(indexer, "FIRST_SLICE_BYTES", 2048)
    monkeypatch.setattr(indexer, "SLICE_BYTES", 2048)
    monkeypatch.setattr(indexer, "UPDATE_SECONDS", 0.0)


class GatedSource:
    """An indexed source whose every ``update`` waits for one release by the test."""

    def __init__(self, path: Path) -> None:
        self.inner = IndexedSource(path)
        self.path, self.format_name = self.inner.path, self.inner.format_name
        self.gate = threading.Semaphore(0)
        self.closed = False

    @property
    def run(self) -> Any:
        return self.inner.run

    def update(self) -> SourceUpdate:
        while not self.gate.acquire(timeout=0.05):
            if self.closed:
                return SourceUpdate(complete=True)
        return self.inner.update()

    def wait(self, timeout: float) -> None:
        self.inner.wait(timeout)

    def close(self) -> None:
        self.closed = True
        self.inner.close()


def _trace(path: Path) -> Path:
    import json

    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps({"type": "span", "span_id": "root", "kind": "agent",
                              "name": "agent", "start_time": 0.0}) + "\n")
        for n in range(1, STEPS):
            out.write(json.dumps({"type": "span", "span_id": f"s{n}", "parent_id": "root",
                                  "kind": "tool", "name": f"step-{n}", "start_time": float(n),
                                  "end_time": n + 0.5, "status": "ok"}) + "\n")
    return path


async def _until(pilot: Any, condition: Any) -> None:
    """Let the app run until ``condition()`` holds (the reader thread posts on its own).
    Reading thousands of steps through 2 KiB slices takes seconds; on a loaded machine more
    than the usual wait, so these tests wait up to a minute (a failure only takes longer)."""
    await eventually_async(condition, pilot.pause, timeout=60.0)


async def test_end_while_indexing_follows_to_the_true_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = GatedSource(_trace(tmp_path / "big.jsonl"))
    app = TraceApp(source)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.debugger
        source.gate.release()
        await _until(pilot, lambda: screen.count > 0)
        first = screen.count
        assert first < STEPS and not screen.complete
        await pilot.press("G")
        assert screen.cursor.position == first - 1 and screen.cursor.chasing
        assert "going to the end" in str(screen.query_one(StatusLine).render())
        # the reader posts progress at most every READING_INTERVAL while it first reads, and
        # a gated update waits: keep it reading until the screen hears of more steps
        await _until(pilot, lambda: screen.count > first + 10 or source.gate.release())
        assert screen.cursor.position == screen.count - 1  # went on with the index
        for _ in range(STEPS):
            source.gate.release()
        await _until(pilot, lambda: screen.complete)
        assert screen.count == STEPS and screen.cursor.position == STEPS - 1
        assert not screen.cursor.chasing


async def test_moving_away_stops_going_to_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = GatedSource(_trace(tmp_path / "big.jsonl"))
    app = TraceApp(source)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.debugger
        source.gate.release()
        await _until(pilot, lambda: screen.count > 0)
        await pilot.press("G", "k")
        pinned = screen.cursor.position
        assert not screen.cursor.chasing
        for _ in range(STEPS):
            source.gate.release()
        await _until(pilot, lambda: screen.complete)
        assert screen.cursor.position == pinned


async def test_end_while_indexing_stays_at_the_end_when_a_late_root_reorders_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OpenTelemetry files write the root span last: when reading ends the steps are put
    in run order (the root moves to the top); ``G`` pressed while indexing still ends on
    the last step, not on the step that happened to be last in the file."""
    import json

    path = tmp_path / "root-last.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for n in range(1, STEPS):
            out.write(json.dumps({"type": "span", "span_id": f"s{n}", "parent_id": "root",
                                  "kind": "tool", "name": f"step-{n}", "start_time": float(n),
                                  "end_time": n + 0.5, "status": "ok"}) + "\n")
        out.write(json.dumps({"type": "span", "span_id": "root", "kind": "agent",
                              "name": "agent", "start_time": 0.0, "end_time": 500.0}) + "\n")
    source = GatedSource(path)
    app = TraceApp(source)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.debugger
        source.gate.release()
        await _until(pilot, lambda: screen.count > 0)
        await pilot.press("G")
        for _ in range(STEPS):
            source.gate.release()
        await _until(pilot, lambda: screen.complete and screen.run_view.row(0).name == "agent")
        await _until(pilot, lambda: screen.cursor.position == screen.count - 1)
        assert screen.run_view.row(screen.cursor.position).name == f"step-{STEPS - 1}"


async def test_end_pressed_before_the_first_steps_still_goes_to_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = GatedSource(_trace(tmp_path / "big.jsonl"))
    app = TraceApp(source)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.debugger
        await pilot.press("G")  # the screen still says there are no steps yet
        assert screen.count == 0 and screen.cursor.chasing
        for _ in range(STEPS):
            source.gate.release()
        await _until(pilot, lambda: screen.complete)
        assert screen.count == STEPS and screen.cursor.position == STEPS - 1


async def test_gauge_catches_up_with_the_facts_after_going_to_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``G`` while an OpenTelemetry-like file (root last) is read: the last step is a tool
    call after a model call; once reading ends the gauge shows that call's context, not
    "no model call yet" (the step was first shown before the facts knew of the call)."""
    import json

    from trace_tui.tui.widgets.gauge import ContextGauge

    path = tmp_path / "root-last.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        for n in range(1, 20 * STEPS):
            llm = n % 2 == 1
            record = {"type": "span", "span_id": f"s{n}", "parent_id": "root",
                      "kind": "llm" if llm else "tool", "name": f"step-{n}",
                      "start_time": float(n), "end_time": n + 0.5, "status": "ok",
                      "attributes": {"gen_ai.request.model": "gpt-4o",
                                     "gen_ai.usage.input_tokens": 1000 + n,
                                     "gen_ai.usage.output_tokens": 10} if llm else {}}
            out.write(json.dumps(record) + "\n")
        out.write(json.dumps({"type": "span", "span_id": "root", "kind": "agent",
                              "name": "agent", "start_time": 0.0, "end_time": 500.0}) + "\n")
    source = GatedSource(path)
    app = TraceApp(source)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.debugger
        source.gate.release()
        await _until(pilot, lambda: screen.count > 0)
        await pilot.press("G")
        for _ in range(20 * STEPS):
            source.gate.release()
        await _until(pilot, lambda: screen.complete and screen.run_view.row(0).name == "agent")
        await _until(pilot, lambda: screen.cursor.position == screen.count - 1)
        gauge = screen.query_one(ContextGauge)
        await _until(pilot, lambda: gauge.model is not None and gauge.model.breakdown is not None)
        assert "no model call yet" not in str(gauge.render())


async def test_end_with_a_filter_on_goes_on_to_the_filters_last_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a filter on (Claude Code and Codex sessions open with bookkeeping folded), ``G``
    while reading goes on to the last step the filter shows as reading adds more, and stops
    when the user moves away."""
    import json

    from trace_tui.core.navigation.step_query import StepQuery

    path = tmp_path / "mixed.jsonl"
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps({"type": "span", "span_id": "root", "kind": "agent",
                              "name": "agent", "start_time": 0.0}) + "\n")
        for n in range(1, STEPS):
            out.write(json.dumps({"type": "span", "span_id": f"s{n}", "parent_id": "root",
                                  "kind": "llm" if n % 3 == 0 else "tool",
                                  "name": f"step-{n}", "start_time": float(n),
                                  "end_time": n + 0.5, "status": "ok"}) + "\n")
    last_llm = max(n for n in range(1, STEPS) if n % 3 == 0)
    source = GatedSource(path)
    app = TraceApp(source)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.debugger
        source.gate.release()
        await _until(pilot, lambda: screen.count > 10)
        screen.apply_filter(StepQuery.parse("kind:llm"))
        await pilot.press("G")
        first = screen.cursor.position
        assert screen.run_view.row(first).kind == "llm"
        assert "going to the end" in str(screen.query_one(StatusLine).render())
        for _ in range(STEPS):
            source.gate.release()
        await _until(pilot, lambda: screen.complete)
        await _until(pilot, lambda: screen.run_view.row(screen.cursor.position).name
                     == f"step-{last_llm}")
        assert "going to the end" not in str(screen.query_one(StatusLine).render())


async def test_moving_away_with_a_filter_on_stops_going_to_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trace_tui.core.navigation.step_query import StepQuery

    source = GatedSource(_trace(tmp_path / "big.jsonl"))
    app = TraceApp(source)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 36)) as pilot:
        screen = app.debugger
        source.gate.release()
        await _until(pilot, lambda: screen.count > 10)
        screen.apply_filter(StepQuery.parse("kind:tool"))
        await pilot.press("G", "k")
        pinned = screen.cursor.position
        for _ in range(STEPS):
            source.gate.release()
        await _until(pilot, lambda: screen.complete)
        assert screen.cursor.position == pinned
