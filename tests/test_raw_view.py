"""Issue 13, item 13: the Raw inspector view survives "zalgo" text (combining marks pile up
with zero width) and renders a 7 MB line lazily: only the first 64,000 characters are lexed
and wrapped, a "show more" line adds the next 64,000 (no multi-second block per visit)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rich.cells import cell_len

from trace_tui.core.io.raw_record import RawRecord
from trace_tui.core.model.run import Step
from trace_tui.tui.app import build_app
from trace_tui.tui.documents.step_documents import (
    RAW_ANCHOR,
    RAW_PREVIEW,
    RAW_STEP,
    raw_document,
    wrap_pieces,
)
from trace_tui.tui.widgets.doc_view import DocumentView

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


ZALGO = "Z" + "\u0300\u0301\u0302\u0303\u0304\u0305\u0306\u0307" * 20 + "ALGO"


def test_wrapping_zero_width_runs_never_fails_and_keeps_every_character() -> None:
    pieces = [("x" * 39, "a"), ("\u0301" * 100 + "y" * 50 + ZALGO * 30, "b")]
    for width in (1, 2, 20, 40):
        lines = wrap_pieces(pieces, width)
        assert "".join(t for ln in lines for t, _ in ln) == "".join(t for t, _ in pieces)
        assert all(sum(cell_len(t) for t, _ in ln) <= max(width, 2) for ln in lines)


def test_a_seven_megabyte_line_is_lexed_only_as_far_as_shown() -> None:
    step = Step(index=0, span_id="a", parent_id=None, kind="tool", name="x", line=2)
    data = json.dumps({"type": "span", "blob": "ab " * 2_400_000}).encode()
    assert len(data) > 7_000_000
    record = RawRecord(0, data, cut=False)
    width = 100
    first = raw_document(step, record, width)
    assert len(first) < RAW_PREVIEW // width + 10
    more = first[-1]
    assert more.anchor == RAW_ANCHOR and more.action == "expand" and "more characters" in more.text
    second = raw_document(step, record, width, expanded={RAW_ANCHOR: RAW_STEP})
    assert len(first) + RAW_STEP // width - 5 < len(second) < len(first) + RAW_STEP // width + 10


async def test_raw_view_of_zalgo_and_a_huge_line_in_the_screen(write_trace: Any) -> None:
    records: list[Any] = [
        {"type": "run", "run_id": "zalgo"},
        {"type": "span", "span_id": "a", "parent_id": None, "kind": "agent", "name": ZALGO,
         "start_time": 1.0, "end_time": 9.0, "status": "ok",
         "attributes": {"note": ("x" * 37 + "\u0301" * 200 + ZALGO) * 40}},
        {"type": "span", "span_id": "b", "parent_id": "a", "kind": "tool", "name": "big",
         "start_time": 2.0, "end_time": 3.0, "status": "ok",
         "attributes": {"gen_ai.tool.call.result": "word " * 1_400_000}},
    ]
    # written as UTF-8 (not \u escapes), so the Raw view meets the combining marks themselves
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    app = build_app(write_trace(lines))
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.debugger
        await pilot.press("r")
        await pilot.pause()
        lines = screen.query_one(DocumentView).lines
        assert lines and not any("cannot show this view" in ln.text for ln in lines)
        await pilot.press("j")
        await pilot.pause()
        lines = screen.query_one(DocumentView).lines
        assert not any("cannot show this view" in ln.text for ln in lines)
        assert len(lines) < RAW_PREVIEW // 50
        assert any("more characters" in ln.text and ln.action == "expand" for ln in lines[-2:])
