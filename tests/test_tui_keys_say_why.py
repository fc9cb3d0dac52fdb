"""The screen a new user meets (issue 14): prompts show what is typed, every key either acts or
says in the status line why it did not, ``t`` reaches retrieval steps, a filter never leaves
the cursor on a hidden step, and the palette offers only our own themes. Pilot tests at 80x24
on the sample traces, built with ``build_app`` like the CLI."""

from __future__ import annotations

import os
from typing import Any

import pytest
from textual.widgets import Input

from support import SAMPLES
from trace_tui.tui.app import TraceApp, build_app
from trace_tui.tui.screens.fork_editor import ForkEditorScreen
from trace_tui.tui.screens.prompt import PromptScreen
from trace_tui.tui.widgets.span_tree import SpanTree
from trace_tui.tui.widgets.status import StatusLine, StatusModel

SIZE = (80, 24)
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


async def loaded(app: TraceApp, pilot: Any) -> None:
    """Wait until the reader has read the whole (finished) trace."""
    await app.workers.wait_for_complete()
    await pilot.pause()


def status(app: TraceApp) -> str:
    """The status line as plain text."""
    return app.debugger.query_one(StatusLine).render().plain


@pytest.mark.parametrize("key,typed", [("colon", "5"), ("slash", "refund"),
                                       ("ampersand", "kind:tool")])
async def test_prompts_show_the_typed_text_at_80x24(key: str, typed: str) -> None:
    app = build_app(SAMPLES / "discount_over_cap.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press(key, *typed)
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        field = app.screen.query_one(Input)
        assert field.content_region.height == 1  # a row for the text, not only borders
        assert typed in field.render_line(0).text


async def test_keys_that_cannot_act_say_why_in_the_status_line() -> None:
    app = build_app(SAMPLES / "discount_over_cap.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("e")  # to step 7, the only error
        assert app.debugger.cursor.position == 6
        await pilot.press("e")
        assert "no failed step after step 7" in status(app)
        await pilot.press("d")
        assert "not a branch" in status(app)
        await pilot.press("n")
        assert "/ searches first" in status(app)
        await pilot.press("G", "t")
        assert "no tool or retrieval call after step 8" in status(app)
        await pilot.press("f")  # opened, not tailed
        assert "trace-tui tail" in status(app)
        await pilot.press("g", "k")
        assert "already on the first step" in status(app)


async def test_palette_command_that_cannot_run_says_why() -> None:
    from trace_tui.tui.commands import _run

    app = build_app(SAMPLES / "empty_retrieval_fabrication.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await _run(app.debugger, "error(1)")()
        assert "no failed step in this run" in status(app)


async def test_t_jumps_to_retrieval_steps() -> None:
    app = build_app(SAMPLES / "empty_retrieval_fabrication.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("t")
        screen = app.debugger
        assert screen.load_step(screen.cursor.position).kind == "retrieval"


async def test_filter_moves_the_cursor_off_a_hidden_step() -> None:
    app = build_app(SAMPLES / "discount_over_cap.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("j")  # step 2, a model call
        await pilot.press("ampersand", *"kind:tool", "enter")
        await pilot.pause()
        screen = app.debugger
        tree = screen.query_one(SpanTree)
        assert tree.visibility.row_of(screen.cursor.position) is not None
        await pilot.press("ampersand", "enter", "j", "j", "j", "j")  # clear; to step 6
        await pilot.press("minus")  # collapse all: step 6 is hidden under step 1
        await pilot.pause()
        assert tree.visibility.row_of(screen.cursor.position) is not None


async def test_palette_has_our_themes_not_textuals_picker() -> None:
    app = build_app(SAMPLES / "discount_over_cap.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Theme" not in titles and "Keys" not in titles and "Quit" in titles


async def test_fork_editor_ctrl_o_without_editor_says_so(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    monkeypatch.delenv("EDITOR", raising=False)
    assert "EDITOR" not in os.environ
    app = build_app(SAMPLES / "discount_over_cap.jsonl")
    async with app.run_test(size=(60, 15)) as pilot:
        await loaded(app, pilot)
        await pilot.press("F")
        await pilot.pause()
        assert isinstance(app.screen, ForkEditorScreen)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert "$EDITOR is not set" in str(app.screen.query_one("#fork-error").render())
        assert app.screen.text_area.size.height >= 4  # room to edit at 60x15


async def test_status_says_one_bad_line() -> None:
    app = build_app(SAMPLES / "discount_over_cap.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        line = app.debugger.query_one(StatusLine)
        line.show(StatusModel(file_name="t.jsonl", format_name="native", steps=3,
                              complete=True, problems=1))
        plain = line.render().plain
        assert "1 bad line" in plain and "bad lines" not in plain


async def test_inspector_keys_that_cannot_act_say_why() -> None:
    app = build_app(SAMPLES / "discount_over_cap.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("j", "c", "enter")  # step 2 in the chat view; focus the inspector
        await pilot.press("g", "enter")  # the heading line: nothing to fold or expand
        assert "nothing to fold" in status(app)


async def test_footer_keeps_q_quit_at_60_columns_in_tail_mode() -> None:
    from test_readme_capture import screen_lines

    app = build_app(SAMPLES / "discount_over_cap.jsonl", follow=True)
    async with app.run_test(size=(60, 15)) as pilot:
        screen = app.debugger
        for _ in range(500):  # following: wait for the steps, not for the reader to stop
            if screen.count == 8:
                break
            await pilot.pause(0.02)
        await pilot.pause()
        footer = screen_lines(app.export_screenshot())[-1]
        assert "F Fork" in footer and "q Quit" in footer and "f Follow" in footer
