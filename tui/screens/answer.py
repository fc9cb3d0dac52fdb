"""The manual answer: a stopped replay needs a model response or a tool result, typed by hand.

Shows what is needed at which step (the replay's reason and a short summary of the request:
the last messages the model sees, or the tool call and its arguments) and a text area. The
typed text is read by :func:`read_answer`: JSON when it parses (for a model, only an object
is taken as a message), plain text otherwise; text that starts like a JSON object or list but
does not parse is refused, so a typo never becomes a reply. ``ctrl+s`` dismisses with a
:class:`ManualAnswer`; Escape dismisses with ``None`` and the branch stays saved as stopped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static, TextArea

from trace_tui.core.replay.values import Pending
from trace_tui.tui.display.safe_text import display_str
from trace_tui.tui.session.branch_session import pending_summary


@dataclass(frozen=True, slots=True)
class ManualAnswer:
    """The value the user typed (``None`` is a valid JSON answer, so it is wrapped)."""

    value: Any


def read_answer(raw: str, kind: str) -> Any:
    """The answer ``raw`` stands for (``ValueError`` for a broken JSON object or list).

    ``kind`` is the pending kind: for ``"model"`` only a JSON object (a message with
    ``content``/``tool_calls``) is taken as JSON; any other reply is the text as typed.
    """
    try:
        value = json.loads(raw)
    except ValueError as exc:
        if raw.lstrip().startswith(("{", "[")):
            raise ValueError(f"this looks like JSON but does not parse: {exc}") from None
        return raw
    if kind == "model" and not isinstance(value, dict):
        return raw
    return value


class AnswerScreen(ModalScreen[ManualAnswer | None]):
    """Ask the user for the answer a stopped replay needs (see the module docstring)."""

    DEFAULT_CSS = """
    AnswerScreen { align: center middle; background: $background 50%; }
    AnswerScreen > Vertical { width: 96%; height: 90%; background: $panel;
                              border: round $warning; padding: 0 1; }
    AnswerScreen .answer-title { text-style: bold; height: auto; }
    AnswerScreen #answer-context { height: auto; max-height: 12; color: $text-muted; }
    AnswerScreen TextArea { height: 1fr; min-height: 4; }
    AnswerScreen #answer-error { height: auto; color: $error; text-style: bold; }
    """

    BINDINGS = [
        Binding("ctrl+s", "submit", "Answer & continue", id="answer.submit",
                tooltip="Use this text as the answer and replay on"),
        Binding("escape", "cancel", "Stop here", id="answer.cancel",
                tooltip="Keep the branch saved as stopped at this step"),
    ]

    def __init__(self, pending: Pending, branch: str, error: str | None = None,
                 saved_as: str | None = None) -> None:
        super().__init__()
        self.pending = pending
        self.branch = branch
        self._error = error
        self._saved_as = saved_as

    def compose(self) -> ComposeResult:
        """What is needed, the request's context, the answer, the error line, the keys."""
        what = "a model response" if self.pending.kind == "model" else "a tool result"
        title = Text(f"Branch {display_str(self.branch, one_line=True, limit=60)} needs "
                     f"{what} at step {self.pending.step_number}", end="")
        with Vertical():
            yield Static(title, classes="answer-title")
            context = Text("\n", end="").join(
                Text(display_str(line, one_line=True, limit=400), end="")
                for line in pending_summary(self.pending))
            with VerticalScroll(id="answer-context"):
                yield Static(context)
            area = TextArea(id="answer-text", tab_behavior="focus")
            area.cursor_blink = False
            yield area
            yield Static(Text(display_str(self._error or "", one_line=True, limit=400),
                              end=""), id="answer-error")
            saved = (f" (saved as {display_str(self._saved_as, one_line=True, limit=80)})"
                     if self._saved_as else "")
            yield Static(Text("ctrl+s answers and replays on · Esc keeps the branch stopped "
                              f"here{saved}", end=""), classes="answer-title")
        yield Footer()

    def on_mount(self) -> None:
        """Focus the answer."""
        self.query_one(TextArea).focus()

    @property
    def text_area(self) -> TextArea:
        """Where the answer is typed."""
        return self.query_one("#answer-text", TextArea)

    def show_error(self, message: str) -> None:
        """One line under the answer."""
        self.query_one("#answer-error", Static).update(
            Text(display_str(message, one_line=True, limit=400), end=""))

    def action_submit(self) -> None:
        """Read the text like ``--answer``; dismiss with it, or say what is wrong."""
        raw = self.text_area.text.strip()
        if not raw:
            self.show_error("type an answer first (Esc keeps the branch stopped)")
            return
        try:
            value = read_answer(raw, self.pending.kind)
        except ValueError as exc:
            self.show_error(str(exc))
            return
        self.dismiss(ManualAnswer(value))

    def action_cancel(self) -> None:
        """Keep the branch stopped."""
        self.dismiss(None)
