"""The step bar: the whole run squeezed into one line, with the cursor and the errors on it.

Each cell stands for a slice of steps. Its height is the largest prompt (input tokens) of the
model calls in that slice, so context growth and resets are visible at a glance. A slice with
a failed step shows a cross (or, where errors are everywhere, the error colour); the cursor's
cell is highlighted and later cells are dimmed. Clicking a cell moves the cursor there.
Everything comes from :class:`~trace_tui.core.navigation.run_facts.RunFacts` by bisection, so a
million
steps cost the same as ten.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from trace_tui.core.navigation.run_facts import RunFacts
from trace_tui.tui.display.glyphs import ERROR_SYMBOL

_LEVELS = "▁▂▃▄▅▆▇█"


class StepBar(Widget):
    """One line: a sparkline of prompt sizes across the run, errors and the cursor marked."""

    DEFAULT_CSS = """
    StepBar { height: 1; background: $panel; text-wrap: nowrap; }
    StepBar > .step-bar--cell { color: $step-llm; }
    StepBar > .step-bar--plain { color: $step-other; }
    StepBar > .step-bar--error { color: $step-error; text-style: bold; }
    StepBar > .step-bar--future { color: $step-future; }
    StepBar > .step-bar--cursor { background: $step-cursor; color: $text; text-style: bold; }
    StepBar > .step-bar--label { color: $text-muted; }
    """

    COMPONENT_CLASSES = {"step-bar--cell", "step-bar--plain", "step-bar--error",
                         "step-bar--future", "step-bar--cursor", "step-bar--label"}

    @dataclass
    class StepChosen(Message):
        """A click asked for the step at ``index``."""

        index: int

    def __init__(self, facts: RunFacts, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.facts = facts
        self._count = 0
        self._cursor = -1
        self._shown: tuple[int, int, int] | None = None
        self._styles: dict[str, Style] | None = None
        self._bar_key: tuple[int, ...] | None = None
        self._bar_cells: list[tuple[str, str]] = []
        self._settled = True

    def show(self, count: int, cursor: int, *, settled: bool = True) -> None:
        """Draw ``count`` steps with the cursor on ``cursor``.

        While the run still grows (``settled`` false) the bar's cells are recomputed only when
        the run grew by more than 1/64 since they were: on a big trace that costs a pass over
        every model call, for a bar that looks the same.
        """
        self._settled = settled
        state = (count, cursor, self.facts.version)
        if state != self._shown:
            self._shown = state
            self._count, self._cursor = count, cursor
            self.refresh()

    def _label(self) -> str:
        """`` 12/1,000 ``: the step number padded to the count's width, so the bar keeps its
        width (and its cached cells) wherever the cursor is."""
        if not self._count:
            return " 0 steps "
        total = f"{self._count:,}"
        return f" {self._cursor + 1:>{len(total)},}/{total} "

    def _bar_width(self) -> int:
        return max(1, self.size.width - len(self._label()))

    def notify_style_update(self) -> None:
        """The theme changed: drop cached styles."""
        super().notify_style_update()
        self._styles = None
        self._bar_key = None

    def _style(self, name: str) -> Style:
        if self._styles is None:
            self._styles = {c.removeprefix("step-bar--"): self.get_component_rich_style(c)
                            for c in self.COMPONENT_CLASSES}
        return self._styles[name]

    def _layout(self) -> tuple[int, int]:
        """How many cells the bar has and how wide each is (short runs get wide cells)."""
        width = self._bar_width()
        cells = min(width, self._count)
        return cells, max(1, width // cells) if cells else 1

    def _bar(self, cells: int) -> list[tuple[str, str]]:
        """(char, style name) per cell, cached until the run or the width changes."""
        facts = self.facts
        key = (self._count, cells, facts.version)
        old = self._bar_key
        if key == old or (old is not None and not self._settled and old[1] == cells
                          and old[0] <= self._count < old[0] + old[0] // 64):
            return self._bar_cells
        count = self._count
        profile = facts.token_profile(min(count, facts.count), cells)
        top = max(profile) if profile else -1
        dense = facts.error_count > cells // 4
        out: list[tuple[str, str]] = []
        for cell in range(cells):
            tokens = profile[cell]
            if tokens >= 0 and top > 0:
                char, name = _LEVELS[min(7, tokens * 8 // (top + 1))], "cell"
            else:
                char, name = "─", "plain"
            start, end = -(-cell * count // cells), -(-(cell + 1) * count // cells)
            if facts.errors_in(start, end):
                char, name = (char if dense else ERROR_SYMBOL), "error"
            out.append((char, name))
        self._bar_key, self._bar_cells = key, out
        return out

    def render_line(self, y: int) -> Strip:
        """The label and the bar as one strip: cells of one look are one segment (drawing a
        cell at a time cost more than the rest of a key press)."""
        base = self.rich_style
        width = self.size.width
        if y != 0:
            return Strip.blank(width, base)
        segments = [Segment(self._label(), base + self._style("label"))]
        count = self._count
        if count > 0:
            cells, repeat = self._layout()
            cursor_cell = self._cursor * cells // count if self._cursor >= 0 else -1
            looks: dict[tuple[str, int], Style] = {}
            run: list[str] = []
            run_look: tuple[str, int] | None = None
            for cell, (char, name) in enumerate(self._bar(cells)):
                look = (name, (cell > cursor_cell >= 0) - (cell == cursor_cell))
                if look != run_look and run:
                    segments.append(Segment("".join(run), self._look(looks, run_look, base)))
                    run = []
                run_look = look
                run.append(char * repeat)
            if run:
                segments.append(Segment("".join(run), self._look(looks, run_look, base)))
        return Strip(segments).crop_extend(0, width, base)

    def _look(self, looks: dict[tuple[str, int], Style], look: tuple[str, int] | None,
              base: Style) -> Style:
        """The style of a cell: its kind, then the cursor (-1) or dimmed as later (1)."""
        assert look is not None
        style = looks.get(look)
        if style is None:
            name, place = look
            style = base + self._style(name)
            if place < 0:
                style += self._style("cursor")
            elif place > 0:
                style += self._style("future") + Style(bold=False)
            looks[look] = style
        return style

    def on_click(self, event: events.Click) -> None:
        """Move the cursor to the clicked slice of the run."""
        offset = event.x - len(self._label())
        cells, repeat = self._layout()
        cell = min(cells - 1, offset // repeat)
        if self._count and offset >= 0 and cell >= 0:
            self.post_message(self.StepChosen(-(-cell * self._count // cells)))
