"""A key press repaints only what changed (the tree's two cursor lines, panes whose content is
the same are left alone, documents and lines are reused from caches): after every key the
screen must look exactly as it does once every widget is drawn again from scratch.

Differential: each sample trace, a run of movement keys at 80x24 (the tree scrolls; one also
at 120x36); after each key the screenshot is compared with the one taken after a full repaint.
"""

from __future__ import annotations

from typing import Any

import pytest

from support import SAMPLE_FILES, pristine_sample
from trace_tui.tui.app import TraceApp, build_app
from trace_tui.tui.widgets.inspector import Inspector

pytestmark = pytest.mark.anyio

KEYS = ("j", "j", "k", "e", "j", "t", "E", "G", "k", "g", "pagedown", "j", "x", "j", "c", "k",
        "p", "minus", "j", "plus")


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


async def full_repaint(app: TraceApp, pilot: Any) -> str:
    """The screen after every widget was drawn again from scratch."""
    for widget in app.screen.query("*"):
        widget.refresh()
    await pilot.pause()
    return app.export_screenshot()


CASES = [(p.name, (80, 24)) for p in SAMPLE_FILES] + [("discount_over_cap.jsonl", (120, 36))]


@pytest.mark.parametrize(("sample", "size"), CASES, ids=[f"{n}-{w}x{h}" for n, (w, h) in CASES])
async def test_each_key_leaves_the_screen_as_a_full_repaint_draws_it(
    sample: str, size: tuple[int, int], tmp_path: Any
) -> None:
    app = build_app(pristine_sample(tmp_path, sample), theme="dark")
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        moved = 0
        for key in KEYS:
            before = app.debugger.cursor.position
            await pilot.press(key)
            await pilot.pause()
            moved += app.debugger.cursor.position != before
            shown = app.export_screenshot()
            assert shown == await full_repaint(app, pilot), f"after {key!r}"
        assert moved >= len(KEYS) // 2  # the keys did move the cursor


async def test_a_document_shown_again_is_the_one_built_afresh(tmp_path: Any) -> None:
    """Going back to a step reuses its document, unless it was folded, expanded or revealed
    since: after every key the document shown equals one built from scratch."""
    app = build_app(pristine_sample(tmp_path, "discount_over_cap.jsonl"), theme="dark")
    keys = ("G", "g", "G", "enter", "enter", "escape", "g", "G", "enter", "down", "enter",
            "escape", "g", "G", "c", "g", "G", "p", "g", "G")
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        inspector = app.debugger.query_one(Inspector)
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
            focus = inspector._focus
            assert focus is not None
            width = max(20, inspector.document.scrollable_content_region.width - 1)
            fresh = [ln.pieces for ln in inspector._build(focus, width)]
            assert [ln.pieces for ln in inspector.document.lines] == fresh, f"after {key!r}"
