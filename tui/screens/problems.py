"""The file's problems (``W``): one entry per corrupt record or skipped line.

A corrupt line never stops reading; the reader keeps it as a
:class:`~trace_tui.core.model.run.Problem` ("corrupt record at offset 1234 (line 5): not
JSON…") with a preview of its bytes. The status line counts them; this screen lists each one,
its message and (sanitised) preview. ``j``/``k`` scroll, Esc or ``q`` closes.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from trace_tui.core.model.run import Problem
from trace_tui.tui.display.safe_text import display_str
from trace_tui.tui.screens.help import ScrollingList

#: At most this many entries are drawn (a file can hold millions of bad lines).
SHOWN_PROBLEMS = 500


def problem_text(problem: Problem) -> Text:
    """One entry: where, what, and the start of the line as it was (all sanitised)."""
    text = Text(end="")
    text.append("⚠ ", style="bold")
    where = ""
    if "offset" not in problem.message and problem.offset is not None:
        where = f"at offset {problem.offset:,}" + (
            f" (line {problem.line:,})" if problem.line is not None else "") + ": "
    text.append(display_str(where + problem.message, one_line=True, limit=300), style="bold")
    if problem.preview:
        text.append("\n   " + display_str(problem.preview, one_line=True, limit=200),
                    style="dim")
    return text


class ProblemsScreen(ModalScreen[None]):
    """Every problem the reader kept, one entry each (see the module docstring)."""

    DEFAULT_CSS = """
    ProblemsScreen { align: center middle; background: $background 60%; }
    ProblemsScreen > ScrollingList { width: 96%; height: auto; max-height: 90%;
                                     background: $panel; border: round $warning;
                                     padding: 0 1; }
    """

    BINDINGS = [Binding("escape,q,W", "close", "Close", id="problems.close",
                        tooltip="Close the list of problems")]

    def __init__(self, file_name: str, problems: Sequence[Problem]) -> None:
        super().__init__()
        self._file_name = file_name
        self._problems = problems

    def compose(self) -> ComposeResult:
        """A title and one entry per problem."""
        count = len(self._problems)
        with ScrollingList():
            yield Static(Text(display_str(
                f"{self._file_name}: {count:,} bad line{'s' * (count != 1)} "
                "(skipped; reading went on) · Esc closes", one_line=True, limit=200),
                style="bold"))
            for problem in list(self._problems)[:SHOWN_PROBLEMS]:
                yield Static(problem_text(problem))
            if count > SHOWN_PROBLEMS:
                yield Static(Text(f"… and {count - SHOWN_PROBLEMS:,} more", style="dim"))

    def on_mount(self) -> None:
        """Focus the list so keys scroll it."""
        self.query_one(ScrollingList).focus()

    def action_close(self) -> None:
        """Close the list."""
        self.dismiss(None)
