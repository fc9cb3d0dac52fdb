"""Pilot tests of fork, replay, branches and branch diff in the debugger (``F``, ``b``, ``d``).

A copy of ``discount_over_cap.jsonl`` in ``tmp_path`` is forked at step 5 with the loyalty
discount edited from 35 to 15 in the fork editor; the replay stops for a model response at step
6, the answer is typed in the manual-answer modal, and the debugger ends up on the saved branch.
Apps are built with ``build_app``, the factory the CLI uses.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.widget import Widget
from textual.widgets import OptionList

from support import SAMPLES
from trace_tui.tui.app import TraceApp, build_app
from trace_tui.tui.diff.screen import DiffScreen
from trace_tui.tui.diff.steps import AlignedSteps
from trace_tui.tui.screens.answer import AnswerScreen
from trace_tui.tui.screens.branches import BranchesScreen
from trace_tui.tui.screens.debugger import DebuggerScreen
from trace_tui.tui.screens.fork_editor import ForkEditorScreen
from trace_tui.tui.widgets.status import StatusLine

SIZE = (120, 36)
SAMPLE = "discount_over_cap.jsonl"
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


@pytest.fixture
def trace(tmp_path: Path) -> Path:
    """A copy of the sample, so its ``.trace-tui/`` lands in ``tmp_path``."""
    target = tmp_path / SAMPLE
    shutil.copyfile(SAMPLES / SAMPLE, target)
    return target


def text(widget: Widget) -> str:
    """The widget's rendered text."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    return "\n".join(strip.text for strip in widget.render_lines(region))


async def settle(app: TraceApp, pilot: Any, rounds: int = 4) -> None:
    """Let workers finish and the messages they posted be handled (chains of workers too)."""
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def go_to(pilot: Any, step: int) -> None:
    """Jump to ``step`` with ``:``."""
    await pilot.press("colon", *str(step), "enter")
    await pilot.pause()


def branch_files(trace: Path) -> list[Path]:
    return sorted((trace.parent / ".trace-tui").glob("*.jsonl"))


def head(path: Path) -> dict[str, Any]:
    """The branch record of a branch file."""
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record.get("type") == "branch":
            return record
    raise AssertionError(f"{path} has no branch record")


async def fork_discount(app: TraceApp, pilot: Any) -> ForkEditorScreen:
    """F on step 5 and the discount edited from 35 to 15 in the editor (not yet saved)."""
    await settle(app, pilot)
    await go_to(pilot, 5)
    await pilot.press("F")
    await pilot.pause()
    editor = app.screen
    assert isinstance(editor, ForkEditorScreen)
    shown = editor.text_area.text
    assert '"discount_pct": 35' in shown and '"span_id": "dis-0005"' in shown
    editor.text_area.load_text(shown.replace('"discount_pct": 35', '"discount_pct": 15'))
    await pilot.pause()
    assert editor.edits == [{"op": "replace", "value": 15,
                             "path": "/attributes/gen_ai.tool.call.result/discount_pct"}]
    assert "1 edit(s)" in text(editor.query_one("#fork-edits"))
    return editor


async def make_branch(app: TraceApp, pilot: Any, trace: Path) -> Path:
    """Fork, answer step 6 by hand, and return the completed branch's path."""
    await fork_discount(app, pilot)
    await pilot.press("ctrl+s")
    await settle(app, pilot)
    answer = app.screen
    assert isinstance(answer, AnswerScreen)
    answer.text_area.load_text("I can apply 15 %.")
    await pilot.press("ctrl+s")
    await settle(app, pilot)
    (path,) = branch_files(trace)
    return path


