"""The side-by-side diff screen (tui/diff/screen.py) driven with real key presses: it opens on
the first divergence, n/p move between differences, the detail shows the changed pointers,
trace text reaches the terminal sanitised, and any app can push the screen."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.widgets import Static

from support import SAMPLES
from trace_tui.core.model.run import Run
from trace_tui.core.reading.reader import open_run
from trace_tui.tui.diff.app import make_diff_app
from trace_tui.tui.diff.screen import DiffScreen
from trace_tui.tui.diff.steps import AlignedSteps

SIZE = (120, 36)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio (anyio's pytest plugin drives the async tests)."""
    return "asyncio"


def pair(tmp_path: Path) -> tuple[Run, Run]:
    """discount_over_cap as A; B with a changed loyalty discount and no apply_discount call."""
    lines = (SAMPLES / "discount_over_cap.jsonl").read_text(encoding="utf-8").splitlines()
    records: list[dict[str, Any]] = [json.loads(line) for line in lines if line.strip()]
    edited = copy.deepcopy(records)
    for rec in edited:
        if rec.get("name") == "get_loyalty_discount":
            rec["attributes"]["gen_ai.tool.call.result"]["discount_pct"] = 15
    edited = [r for r in edited if r.get("span_id") != "dis-0007"]
    paths = []
    for name, recs in (("a.jsonl", records), ("b.jsonl", edited)):
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
        paths.append(path)
    return open_run(paths[0]), open_run(paths[1])


def detail_text(app: App[Any]) -> str:
    return str(app.screen.query_one("#diff-detail-body", Static).render())


async def test_opens_on_the_first_divergence_and_moves_between_differences(
    tmp_path: Path,
) -> None:
    left, right = pair(tmp_path)
    app = make_diff_app(left, right, "a.jsonl", "b.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DiffScreen) and screen.diff is not None
        steps = screen.query_one(AlignedSteps)
        assert screen.diff.first_divergence == 4
        assert steps.cursor == 4
        assert screen.diff.rows[steps.cursor].status == "changed"
        assert "/attributes/gen_ai.tool.call.result/discount_pct" in detail_text(app)
        await pilot.press("n")
        assert steps.cursor == 6
        assert screen.diff.rows[6].status == "removed"
        assert "only in A (removed)" in detail_text(app)
        await pilot.press("n")  # no further difference: the cursor stays
        assert steps.cursor == 6
        await pilot.press("p")
        assert steps.cursor == 4
        await pilot.press("g")
        assert steps.cursor == 0
        await pilot.press("j", "j")
        assert steps.cursor == 2
        await pilot.press("f")
        assert steps.cursor == 4
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


async def test_hostile_step_names_are_drawn_sanitised(tmp_path: Path) -> None:
    left, right = pair(tmp_path)
    right.step(4).name = "get\x1b[31m_loyalty\u202e"
    app = make_diff_app(left, right, "a\x1b[2J.jsonl", "b.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        steps = app.screen.query_one(AlignedSteps)
        line = steps.render_line(steps.cursor - steps.scroll_offset.y).text
        assert "␛[31m" in line and "\x1b" not in line
        screen_text = app.export_screenshot()
        assert "\x1b[2J" not in screen_text and "\u202e" not in screen_text


class HostApp(App[None]):
    """Any other app (no trace-tui themes or variables) pushing the screen."""

    def __init__(self, left: Run, right: Run) -> None:
        super().__init__()
        self.runs = (left, right)

    def on_mount(self) -> None:
        self.push_screen(DiffScreen(*self.runs, "A", "B"))


async def test_any_app_can_push_the_screen_and_get_it_back(tmp_path: Path) -> None:
    left, right = pair(tmp_path)
    app = HostApp(left, right)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, DiffScreen)
        assert app.screen.query_one(AlignedSteps).cursor == 4
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DiffScreen)


async def test_equivalent_runs_say_so(tmp_path: Path) -> None:
    left, _ = pair(tmp_path)
    app = make_diff_app(left, open_run(left.path or ""), "a", "a again")
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        summary = str(app.screen.query_one("#diff-summary", Static).render())
        assert "equivalent" in summary
        assert app.screen.query_one(AlignedSteps).cursor == 0
        assert "No difference" in detail_text(app)
