"""Snapshots of what a new user meets at 80x24 (issue 14): the prompts with typed text, a
branch with every kind of replayed step and a stopped replay, a corrupt record entry, and the
footer in tail mode. Update with ``--snapshot-update`` after a deliberate visual change and
look at each SVG before committing it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from branch_fixture import every_answer_branch

from support import SAMPLES, eventually_async, pristine_sample
from trace_tui.tui.app import build_app

SIZE = (80, 24)


async def _read(pilot: Any) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    screen = pilot.app.debugger
    assert screen.complete and screen.count > 0


@pytest.mark.parametrize("keys", [("colon", "7"), ("slash", *"apply"),
                                  ("ampersand", *"kind:tool")],
                         ids=["goto", "search", "filter"])
def test_prompt_shows_typed_text(snap_compare: Any, keys: tuple[str, ...]) -> None:
    """The prompt at the bottom: its title (Go to step / Search steps / Filter steps), the
    typed text ("7", "apply", "kind:tool") on its own row, and the hint below it."""
    app = build_app(SAMPLES / "discount_over_cap.jsonl", theme="dark")

    async def run_before(pilot: Any) -> None:
        await _read(pilot)
        await pilot.press(*keys)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_branch_every_answer_stopped(snap_compare: Any, tmp_path: Path) -> None:
    """A branch of discount_over_cap at its last step: the branch line on top says it stopped
    needing a model response at step 8; the tree's replay column marks steps 3-8 E (edited),
    L (live), P (by position), M (manual), = (recorded), ? (waiting) and step 8 reads
    "waiting"; the inspector header says "waiting for an answer", not a status."""
    app = build_app(every_answer_branch(tmp_path), theme="dark")

    async def run_before(pilot: Any) -> None:
        await _read(pilot)
        await pilot.press("G", "c")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_corrupt_record_entry(snap_compare: Any, tmp_path: Path) -> None:
    """A trace with one corrupt line: the status line names "corrupt record at offset 621
    (line 3)"; ``W`` lists it as an entry with its message and the start of the line."""
    path = tmp_path / "torn.jsonl"
    lines = (SAMPLES / "discount_over_cap.jsonl").read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2]) + b'{"type": "span", "span_id": "torn\n'
                     + b"".join(lines[2:]))
    app = build_app(path, theme="dark")

    async def run_before(pilot: Any) -> None:
        await _read(pilot)
        await pilot.press("W")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_tail_footer_80x24(snap_compare: Any, tmp_path: Path) -> None:
    """``tail`` at 80x24, pinned on step 7: the status says "⏸ pinned"; the footer shows
    ? Keys, : Go to, e Next error, f Follow, / Search, F Fork and q Quit in full, then
    ^p palette."""
    sample = pristine_sample(tmp_path, "discount_over_cap.jsonl")
    app = build_app(sample, follow=True, theme="dark")

    async def run_before(pilot: Any) -> None:
        screen = pilot.app.debugger
        # the reader keeps following: wait for the steps, not the worker
        await eventually_async(lambda: screen.count == 8 and screen.complete, pilot.pause)
        await pilot.press("k")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
