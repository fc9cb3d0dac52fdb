"""A one-line prompt at the bottom of the screen: go to step, search, filter.

Returns the typed text on Enter, ``None`` on Escape. The title and hint are our own text; the
typed text is handed back as-is and shown only through the safe text functions.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text."""

    DEFAULT_CSS = """
    PromptScreen { align: center bottom; background: $background 40%; }
    PromptScreen > Vertical { height: auto; width: 100%; background: $panel;
                              border-top: solid $primary; padding: 0 1; }
    PromptScreen .prompt-title { text-style: bold; }
    PromptScreen .prompt-hint { color: $text-muted; }
    PromptScreen Input { background: $surface; }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel",
                        tooltip="Close the prompt without doing anything")]

    def __init__(self, title: str, hint: str, *, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self._title = title
        self._hint = hint
        self._value = value
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        """Title, input, hint."""
        with Vertical():
            yield Static(Text(self._title), classes="prompt-title")
            # compact: one row, no border (a bordered Input squeezed to one row draws only
            # its borders and the typed text is invisible)
            field = Input(value=self._value, placeholder=self._placeholder, id="prompt-input",
                          compact=True)
            field.cursor_blink = False
            yield field
            yield Static(Text(self._hint), classes="prompt-hint")

    def on_mount(self) -> None:
        """Focus the input."""
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter: hand back the text."""
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        """Escape: hand back nothing."""
        self.dismiss(None)
