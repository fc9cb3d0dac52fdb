"""The step bar: the whole run squeezed into one line, with the cursor and the errors on it.

Each cell stands for a slice of steps. Its height is the largest prompt (input tokens) of the
model calls in that slice, so context growth and resets are visible at a glance; a slice with
a failed step shows a cross (or, where errors are everywhere, the error colour); the cursor's cell is highlighted and later cells are dimmed.
Clicking a cell moves the cursor there. Everything comes from
:class:`~trace_tui.core.run_facts.RunFacts` by bisection, so a million steps cost the same.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget

from trace_tui.core.run_facts import RunFacts
from trace_tui.tui.glyphs import ERROR_SYMBOL

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

    class StepChosen(Message):
        """A click asked for the step at ``index``."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, facts: RunFacts, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.facts = facts
        self._count = 0
        self._cursor = -1
        self._profile_key: tuple[int, int, int, int] | None = None
        self._profile: list[int] = []

    def show(self, count: int, cursor: int) -> None:
        """Draw ``count`` steps with the cursor on ``cursor``."""
        if (count, cursor) != (self._count, self._cursor):
            self._count, self._cursor = count, cursor
            self.refresh()

    def _label(self) -> str:
        return f" {self._cursor + 1:,}/{self._count:,} " if self._count else " 0 steps "

    def _bar_width(self) -> int:
        return max(1, self.size.width - len(self._label()))

    def _cells(self, width: int) -> list[int]:
        key = (self._count, width, self.facts.generation, self.facts.count)
        if key != self._profile_key:
            self._profile_key = key
            self._profile = self.facts.token_profile(min(self._count, self.facts.count), width)
        return self._profile

    def _layout(self) -> tuple[int, int]:
        """How many cells the bar has and how wide each is (short runs get wide cells)."""
        width = self._bar_width()
        cells = min(width, self._count)
        return cells, max(1, width // cells) if cells else 1

    def render(self) -> Text:
        """The label and the bar."""
        text = Text(no_wrap=True, overflow="crop")
        label = self._label()
        style = self.get_component_rich_style
        text.append(label, style=style("step-bar--label"))
        count = self._count
        if count <= 0:
            return text
        cells, repeat = self._layout()
        profile = self._cells(cells)
        top = max(profile) if profile else -1
        cursor_cell = self._cursor * cells // count if self._cursor >= 0 else -1
        dense = self.facts.error_count > cells // 4
        for cell in range(cells):
            start = -(-cell * count // cells)
            end = -(-(cell + 1) * count // cells)
            tokens = profile[cell] if cell < len(profile) else -1
            if tokens >= 0 and top > 0:
                char = _LEVELS[min(7, tokens * 8 // (top + 1))]
                cell_style = style("step-bar--cell")
            else:
                char, cell_style = "─", style("step-bar--plain")
            if self.facts.errors_in(start, end):
                cell_style = style("step-bar--error")
                char = char if dense else ERROR_SYMBOL
            if cell == cursor_cell:
                cell_style = cell_style + style("step-bar--cursor")
            elif cell > cursor_cell >= 0:
                cell_style = cell_style + style("step-bar--future") + Style(bold=False)
            text.append(char * repeat, style=cell_style)
        return text

    def on_click(self, event: events.Click) -> None:
        """Move the cursor to the clicked slice of the run."""
        offset = event.x - len(self._label())
        cells, repeat = self._layout()
        cell = offset // repeat
        if self._count and 0 <= cell < cells:
            self.post_message(self.StepChosen(-(-cell * self._count // cells)))
