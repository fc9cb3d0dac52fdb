"""What keeps ``g``/``G`` and ``e``/``E`` cheap on a big trace (issue 15) still shows the right
thing: the footer dims "Next error" past the last error and undims it before, in place (the same
key widgets, no rebuild) and a click on a dimmed key does nothing; the step bar keeps its width
wherever the cursor is, reuses its cells while the run grows a little and is exact once read;
the inspector never scrolls past its document's end when it keeps a larger virtual size from a
longer step; a newer reader progress report supersedes a waiting one. Pilot tests built with
``build_app`` like the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widget import Widget

from support import SAMPLES
from trace_tui.core.navigation.run_facts import RunFacts
from trace_tui.core.reading.reader import open_run
from trace_tui.themes import theme_variable_defaults
from trace_tui.tui.app import TraceApp, build_app
from trace_tui.tui.gc_policy import IdleCollector
from trace_tui.tui.messages import ReaderProgress, ReaderReset
from trace_tui.tui.widgets.doc_view import DocumentView
from trace_tui.tui.widgets.key_footer import KeyFooter
from trace_tui.tui.widgets.timeline import StepBar

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


async def loaded(app: TraceApp, pilot: Any) -> None:
    """Wait until the reader has read the whole (finished) trace."""
    await app.workers.wait_for_complete()
    await pilot.pause()


def footer_keys(app: TraceApp) -> dict[str, Widget]:
    """The footer's key widgets by action."""
    footer = app.debugger.query_one(KeyFooter)
    return {str(vars(w)["action"]): w for w in footer.query("FooterKey")}


def dimmed(widget: Widget) -> bool:
    """Whether a footer key looks dimmed (Textual's class or our in-place ``disabled``)."""
    return widget.has_class("-disabled") or widget.disabled


async def test_next_error_dims_past_the_last_error_in_place_and_a_dimmed_click_does_nothing(
) -> None:
    app = build_app(SAMPLES / "discount_over_cap.jsonl")
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(app, pilot)
        screen = app.debugger
        last_error = screen.facts.prev_error(screen.count)
        assert last_error is not None and last_error < screen.count - 1
        before = footer_keys(app)
        assert not dimmed(before["error(1)"])
        await pilot.press("G")
        await pilot.pause()
        after = footer_keys(app)
        assert dimmed(after["error(1)"]), "no error after the last step: Next error is dimmed"
        assert all(after[a] is before[a] for a in before), "the footer was rebuilt"
        await pilot.click(after["error(1)"])
        await pilot.pause()
        assert screen.cursor.position == screen.count - 1, "a dimmed key must not act"
        await pilot.press("g")
        await pilot.pause()
        again = footer_keys(app)
        assert not dimmed(again["error(1)"]) and again["error(1)"] is before["error(1)"]
        await pilot.click(again["error(1)"])
        await pilot.pause()
        assert screen.cursor.position == screen.facts.next_error(0)


async def test_a_key_built_dimmed_is_undimmed_by_a_rebuild() -> None:
    """Opened past the last error the key is built dimmed; becoming available rebuilds the
    footer (Textual's click handler of the old key would still ring the bell)."""
    app = build_app(SAMPLES / "discount_over_cap.jsonl")
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(app, pilot)
        screen = app.debugger
        screen.move_to(screen.count - 1)
        await pilot.pause()
        footer = app.debugger.query_one(KeyFooter)
        footer.call_later(footer.recompose)  # as Textual builds it at the end of the run
        await pilot.pause()
        await pilot.pause()
        built = footer_keys(app)["error(1)"]
        assert built.has_class("-disabled")
        await pilot.press("g")
        await pilot.pause()
        await pilot.pause()
        rebuilt = footer_keys(app)["error(1)"]
        assert rebuilt is not built and not dimmed(rebuilt)
        await pilot.click(rebuilt)
        await pilot.pause()
        assert screen.cursor.position == screen.facts.next_error(0)


