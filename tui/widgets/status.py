"""The status line: which file, how far reading got, where the cursor is, follow or pinned.

Everything it says comes down in a :class:`StatusModel`; trace-derived bits (file name,
branch name, notices) pass through :func:`~trace_tui.tui.display.safe_text.display_str`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from trace_tui.tui.display.formatting import fmt_count
from trace_tui.tui.display.safe_text import display_str
from trace_tui.tui.widgets.text_line import TextLines


@dataclass(frozen=True)
class StatusModel:
    """What the status line shows."""

    file_name: str
    format_name: str
    steps: int
    complete: bool = False
    progress: float = 0.0
    cursor: int = -1
    tail: bool = False
    following: bool = False
    unseen: int = 0
    branch: str | None = None
    problems: int = 0
    first_problem: str | None = None
    errors: int = 0
    filter_text: str | None = None
    filter_shown: int = 0
    search: str | None = None
    busy: str | None = None
    notice: str | None = None


class StatusLine(TextLines):
    """One line of facts about the run and the cursor."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; color: $text; text-wrap: nowrap;
                 text-overflow: ellipsis; }
    StatusLine > .status--muted { color: $text-muted; }
    StatusLine > .status--follow { color: $gauge-ok; text-style: bold; }
    StatusLine > .status--pinned { color: $gauge-warn; text-style: bold; }
    StatusLine > .status--error { color: $step-error; text-style: bold; }
    StatusLine > .status--busy { color: $step-running; }
    """

    COMPONENT_CLASSES = {"status--muted", "status--follow", "status--pinned", "status--error",
                         "status--busy"}

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._model: StatusModel | None = None
        self._styles: dict[str, Style] | None = None
        self._text: Text | None = None

    @property
    def model(self) -> StatusModel | None:
        """What the line shows."""
        return self._model

    def notify_style_update(self) -> None:
        """The theme changed: drop cached styles (and the text made with them)."""
        super().notify_style_update()
        self._styles = None
        self._text = None

    def show(self, model: StatusModel) -> None:
        """Show ``model``."""
        if model != self._model:
            self._model = model
            self._text = None
            self.refresh()

    def shown_text(self) -> Text:
        """The status text (made once per model)."""
        if self._text is None:
            self._text = self._layout()
        return self._text

    def _layout(self) -> Text:
        """The status text, most important first."""
        model = self._model
        text = Text(no_wrap=True, overflow="ellipsis")
        if model is None:
            return text
        if self._styles is None:
            self._styles = {c: self.get_component_rich_style(c) for c in self.COMPONENT_CLASSES}
        s = self._styles.__getitem__
        sep = (" │ ", s("status--muted"))
        if model.steps:
            text.append(f" step {model.cursor + 1:,}/{model.steps:,}", style="bold")
        else:
            text.append(" no steps yet", style="bold")
        if model.tail:
            text.append(*sep)
            if model.following:
                text.append("● following", style=s("status--follow"))
            else:
                text.append("⏸ pinned", style=s("status--pinned"))
                if model.unseen:
                    text.append(f" · {fmt_count(model.unseen)} new steps (f)",
                                style=s("status--pinned"))
        if model.errors:
            text.append(*sep)
            text.append(f"✖ {fmt_count(model.errors)} error{'s' * (model.errors != 1)}",
                        style=s("status--error"))
        if model.filter_text is not None:
            text.append(*sep)
            query = display_str(model.filter_text, one_line=True, limit=30)
            text.append(f"filter {query} ({fmt_count(model.filter_shown)} shown)",
                        style=s("status--pinned"))
        if model.search is not None:
            text.append(*sep)
            text.append(display_str(model.search, one_line=True, limit=50),
                        style=s("status--pinned"))
        if model.busy:
            text.append(*sep)
            text.append(model.busy, style=s("status--busy"))
        elif not model.complete:
            text.append(*sep)
            text.append(f"reading {model.progress:.0%}", style=s("status--busy"))
        if model.notice:
            text.append(*sep)
            text.append(display_str(model.notice, one_line=True, limit=80),
                        style=s("status--pinned"))
        text.append(*sep)
        name = display_str(model.file_name, one_line=True, limit=40)
        text.append(f"{name} · {display_str(model.format_name, one_line=True, limit=20)}",
                    style=s("status--muted"))
        if model.branch:
            text.append(f" · branch {display_str(model.branch, one_line=True, limit=30)}",
                        style=s("status--muted"))
        if model.problems == 1 and model.first_problem:
            text.append(" · ⚠ " + display_str(model.first_problem, one_line=True, limit=60)
                        + " (W)", style=s("status--pinned"))
        elif model.problems:
            text.append(f" · ⚠ {fmt_count(model.problems)} bad line"
                        + "s" * (model.problems != 1) + " (W lists them)",
                        style=s("status--pinned"))
        return text
