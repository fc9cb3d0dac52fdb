"""Snapshot tests of the debugger screen (pytest-textual-snapshot) on two sample traces at
80x24 and 160x48. Update with ``pytest tests/test_tui_snapshots.py --snapshot-update`` after a
deliberate visual change, and look at the SVGs before committing them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support import pristine_sample
from trace_tui.tui.app import build_app


async def _ready(pilot: Any, keys: tuple[str, ...]) -> None:
    """Wait for the whole trace to be read, then press ``keys``."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    screen = pilot.app.debugger
    # never record a picture of a broken read (e.g. while the reader is being edited)
    assert screen.complete and screen.count > 0 and screen.notice is None, screen.notice
    if keys:
        await pilot.press(*keys)
    await pilot.pause()


def _compare(
    snap_compare: Any, tmp_path: Path, sample: str, size: tuple[int, int], *keys: str
) -> bool:
    app = build_app(pristine_sample(tmp_path, sample), theme="dark")

    async def run_before(pilot: Any) -> None:
        await _ready(pilot, keys)

    return bool(snap_compare(app, terminal_size=size, run_before=run_before))


def test_discount_error_80x24(snap_compare: Any, tmp_path: Path) -> None:
    """At 80x24 the cursor is on step 7, the failed apply_discount (``e`` from step 1).

    The tree (left) shows all eight steps with kind symbols, step 7 marked ✖ and highlighted,
    step 8 dimmed; the right column shows the gauge for the model call at step 6 (compact,
    <1% of gpt-4o's 128k window) over the inspector's payload of step 7 with its error; the
    step bar, the status line ("step 7/8", "1 error") and the footer are visible.
    """
    assert _compare(snap_compare, tmp_path, "discount_over_cap.jsonl", (80, 24), "e")


def test_discount_error_160x48(snap_compare: Any, tmp_path: Path) -> None:
    """At 160x48 the same position uses three columns: tree, inspector, and the tall gauge
    with its breakdown (system prompt, tool schemas, history, tool results, output), exact
    totals and "≈" split, and the peaks."""
    assert _compare(snap_compare, tmp_path, "discount_over_cap.jsonl", (160, 48), "e")


def test_evicted_context_80x24(snap_compare: Any, tmp_path: Path) -> None:
    """system_prompt_evicted at step 8 (``:8``), the first call after the eviction, in the
    Context view (``x``): the short gauge's one warning line starts with "system prompt
    missing" (then truncated, input shrank...), its peak line reads 97 % @ step 7, and the
    inspector says no system prompt was sent."""
    assert _compare(snap_compare, tmp_path, "system_prompt_evicted.jsonl", (80, 24),
                    "colon", "8", "enter", "x")


def test_evicted_context_160x48(snap_compare: Any, tmp_path: Path) -> None:
    """The same at 160x48: the tall gauge lists every warning (truncated by the agent, input
    shrank from 7,904 to 4,321 tokens, fewer messages, system prompt missing first) and the
    peak of 97 % at step 7 (input + output, as the headline measures it); the tree shows
    step 8 highlighted and steps 9-10 dimmed."""
    assert _compare(snap_compare, tmp_path, "system_prompt_evicted.jsonl", (160, 48),
                    "colon", "8", "enter", "x")


@pytest.mark.parametrize("theme", ["light", "high-contrast"])
def test_themes_80x24(snap_compare: Any, tmp_path: Path, theme: str) -> None:
    """The discount sample at step 4 in the light and high-contrast themes: same layout,
    the theme's colours (kind colours, cursor row, gauge) and its Pygments style for JSON."""
    app = build_app(pristine_sample(tmp_path, "discount_over_cap.jsonl"), theme=theme)

    async def run_before(pilot: Any) -> None:
        await _ready(pilot, ("j", "j", "j"))

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