async def test_step_bar_keeps_its_width_wherever_the_cursor_is() -> None:
    app = build_app(SAMPLES / "system_prompt_evicted.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        bar = app.debugger.query_one(StepBar)
        first = bar.render_line(0).text
        await pilot.press("G")
        await pilot.pause()
        last = bar.render_line(0).text
        count = app.debugger.count
        assert count >= 10 and f" 1/{count} " in first and f" {count}/{count} " in last
        assert first.index("/") == last.index("/"), "the label changed width"
        assert len(first.rstrip()) == len(last.rstrip())


async def test_inspector_never_scrolls_past_a_short_document() -> None:
    app = build_app(SAMPLES / "discount_over_cap.jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(app, pilot)
        view = app.debugger.query_one(DocumentView)
        sizes = []
        for index in range(app.debugger.count):
            app.debugger.move_to(index)
            await pilot.pause()
            sizes.append((len(view.lines), index))
        longest, shortest = max(sizes)[1], min(sizes)[1]
        app.debugger.move_to(longest)
        await pilot.pause()
        app.debugger.move_to(shortest)
        await pilot.pause()
        view.scroll_to(x=10_000, y=10_000, animate=False, immediate=True)
        await pilot.pause()
        height = view.scrollable_content_region.height
        width = view.scrollable_content_region.width
        widest = max(line.width for line in view.lines)
        assert view.scroll_offset.y <= max(0, len(view.lines) - height)
        assert view.scroll_offset.x <= max(0, widest - width)


def _growing_trace(path: Path, steps: int) -> Path:
    """Model calls whose prompt grows, then one huge prompt in the last step."""
    with open(path, "w", encoding="utf-8") as out:
        for n in range(steps):
            tokens = 100_000 if n == steps - 1 else 100 + n
            out.write(json.dumps({
                "type": "span", "span_id": f"s{n}", "kind": "llm", "name": f"call {n}",
                "start_time": float(n), "end_time": n + 0.5, "status": "ok",
                "attributes": {"gen_ai.usage.input_tokens": tokens}}) + "\n")
    return path


class _BarApp(App[None]):
    def __init__(self, facts: RunFacts) -> None:
        super().__init__()
        self.facts = facts

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return theme_variable_defaults()

    def compose(self) -> ComposeResult:
        yield StepBar(self.facts)


async def test_step_bar_while_growing_reuses_its_cells_and_is_exact_once_settled(
        tmp_path: Path) -> None:
    run = open_run(_growing_trace(tmp_path / "grow.jsonl", 640))
    facts = RunFacts()
    facts.scan(run, 635)
    async with _BarApp(facts).run_test(size=(80, 3)) as pilot:
        bar = pilot.app.query_one(StepBar)
        bar.show(635, 0, settled=False)
        await pilot.pause()
        early = bar.render_line(0).text
        while facts.scan(run):
            pass
        bar.show(640, 0, settled=False)  # grew by less than 1/64: the same cells
        await pilot.pause()
        assert bar.render_line(0).text.split("/640 ")[-1] == early.split("/635 ")[-1]
        bar.show(640, 0, settled=True)  # read to the end: the huge last prompt shows
        await pilot.pause()
        settled = bar.render_line(0).text.split("/640 ")[-1]
        assert settled != early.split("/635 ")[-1] and settled.rstrip()[-1] == "█"
        assert set(settled.rstrip()[:-4]) <= {"▁"}, settled


def test_a_newer_progress_report_supersedes_a_waiting_one() -> None:
    run = open_run(SAMPLES / "discount_over_cap.jsonl")
    older = ReaderProgress(run, 4, scanned=4, progress=0.5, complete=False)
    newer = ReaderProgress(run, 8, scanned=8, progress=1.0, complete=True)
    assert older.can_replace(newer)
    assert not older.can_replace(ReaderReset(run, None))


def test_the_reader_waits_only_after_a_real_key_press() -> None:
    """A new app has had no key press: its reader must not wait (the first screen would)."""
    now = [100.0]
    collector = IdleCollector(clock=lambda: now[0])
    assert not collector.input_within(0.2)
    now[0] += 5.0
    collector.note_input()
    assert collector.input_within(0.2)
    now[0] += 0.3
    assert not collector.input_within(0.2)
