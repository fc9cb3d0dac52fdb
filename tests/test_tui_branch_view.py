"""A branch does not look like its original, corrupt lines are entries, and the smaller
screen fixes of issue 14 (fold clicks on deep rows, live ``#N/TOTAL``, one key help). Pilot
tests at 80x24, apps built with ``build_app`` like the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from branch_fixture import every_answer_branch
from test_tui_app import _append, _span, _until, lines, loaded, text
from textual.containers import VerticalScroll

from support import SAMPLES
from trace_tui.tui.app import build_app
from trace_tui.tui.diff.screen import DiffScreen
from trace_tui.tui.screens.branches import BranchesScreen
from trace_tui.tui.screens.help import HelpScreen
from trace_tui.tui.screens.problems import ProblemsScreen
from trace_tui.tui.widgets.branch_banner import BranchBanner
from trace_tui.tui.widgets.inspector import Inspector
from trace_tui.tui.widgets.span_tree import SpanTree
from trace_tui.tui.widgets.status import StatusLine

SIZE = (80, 24)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


async def test_a_branch_shows_how_each_step_was_answered(tmp_path: Path) -> None:
    app = build_app(every_answer_branch(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        screen = app.debugger
        assert screen.cursor.position == 2  # opens on the fork point, step 3
        tree = screen.query_one(SpanTree)
        rows = lines(tree)
        marks = {int(r.split()[0]): r.split()[1] for r in rows if r.strip()[:1].isdigit()}
        assert [marks[n] for n in range(3, 9)] == ["E", "L", "P", "M", "=", "?"]
        assert "waiting" in rows[8] and "how replayed" in str(tree.border_title)
        banner = text(screen.query_one(BranchBanner))
        assert "stopped: needs a model response at step 8" in banner
        assert "diverged" in screen.run_view.branch.note  # type: ignore[union-attr]
        await pilot.press("G")
        summary = text(screen.query_one("#inspector-summary"))
        assert "waiting for an answer" in summary and "unset" not in summary
        await pilot.press("c")
        doc = screen.query_one(Inspector).document
        shown = "\n".join("".join(t for t, _ in line.pieces) for line in doc.lines)
        assert "waiting for an answer" in shown
        await pilot.press("k", "k")  # step 6, answered by hand
        assert "[manual]" in text(screen.query_one("#inspector-summary"))


async def test_the_original_has_no_replay_column(tmp_path: Path) -> None:
    app = build_app(SAMPLES / "discount_over_cap.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tree = app.debugger.query_one(SpanTree)
        assert "how replayed" not in str(tree.border_title)
        assert not app.debugger.query_one(BranchBanner).display


async def test_branch_list_names_branches_by_file(tmp_path: Path) -> None:
    branch = every_answer_branch(tmp_path)
    copy = branch.with_name("saved-with-o.jsonl")
    shutil.copyfile(branch, copy)  # the same branch record, saved again under another name
    app = build_app(tmp_path / "discount_over_cap.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("b")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, BranchesScreen)
        shown = [str(app.screen.query_one("#branches-list").get_option_at_index(i).prompt)
                 for i in range(len(app.screen.paths))]
        assert any(branch.name in row for row in shown)
        assert any("saved-with-o.jsonl" in row for row in shown)


async def test_corrupt_records_are_entries(write_trace: Any) -> None:
    path = write_trace([_span(0, None, "agent"), b"{not json", _span(1)])
    app = build_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        status = text(app.debugger.query_one(StatusLine))
        assert "corrupt record at offset" in status and "bad lines" not in status
        await pilot.press("W")
        await pilot.pause()
        assert isinstance(app.screen, ProblemsScreen)
        entries = "\n".join(str(s.render()) for s in app.screen.query("Static"))
        assert "corrupt record at offset" in entries and "(line 2)" in entries


async def test_fold_mark_click_works_on_deeply_nested_rows(write_trace: Any) -> None:
    records = [_span(0, None, "agent")] + [_span(n, f"s{n - 1}", "agent") for n in range(1, 30)]
    app = build_app(write_trace(records))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tree = app.debugger.query_one(SpanTree)
        deep = 25
        await pilot.press("colon", *str(deep + 1), "enter")
        row_y = tree.visibility.row_of(deep) - tree.scroll_offset.y  # type: ignore[operator]
        width = tree.scrollable_content_region.width
        x = tree._lead() + len(tree._indent(tree._run.row(deep), width))  # type: ignore[union-attr]
        assert tree._run.row(deep).depth * 2 > x  # type: ignore[union-attr]  # capped indent
        await pilot.click(SpanTree, offset=(x, row_y + 1))  # +1: the border row
        await pilot.pause()
        assert deep in tree.visibility.collapsed


async def test_inspector_total_follows_the_growing_run(write_trace: Any) -> None:
    path = write_trace([_span(0, None, "agent"), _span(1), _span(2)])
    app = build_app(path, follow=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.debugger
        await _until(pilot, lambda: screen.count == 3)
        await pilot.press("k")  # pinned on step 2
        _append(path, [_span(3), _span(4)])
        await _until(pilot, lambda: screen.count == 5)
        assert "#2/5" in text(screen.query_one("#inspector-summary"))


async def test_help_scrolls_with_j_and_the_diff_screen_uses_it(tmp_path: Path) -> None:
    app = build_app(SAMPLES / "discount_over_cap.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        scroller = app.screen.query_one(VerticalScroll)
        await pilot.press("j", "j", "j")
        await pilot.pause()
        assert scroller.scroll_y > 0
        await pilot.press("escape")
        run = app.debugger.run_view
        app.push_screen(DiffScreen(run, run, "a", "b"))
        await pilot.pause()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


def test_branch_fixture_is_a_valid_native_trace(tmp_path: Path) -> None:
    from trace_tui.core.export.validate import validate_file

    path = every_answer_branch(tmp_path)
    assert validate_file(path) == []
    kinds = [json.loads(x).get("attributes", {}).get("trace_tui.replay.match")
             for x in path.read_text("utf-8").splitlines()]
    assert {"edited", "live", "position", "manual", "exact-args", "none"} <= set(kinds)


async def test_gauge_agrees_with_itself_and_warns_at_80_columns() -> None:
    from trace_tui.tui.widgets.gauge import ContextGauge

    app = build_app(SAMPLES / "system_prompt_evicted.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        screen = app.debugger
        gauge = screen.query_one(ContextGauge)
        screen.move_to(6)  # the fullest call: the headline and the peak are the same call
        await pilot.pause()
        shown = text(gauge)
        headline = shown.split("Context ")[1].split("%")[0]
        assert f"{headline}% @ step 7" in shown
        screen.move_to(7)  # the call after the eviction, in the short 80-column gauge
        await pilot.pause()
        assert "system prompt missing" in text(gauge)


async def test_gauge_while_a_model_call_runs_in_tail_mode(write_trace: Any) -> None:
    from trace_tui.tui.widgets.gauge import UNKNOWN_WINDOW, ContextGauge

    done = {"type": "span", "span_id": "l1", "parent_id": None, "kind": "llm", "name": "chat",
            "start_time": 1.0, "end_time": 2.0, "status": "ok",
            "attributes": {"gen_ai.request.model": "gpt-4o",
                           "gen_ai.input.messages": [{"role": "user", "content": "a"},
                                                     {"role": "user", "content": "b"},
                                                     {"role": "user", "content": "c"}],
                           "gen_ai.usage.input_tokens": 500,
                           "gen_ai.usage.output_tokens": 20}}
    running = {"type": "span_start", "span_id": "l2", "parent_id": None, "kind": "llm",
               "name": "chat", "start_time": 3.0, "attributes": {}}
    app = build_app(write_trace([done, running]), follow=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.debugger
        await _until(pilot, lambda: screen.count == 2)
        await pilot.pause()
        shown = text(screen.query_one(ContextGauge))
        assert "step 2 running" in shown and "step 1" in shown
        assert UNKNOWN_WINDOW not in shown and "fewer messages" not in shown


async def test_waiting_notice_goes_when_steps_arrive(tmp_path: Path) -> None:
    path = tmp_path / "later.jsonl"
    app = build_app(path, follow=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.debugger
        await _until(pilot, lambda: bool(screen.notice) and "does not exist" in screen.notice)
        _append(path, [_span(0, None, "agent"), _span(1)])
        await _until(pilot, lambda: screen.count == 2)
        assert screen.notice is None
        assert "does not exist" not in text(screen.query_one(StatusLine))


async def test_z_fills_the_screen_with_the_step_list() -> None:
    app = build_app(SAMPLES / "discount_over_cap.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("z")
        await pilot.pause()
        assert app.debugger.query_one(SpanTree).outer_size.width == SIZE[0]


def test_light_theme_pane_divider_stands_out() -> None:
    from textual.color import Color

    from trace_tui.themes import load_themes

    for item in load_themes():
        divider = Color.parse(item.theme.variables["pane-divider"])
        for name in ("panel", "surface", "background"):
            behind = Color.parse(getattr(item.theme, name))
            assert abs(divider.brightness - behind.brightness) > 0.1, (item.theme.name, name)
