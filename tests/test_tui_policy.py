"""The screen with ``--policy``: marks in the tree, the verdict in the inspector, ``v``/``V``,
steps checked as they arrive in a live tail, and bytes on screen that stay safe."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.widget import Widget

from support import SAMPLES, eventually_async
from trace_tui.core.policy.document import PolicyError
from trace_tui.tui.app import TraceApp, build_app
from trace_tui.tui.widgets.span_tree import SpanTree
from trace_tui.tui.widgets.status import StatusLine

SIZE = (120, 36)
POLICIES = SAMPLES / "policies"
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


def text(widget: Widget) -> str:
    region = Region(0, 0, widget.size.width, widget.size.height)
    return "\n".join(strip.text for strip in widget.render_lines(region))


async def _until(pilot: Any, condition: Any) -> None:
    """Let the app run until ``condition()`` holds (the reader thread posts on its own)."""
    await eventually_async(condition, pilot.pause)


async def loaded(app: TraceApp, pilot: Any) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_blocked_steps_marked_explained_and_reachable_with_v() -> None:
    app = build_app(
        SAMPLES / "tool_loop_no_progress.jsonl",
        policy=POLICIES / "tool_loop_no_progress.yaml",
    )
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        screen = app.debugger
        tree = screen.query_one(SpanTree)
        assert screen.policy_session is not None
        assert screen.policy_session.marks == {8: "blocked", 10: "blocked", 12: "blocked"}
        rows = {line.split()[0]: line for line in text(tree).splitlines()[1:] if line.strip()}
        assert "⊘ check_shipment_status" in rows["9"] and "λ check_shipment_status" in rows["7"]
        assert "⊘ 3 blocked" in text(screen.query_one(StatusLine))
        await pilot.press("v")
        assert screen.cursor.position == 8
        verdict = text(screen.query_one("#inspector-verdict"))
        assert "⊘ BLOCKED: no progress: 'check_shipment_status' called 4 times" in verdict
        assert "polling_loop" in verdict and "evidence steps 3–9" in verdict
        # the evidence range is marked in the tree: steps 3 to 9, not 2 or 10
        marked = [line.split("┃")[0].strip() for line in text(tree).splitlines() if "┃" in line]
        assert marked == [str(n) for n in range(3, 10)]
        await pilot.press("v", "v")
        assert screen.cursor.position == 12
        verdict = text(screen.query_one("#inspector-verdict"))
        assert verdict.lstrip().startswith("⊘ BLOCKED: no progress")  # blocking reason first
        await pilot.press("v")  # no blocked step after the last one: says why
        assert screen.cursor.position == 12
        assert "no blocked step after step 13" in text(screen.query_one(StatusLine))
        await pilot.press("V")
        assert screen.cursor.position == 10
        await pilot.press("k")  # a model call: no verdict line
        assert not screen.query_one("#inspector-verdict").display


async def test_v_without_a_policy_says_so() -> None:
    app = build_app(SAMPLES / "discount_over_cap.jsonl")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("v")
        assert "no policy: open the trace with --policy" in text(
            app.debugger.query_one(StatusLine)
        )


def test_a_bad_policy_fails_before_the_screen(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("sequences: [{type: nope}]\n")
    with pytest.raises(PolicyError):
        build_app(SAMPLES / "discount_over_cap.jsonl", policy=bad)


def _call(n: int, name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "span", "span_id": f"s{n}", "parent_id": None, "kind": "tool", "name": name,
        "start_time": float(n), "end_time": n + 0.5, "status": "ok",
        "attributes": {"gen_ai.tool.name": name, "gen_ai.tool.call.arguments": args},
    }  # fmt: skip


def _append(path: Path, records: list[dict[str, Any]]) -> None:
    with open(path, "a", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")


async def test_tail_checks_steps_as_they_arrive(write_trace: Any, tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "sequences:\n  - {type: no_progress, max: 2}\n  - {type: require, tool: finish}\n"
    )
    path = write_trace([_call(0, "poll", {"id": 1}), _call(1, "poll", {"id": 1})])
    app = build_app(path, follow=True, policy=policy)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.debugger
        await _until(pilot, lambda: screen.count == 2)
        assert screen.policy_session is not None
        assert screen.policy_session.marks == {}
        _append(path, [_call(2, "poll", {"id": 1})])
        tree = screen.query_one(SpanTree)
        await _until(pilot, lambda: "⊘ poll" in text(tree).splitlines()[3])
        assert screen.policy_session.marks == {2: "blocked"}
        # a live run may still call `finish`: the end-of-run rule does not fire while following
        assert not screen.policy_session.finished


async def test_hostile_names_and_reasons_stay_inert(write_trace: Any, tmp_path: Path) -> None:
    evil = "x\x1b]52;c;AAAA\x07\u202ey"
    path = write_trace([_call(0, evil, {"cmd": "\x1b[2J" + "sk-" + "b" * 32})])
    policy = tmp_path / "p.yaml"
    policy.write_text("tools:\n  deny: ['x*']\n")
    app = build_app(path, policy=policy)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        shown = text(app.debugger.query_one("#inspector-verdict")) + text(
            app.debugger.query_one(SpanTree)
        )
        assert "BLOCKED" in shown
        assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown


async def test_a_branch_opened_from_the_screen_is_checked_too(tmp_path: Path) -> None:
    import shutil

    from trace_tui.cli.commands import main

    trace = tmp_path / "discount_over_cap.jsonl"
    shutil.copy(SAMPLES / "discount_over_cap.jsonl", trace)
    branch = tmp_path / "fixed.jsonl"
    main(["fork", str(trace), "--at", "7", "--set",
          "/attributes/gen_ai.tool.call.arguments/percent=15", "--answer", '{"ok": true}',
          "-o", str(branch)])  # fmt: skip
    app = build_app(trace, policy=POLICIES / "discount_over_cap.yaml")
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        assert app.debugger.policy_session is not None
        assert app.debugger.policy_session.marks == {6: "blocked"}
        app.open_trace(branch)
        await _until(pilot, lambda: app.debugger.source.path == branch)
        screen = app.debugger
        await _until(pilot, lambda: screen.policy_session is not None and screen.complete
                     and screen.policy_session.finished)  # fmt: skip
        assert screen.policy_session.marks == {}
        assert "policy ✔" in text(screen.query_one(StatusLine))
