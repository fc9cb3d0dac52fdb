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
