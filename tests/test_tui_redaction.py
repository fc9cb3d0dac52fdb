"""Secrets on screen: masked in every view, revealed only when asked (`R`), with a banner.

The trace holds an OpenAI key in a tool argument, a bearer token in a header and a PEM block in a
JSON-escaped string; none of them may appear in any pane until the user reveals one field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.widget import Widget

from trace_tui.core.text.redact import Redactor
from trace_tui.tui.app import TraceApp, build_app
from trace_tui.tui.widgets.doc_view import DocumentView
from trace_tui.tui.widgets.inspector import Inspector

pytestmark = pytest.mark.anyio
KEY = "sk-proj-" + "Zq3" * 16
BEARER = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1LTEwMDEifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7" * 3
PEM = f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----"
SECRETS = (KEY, BEARER, PEM_BODY[:40])


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def secret_trace(tmp_path: Path) -> Path:
    records = [
        {"type": "span", "span_id": "a", "kind": "agent", "name": "agent"},
        {"type": "span", "span_id": "t", "parent_id": "a", "kind": "tool", "name": "deploy",
         "attributes": {
             "gen_ai.tool.name": "deploy",
             "gen_ai.tool.call.arguments": {"api_key": KEY, "note": f"use {KEY} here"},
             "gen_ai.tool.call.result": {"headers": {"Authorization": f"Bearer {BEARER}"},
                                         "blob": json.dumps({"key": PEM})},
         }},
    ]
    path = tmp_path / "secrets.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def screen_text(app: TraceApp) -> str:
    """Every widget's rendered lines on the current screen."""
    out = []
    for widget in app.screen.query(Widget):
        if widget.size.area:
            region = Region(0, 0, widget.size.width, widget.size.height)
            out.extend(strip.text for strip in widget.render_lines(region))
    return "\n".join(out)


async def open_tool_step(app: TraceApp, pilot: Any) -> Inspector:
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.press("j")  # step 2, the tool call
    await pilot.pause()
    return app.debugger.query_one(Inspector)


async def select(doc: DocumentView, pilot: Any, pointer: str) -> None:
    doc.focus()
    await pilot.pause()
    for _ in range(200):
        selected = doc.selected_line
        if selected is not None and selected.anchor == pointer:
            return
        await pilot.press("j")
    raise AssertionError(f"no line with pointer {pointer}")


async def test_no_secret_reaches_any_view(tmp_path: Path) -> None:
    app = build_app(secret_trace(tmp_path))
    async with app.run_test(size=(240, 60)) as pilot:
        inspector = await open_tool_step(app, pilot)
        for mode in ("p", "c", "x", "r"):
            await pilot.press(mode)
            await pilot.pause()
            shown = screen_text(app)
            if mode != "x":  # a tool step outside any model call has no model context
                assert "«redacted:" in shown, mode
            for secret in SECRETS:
                assert secret not in shown, (mode, secret[:12])
        assert inspector.mode == "raw"


async def test_reveal_shows_one_field_with_a_banner_and_masks_it_again(tmp_path: Path) -> None:
    app = build_app(secret_trace(tmp_path))
    async with app.run_test(size=(240, 60)) as pilot:
        inspector = await open_tool_step(app, pilot)
        doc = inspector.query_one(DocumentView)
        await select(doc, pilot, "/attributes/gen_ai.tool.call.arguments/api_key")
        assert KEY not in screen_text(app)
        await pilot.press("R")
        await pilot.pause()
        shown = screen_text(app)
        assert KEY in shown and "1 secret field(s) revealed" in shown
        assert BEARER not in shown  # only the asked-for field
        await pilot.press("R")
        await pilot.pause()
        shown = screen_text(app)
        assert KEY not in shown and "revealed" not in shown


async def test_copy_is_masked_unless_revealed(tmp_path: Path) -> None:
    app = build_app(secret_trace(tmp_path))
    async with app.run_test(size=(240, 60)) as pilot:
        inspector = await open_tool_step(app, pilot)
        doc = inspector.query_one(DocumentView)
        await select(doc, pilot, "/attributes/gen_ai.tool.call.arguments/api_key")
        await pilot.press("Y")
        await pilot.pause()
        assert app.clipboard.startswith("«redacted:")
        await pilot.press("R", "Y")
        await pilot.pause()
        assert app.clipboard == KEY


async def test_no_redact_shows_everything(tmp_path: Path) -> None:
    app = build_app(secret_trace(tmp_path), redactor=Redactor(enabled=False))
    async with app.run_test(size=(240, 60)) as pilot:
        await open_tool_step(app, pilot)
        assert KEY in screen_text(app)
    # The next app gets the default again (the factory configures it every time).
    app = build_app(secret_trace(tmp_path))
    async with app.run_test(size=(240, 60)) as pilot:
        await open_tool_step(app, pilot)
        assert KEY not in screen_text(app)
