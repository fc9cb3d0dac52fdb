"""The README's screen capture is the app's screen: discount_over_cap at 100x30 after ``e``,
rendered by the real app and compared line by line (issue 14: the capture showed a footer and
a tree title the app no longer draws)."""

from __future__ import annotations

import html
import re
from collections import defaultdict
from pathlib import Path

import pytest

from support import ROOT, pristine_sample
from trace_tui.tui.app import build_app

pytestmark = pytest.mark.anyio
#: Width of one terminal cell in Textual's SVG screenshots.
CELL = 12.2


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


def readme_capture() -> list[str]:
    """The first fenced block of the README (the screen capture)."""
    text = (ROOT / "README.md").read_text("utf-8")
    block = text.split("```\n", 2)[1]
    return [line.rstrip() for line in block.rstrip("\n").splitlines()]


def screen_lines(svg: str) -> list[str]:
    """The text rows of a Textual SVG screenshot: each span sits at ``x / 12.2`` cells."""
    rows: dict[float, list[tuple[int, str]]] = defaultdict(list)
    pattern = r'<text class="terminal-[^"]*" x="([\d.]+)" y="([\d.]+)" textLength[^>]*>(.*?)</text>'
    for x, y, body in re.findall(pattern, svg):
        rows[float(y)].append((round(float(x) / CELL), html.unescape(body).replace("\xa0", " ")))
    out = []
    for y in sorted(rows):
        line = ""
        for column, body in sorted(rows[y]):
            line = line.ljust(column) + body
        out.append(line.rstrip())
    return out


async def test_readme_capture_is_the_apps_screen(tmp_path: Path) -> None:
    app = build_app(pristine_sample(tmp_path, "discount_over_cap.jsonl"), theme="dark")
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        shown = screen_lines(app.export_screenshot())
    expected = readme_capture()
    assert len(expected) == 30
    assert shown == expected
