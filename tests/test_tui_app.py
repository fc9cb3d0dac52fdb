"""Pilot tests of the debugger screen: real key presses on the sample traces, asserting what
each pane shows. Apps are built with ``build_app``, the factory the CLI uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.widget import Widget

from support import SAMPLES, eventually_async
from trace_tui.core.reading.reader import TraceOpenError
from trace_tui.tui.app import TraceApp, build_app
from trace_tui.tui.screens.help import HelpScreen
from trace_tui.tui.widgets.doc_view import DocumentView
from trace_tui.tui.widgets.gauge import UNKNOWN_WINDOW, ContextGauge
from trace_tui.tui.widgets.inspector import Inspector
from trace_tui.tui.widgets.span_tree import SpanTree
from trace_tui.tui.widgets.status import StatusLine
from trace_tui.tui.widgets.timeline import StepBar

SIZE = (120, 36)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


def lines(widget: Widget) -> list[str]:
    """The widget's rendered lines as plain text."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    return [strip.text for strip in widget.render_lines(region)]


def text(widget: Widget) -> str:
    """The widget's rendered text."""
    return "\n".join(lines(widget))


async def loaded(app: TraceApp, pilot: Any) -> None:
    """Wait until the reader has read the whole (finished) trace."""
    await app.workers.wait_for_complete()
    await pilot.pause()


def sample(name: str) -> Path:
    return SAMPLES / name