async def test_fork_stops_for_a_model_answer_then_completes(trace: Path) -> None:
    original = trace.read_bytes()
    app = build_app(trace)
    async with app.run_test(size=SIZE) as pilot:
        await fork_discount(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)

        (path,) = branch_files(trace)
        record = head(path)
        assert record["fork_step"] == 5 and record["status"] == "needs_model_response"
        assert record["edits"] == [{"op": "replace", "value": 15,
                                    "path": "/attributes/gen_ai.tool.call.result/discount_pct"}]
        answer = app.screen
        assert isinstance(answer, AnswerScreen)
        assert answer.pending.kind == "model" and answer.pending.step_number == 6
        title = text(answer.query(".answer-title").first())
        assert "needs a model response at step 6" in title
        context = text(answer.query_one("#answer-context Static"))
        assert "differs from step 6 in gen_ai.input.messages" in context
        assert "tool: " in context  # the edited tool result the model would see

        answer.text_area.load_text("I can apply 15 %.")
        await pilot.press("ctrl+s")
        await settle(app, pilot)

        assert head(path)["status"] == "complete"
        screen = app.screen
        assert isinstance(screen, DebuggerScreen)
        assert Path(screen.source.path) == path
        assert screen.complete and screen.count > 0
        status = text(screen.query_one(StatusLine))
        assert "branch step5-" in status and "(complete)" in status
    assert trace.read_bytes() == original


async def test_escape_keeps_the_branch_stopped_and_shows_it(trace: Path) -> None:
    app = build_app(trace)
    async with app.run_test(size=SIZE) as pilot:
        await fork_discount(app, pilot)
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert isinstance(app.screen, AnswerScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        (path,) = branch_files(trace)
        assert head(path)["status"] == "needs_model_response"
        assert isinstance(app.screen, DebuggerScreen)
        assert Path(app.screen.source.path) == path


async def test_bad_json_is_refused_in_the_editor(trace: Path) -> None:
    app = build_app(trace)
    async with app.run_test(size=SIZE) as pilot:
        editor = await fork_discount(app, pilot)
        editor.text_area.load_text(editor.text_area.text.replace('"kind": "tool"',
                                                                 '"kind": "llm"'))
        await pilot.pause()
        assert "kind cannot be edited" in text(editor.query_one("#fork-error"))
        await pilot.press("ctrl+s")  # greyed out: nothing happens
        await settle(app, pilot)
        assert app.screen is editor and not branch_files(trace)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DebuggerScreen)


async def test_branch_list_switches_between_branch_and_original(trace: Path) -> None:
    original = trace.read_bytes()
    app = build_app(trace)
    async with app.run_test(size=SIZE) as pilot:
        path = await make_branch(app, pilot, trace)
        assert Path(app.debugger.source.path) == path
        await pilot.press("b")
        await settle(app, pilot)
        listing = app.screen
        assert isinstance(listing, BranchesScreen)
        options = listing.query_one(OptionList)
        rows = "\n".join(str(options.get_option_at_index(i).prompt)
                         for i in range(options.option_count))
        assert SAMPLE in rows and "step5-" in rows and "@ step 5, 1 edit" in rows
        assert "● └ discount_over_cap--step5-" in rows  # the branch on screen, by its file
        await pilot.press("up", "enter")  # back to the original trace
        await settle(app, pilot)
        assert Path(app.debugger.source.path) == trace
        assert "1 branch" in text(app.debugger.query_one(StatusLine))
        await pilot.press("b")
        await settle(app, pilot)
        await pilot.press("down", "enter")
        await settle(app, pilot)
        assert Path(app.debugger.source.path) == path
    assert trace.read_bytes() == original


async def test_d_on_a_branch_opens_the_diff_at_the_fork(trace: Path) -> None:
    app = build_app(trace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.debugger.check_action("diff_parent", ()) is None  # not a branch
        await make_branch(app, pilot, trace)
        assert app.debugger.check_action("diff_parent", ()) is True
        await pilot.press("d")
        await settle(app, pilot)
        diff = app.screen
        assert isinstance(diff, DiffScreen) and diff.diff is not None
        row = diff.diff.rows[diff.query_one(AlignedSteps).cursor]
        assert row.status == "changed"
        assert diff.diff.first_divergence == 4  # step 5, the edited tool result
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, DebuggerScreen)


async def test_compare_with_asks_for_a_path(trace: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.jsonl"
    other.write_text(trace.read_text(encoding="utf-8").replace('"discount_pct": 35',
                                                               '"discount_pct": 15'),
                     encoding="utf-8")
    app = build_app(trace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await app.debugger.run_action("diff_with")  # palette: "diff: Compare with…"
        await pilot.pause()
        await pilot.press(*str(other), "enter")
        await settle(app, pilot)
        diff = app.screen
        assert isinstance(diff, DiffScreen) and diff.diff is not None
        assert diff.labels == (SAMPLE, "other.jsonl")
        assert diff.diff.first_divergence == 4
