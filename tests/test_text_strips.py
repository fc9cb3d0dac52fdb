"""``text_strips`` (the status line, the gauge and the inspector's one-line texts) draws a
Rich ``Text`` exactly as Textual's own pipeline draws it in a ``nowrap``/``ellipsis`` widget:
every cell's character, colours, attributes and the ``offset`` Textual's text selection reads.
(Colours as the app gives them: RGB from the theme.)
Differential: the same widget drawn both ways, over hand-picked and generated texts."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.style import Style
from rich.text import Text
from textual.app import App, ComposeResult
from textual.strip import Strip
from textual.widget import Widget

from trace_tui.tui.widgets.text_line import TextLine

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


class Probe(TextLine):
    DEFAULT_CSS = """
    Probe { height: 3; padding: 0 1; background: $panel; color: $text; }
    Probe.-error { color: $error; text-style: bold; }
    """


class ProbeApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Probe()


def look(style: Style | None) -> tuple[object, ...]:
    """What a style shows (a colour by its value, not by the name it was given)."""
    if style is None:
        return ()
    def colour(c: Any) -> object:
        return None if c is None else (c.type, c.number, c.triplet)
    return (colour(style.color), colour(style.bgcolor), style.bold, style.dim, style.italic,
            style.underline, style.reverse, style.strike, style.link, style.meta)


def cells(strip: Strip) -> list[tuple[str, tuple[object, ...]]]:
    return [(ch, look(seg.style)) for seg in strip for ch in seg.text]


#: Attributes and RGB colours: the app's styles come from the theme as RGB (a named ANSI colour
#: in a text's own style is converted differently by Textual, and never used here).
STYLES = ["", "bold", "dim", "italic", "#ff5555", "bold #00aa00 on #0000aa", "underline",
          "reverse", "not bold"]


def sample_texts() -> list[Text]:
    plain = Text("Context: no model call yet at step 1", style="dim")
    spans = Text(" step 7/8", style="bold")
    spans.append(" │ ", style=Style(color="#888888"))
    spans.append("✖ 1 error", style="bold #ff7b72")
    spans.append(" · discount_over_cap.jsonl · trace-tui")
    long = Text("x" * 200, style="italic")
    long.append("tail", style="bold")
    wide = Text("中文字符 and emoji 😀 wide " * 5)
    lines = Text("line one\n", style="bold")
    lines.append("line two", style="#ff5555")
    lines.append("\nthird ", style="dim")
    lines.append("█████", style=Style(color="#3fb950"))
    return [plain, spans, long, wide, lines, Text(""), Text("\n\n")]


async def compare(app: ProbeApp, pilot: Any, text: Text) -> None:
    probe = app.query_one(Probe)
    probe.set_text(text)
    await pilot.pause()
    for y in range(probe.size.height):
        ours = cells(probe.render_line(y))
        probe.refresh()  # Textual's own lines for the same text
        theirs = cells(Widget.render_line(probe, y))
        width = probe.content_size.width
        assert ours[:width] == theirs[:width], (repr(text), y)


async def test_hand_picked_texts_look_as_textual_draws_them() -> None:
    app = ProbeApp()
    async with app.run_test(size=(60, 5)) as pilot:
        for error in (False, True):
            app.query_one(Probe).set_class(error, "-error")
            for text in sample_texts():
                await compare(app, pilot, text)


pieces = st.lists(st.tuples(st.text(alphabet=st.sampled_from(list("ab é中😀-·│\n")),
                                    max_size=30),
                            st.sampled_from(STYLES)), max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(whole=st.sampled_from(STYLES), parts=pieces)
async def test_generated_texts_look_as_textual_draws_them(whole: str, parts: list[tuple[str, str]]
                                                          ) -> None:
    text = Text(style=whole)
    for piece, style in parts:
        text.append(piece, style=style)
    app = ProbeApp()
    async with app.run_test(size=(30, 5)) as pilot:
        await compare(app, pilot, text)