async def test_open_shows_every_pane() -> None:
    app = build_app(sample("discount_over_cap.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        screen = app.debugger
        tree = text(screen.query_one(SpanTree))
        assert "support_agent" in tree and "get_loyalty_discount" in tree
        assert "✖ apply_discount" in tree  # the error stands out with its own symbol
        assert "900ms" in tree and "412→21" in tree  # duration and tokens per row
        assert "#1/8" in text(screen.query_one("#inspector-summary"))
        assert '"span_id": "dis-0001"' in text(screen.query_one(DocumentView))
        assert "no model call yet at step 1" in text(screen.query_one(ContextGauge))
        status = text(screen.query_one(StatusLine))
        assert "step 1/8" in status and "1 error" in status
        assert "discount_over_cap.jsonl · native" in status
        assert "1/8" in text(screen.query_one(StepBar))


async def test_time_travel_keys_move_every_pane() -> None:
    app = build_app(sample("discount_over_cap.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        screen = app.debugger
        tree = screen.query_one(SpanTree)
        await pilot.press("j", "j", "j")
        assert screen.cursor.position == 3
        assert "#4/8" in text(screen.query_one("#inspector-summary"))
        assert "step 4" in text(screen.query_one(ContextGauge))
        assert "step 4/8" in text(screen.query_one(StatusLine))
        # later steps are dimmed, earlier ones are not; the parent is "running" at step 4
        future = tree.get_component_rich_style("span-tree--future").color
        later = tree.render_line(6)
        earlier = tree.render_line(2)
        assert any(seg.style and seg.style.color == future for seg in later)
        assert not any(seg.style and seg.style.color == future for seg in earlier)
        assert "running" in tree.render_line(0).text
        await pilot.press("e")
        assert screen.cursor.position == 6  # the failed apply_discount
        assert screen.check_action("error", (1,)) is None  # no later error: greyed out
        await pilot.press("left_square_bracket")
        assert screen.cursor.position == 5
        await pilot.press("exclamation_mark")
        assert screen.cursor.position == 6
        await pilot.press("T")
        assert screen.cursor.position == 4
        await pilot.press("g")
        assert screen.cursor.position == 0
        assert screen.check_action("step", (-1,)) is None
        await pilot.press("G")
        assert screen.cursor.position == 7
        await pilot.press("colon", "3", "enter")
        assert screen.cursor.position == 2
        await pilot.press("colon", "9", "9", "enter")  # out of range: a warning, no move
        assert screen.cursor.position == 2


async def test_inspector_views_chat_context_raw_and_pointer_copy() -> None:
    app = build_app(sample("discount_over_cap.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        screen = app.debugger
        doc = screen.query_one(DocumentView)
        await pilot.press("j", "j", "j", "j")  # step 5: get_loyalty_discount
        await pilot.press("c")
        chat = text(doc)
        assert "tool call get_loyalty_discount" in chat and "discount_pct" in chat
        await pilot.press("x")
        context = text(doc)
        assert "what the model saw at step 5" in context
        assert "tools offered" in context and "system" in context
        await pilot.press("r")
        raw = [ln.text for ln in doc.lines]
        assert raw[0].startswith("line ") and '"span_id": "dis-0005"' in "".join(raw)
        await pilot.press("p", "enter")  # payload view, focus the document
        assert screen.focused is doc
        target = next(i for i, ln in enumerate(doc.lines)
                      if ln.anchor == "/attributes/gen_ai.tool.call.result/discount_pct")
        doc.action_move(target - 1)
        await pilot.press("j")
        pointer = text(screen.query_one("#inspector-pointer"))
        assert "/attributes/gen_ai.tool.call.result/discount_pct" in pointer
        await pilot.press("y")
        assert app.clipboard == "/attributes/gen_ai.tool.call.result/discount_pct"
        await pilot.press("Y")
        assert app.clipboard == "35"
        # fold the result object: its children disappear
        parent = next(i for i, ln in enumerate(doc.lines)
                      if ln.anchor == "/attributes/gen_ai.tool.call.result")
        doc.action_move(parent - target + 1)
        await pilot.press("k", "enter")
        assert not any(ln.anchor == "/attributes/gen_ai.tool.call.result/discount_pct"
                       for ln in doc.lines)
        await pilot.press("escape")
        assert screen.focused is screen.query_one(SpanTree)


async def test_search_filter_and_collapse() -> None:
    app = build_app(sample("tool_loop_no_progress.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        screen = app.debugger
        tree = screen.query_one(SpanTree)
        await pilot.press("slash", *"kind:tool", "enter")
        assert screen.cursor.position == 2
        await pilot.press("n")
        assert screen.cursor.position == 4
        await pilot.press("N")
        assert screen.cursor.position == 2
        await pilot.press("ampersand", *"kind:llm", "enter")
        assert tree.row_count == 7  # six model calls and their agent
        assert "filter kind:llm" in text(screen.query_one(StatusLine))
        assert "check_shipment_status" not in text(tree)
        await pilot.press("escape")
        assert tree.row_count == 13
        await pilot.press("g", "space")  # collapse the root
        assert tree.row_count == 1 and "▸" in tree.render_line(0).text
        await pilot.press("right")
        assert tree.row_count == 13
        await pilot.press("minus")
        assert tree.row_count == 1
        await pilot.press("plus")
        assert tree.row_count == 13
        await pilot.press("e")  # the agent failed: step 1
        assert screen.cursor.position == 0


async def test_gauge_warns_and_reports_truncation() -> None:
    app = build_app(sample("system_prompt_evicted.jsonl"))
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(app, pilot)
        screen = app.debugger
        gauge = screen.query_one(ContextGauge)
        screen.move_to(6)  # 97 % of acme-support-8k's window (input + output)
        await pilot.pause()
        shown = text(gauge)
        assert "97%" in shown and "above 80% of the window" in shown
        assert "exact" in shown and "≈" in shown  # totals exact, split estimated
        screen.move_to(7)  # the call after the eviction
        await pilot.pause()
        shown = text(gauge)
        assert "system prompt missing" in shown and "truncated" in shown
        assert "97% @ step 7" in shown  # the peak (here also the run's peak), as its headline
        await pilot.press("x")
        assert "no system prompt was sent" in text(screen.query_one(DocumentView))


async def test_unknown_window_is_said_and_override_fixes_it(write_trace: Any) -> None:
    records = [
        {"type": "span", "span_id": "a", "parent_id": None, "kind": "llm", "name": "chat",
         "start_time": 1.0, "end_time": 2.0, "status": "ok",
         "attributes": {"gen_ai.request.model": "mystery-model-9",
                        "gen_ai.usage.input_tokens": 600, "gen_ai.usage.output_tokens": 100}},
    ]
    path = write_trace(records)
    app = build_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        shown = text(app.debugger.query_one(ContextGauge))
        assert UNKNOWN_WINDOW in shown
        assert "░" in shown and "█" not in shown  # the split only: never a full bar
    app = build_app(path, context_windows=["mystery-model-9=1000"])
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        shown = text(app.debugger.query_one(ContextGauge))
        assert "70%" in shown and UNKNOWN_WINDOW not in shown and "█" in shown


def _span(n: int, parent: str | None = "s0", kind: str = "tool") -> dict[str, Any]:
    return {"type": "span", "span_id": f"s{n}", "parent_id": parent, "kind": kind,
            "name": f"step-{n}", "start_time": float(n), "end_time": n + 0.5, "status": "ok",
            "attributes": {}}


async def _until(pilot: Any, condition: Any) -> None:
    """Let the app run until ``condition()`` holds (the reader thread posts on its own)."""
    await eventually_async(condition, pilot.pause)


def _append(path: Path, records: list[dict[str, Any]]) -> None:
    with open(path, "a", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")


async def test_tail_follows_pins_and_resumes(write_trace: Any) -> None:
    path = write_trace([_span(0, None, "agent"), _span(1), _span(2)])
    app = build_app(path, follow=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.debugger
        await _until(pilot, lambda: screen.count == 3)
        assert screen.cursor.position == 2 and screen.cursor.following
        assert "● following" in text(screen.query_one(StatusLine))
        _append(path, [_span(3), _span(4)])
        await _until(pilot, lambda: screen.count == 5)
        assert screen.cursor.position == 4  # followed the new steps
        await pilot.press("k")
        assert not screen.cursor.following
        _append(path, [_span(5), _span(6)])
        await _until(pilot, lambda: screen.count == 7)
        assert screen.cursor.position == 3
        status = text(screen.query_one(StatusLine))
        assert "⏸ pinned" in status and "2 new steps" in status
        await pilot.press("f")
        assert screen.cursor.position == 6 and screen.cursor.following


async def test_help_palette_themes_and_panes() -> None:
    app = build_app(sample("discount_over_cap.jsonl"), theme="light")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        screen = app.debugger
        assert app.theme == "trace-light"
        for pane in ("#tree", "#inspector", "#gauge", "#stepbar", "#status"):
            assert screen.query_one(pane).size.area > 0, pane  # all usable at 80x24
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert app.screen is screen
        await pilot.press("ctrl+p")
        await pilot.press(*"first error", "enter")
        await pilot.pause()
        assert screen.cursor.position == 6
        await pilot.press("ctrl+t")
        assert app.theme != "trace-light"
        await pilot.press("3")
        assert not screen.query_one("#gauge").display
        await pilot.press("1")
        assert not screen.query_one("#tree").display
        await pilot.press("2")  # the inspector stays: it is the last main pane
        assert screen.query_one(Inspector).display
        await pilot.press("1", "3", "z")
        assert screen.maximized is not None
        await pilot.press("z")
        assert screen.maximized is None


async def test_hide_future_steps() -> None:
    app = build_app(sample("discount_over_cap.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tree = app.debugger.query_one(SpanTree)
        await pilot.press("j", "j", "H")
        assert tree.row_count == 3
        await pilot.press("right_square_bracket")
        assert tree.row_count == 4


def test_missing_file_fails_before_the_app_starts(tmp_path: Path) -> None:
    with pytest.raises(TraceOpenError):
        build_app(tmp_path / "nope.jsonl")
    with pytest.raises(ValueError, match="unknown theme"):
        build_app(sample("discount_over_cap.jsonl"), theme="sepia")


def test_cli_open_missing_file_is_one_line(tmp_path: Path, capsys: Any) -> None:
    from trace_tui.cli.commands import main

    assert main(["open", str(tmp_path / "nope.jsonl")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such file" in err[0]


async def test_mouse_reaches_tree_step_bar_and_views() -> None:
    app = build_app(sample("discount_over_cap.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        screen = app.debugger
        await pilot.click("#tree", offset=(10, 5))  # the fifth row (row 0 is the border)
        assert screen.cursor.position == 4
        bar = screen.query_one(StepBar)
        await pilot.click("#stepbar", offset=(bar.size.width - 2, 0))  # the last slice
        assert screen.cursor.position == 7
        await pilot.click("#inspector-modes", offset=(12, 0))  # "Chat"
        assert screen.query_one(Inspector).mode == "chat"


async def test_theme_switch_restyles_and_no_color_picks_high_contrast(
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = build_app(sample("discount_over_cap.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tree = app.debugger.query_one(SpanTree)
        before = tree.render_line(1)
        app.theme = "trace-light"
        await pilot.pause()
        after = tree.render_line(1)
        assert before.text == after.text
        assert [s.style for s in before] != [s.style for s in after]
        assert app.debugger.query_one(DocumentView).code_style == "default"
    monkeypatch.setenv("NO_COLOR", "1")
    app = build_app(sample("discount_over_cap.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert app.no_color and app.theme == "trace-high-contrast"
        # colours become greys, so the cursor row is drawn in reverse video too
        tree = app.debugger.query_one(SpanTree)
        assert tree.get_component_rich_style("span-tree--cursor").reverse


async def test_big_run_paths_use_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Collapse, filter and search take the worker path that million-step runs use."""
    import trace_tui.tui.screens.finding as finding
    import trace_tui.tui.widgets.span_tree as span_tree

    monkeypatch.setattr(span_tree, "SYNC_REBUILD_LIMIT", 0)
    monkeypatch.setattr(finding, "SYNC_FIND_LIMIT", 0)
    app = build_app(sample("tool_loop_no_progress.jsonl"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        screen = app.debugger
        tree = screen.query_one(SpanTree)
        await pilot.press("space")
        await loaded(app, pilot)
        assert tree.row_count == 1
        await pilot.press("ampersand", *"kind:tool", "enter")
        await loaded(app, pilot)
        assert tree.row_count == 7 and tree.visibility.match_count == 6
        await pilot.press("slash", *"name:check", "enter")
        await loaded(app, pilot)
        assert screen.cursor.position == 2
        await pilot.press("escape", "minus")
        await loaded(app, pilot)
        assert tree.row_count == 1


async def test_claude_code_bookkeeping_is_folded_and_esc_shows_it() -> None:
    """A Claude Code session opens on its turns, model and tool calls; the attachments,
    queue operations and other notes the agent keeps are one key (Esc) away."""
    from support import FOREIGN

    app = build_app(FOREIGN / "claude-code" / "claude-code-2.1.328_orders.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.pause()
        screen = app.debugger
        tree = screen.query_one(SpanTree)
        shown = text(tree)
        assert tree.row_count < screen.count == 25
        assert "attachment" not in shown and "queue-operation" not in shown
        assert "Bash" in shown and "chat claude-sonnet-4-5" in shown
        await pilot.press("escape")
        await pilot.pause()
        assert tree.row_count == 25 and "attachment" in text(tree)
