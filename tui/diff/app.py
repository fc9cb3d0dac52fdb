"""``trace-tui diff A B``: a small app that shows :class:`~trace_tui.tui.diff.screen.DiffScreen`.

It registers trace-tui's themes (with their variables, such as ``diff-added``, as defaults for
any theme), pushes the diff screen and exits when the screen is closed. Tests build it with
:func:`make_diff_app`, the same factory the command line uses.
"""

from __future__ import annotations

from textual.app import App

from trace_tui.core.diff.compare import DiffOptions
from trace_tui.core.model.run import RunView
from trace_tui.themes import (
    DEFAULT_THEME,
    NO_COLOR_THEME,
    load_themes,
    resolve_theme_name,
    theme_variable_defaults,
)
from trace_tui.tui.diff.screen import DiffScreen


class DiffApp(App[int]):
    """Shows one :class:`DiffScreen`; quitting it quits the app."""

    TITLE = "trace-tui diff"
    #: The widgets fall back on Textual's $success/$error/$block-cursor-*; our themes name
    #: their own diff and cursor colours, used here (the debugger can add the same rules).
    CSS = """
    AlignedSteps > .aligned-steps--added { color: $diff-added; }
    AlignedSteps > .aligned-steps--removed { color: $diff-removed; }
    AlignedSteps > .aligned-steps--cursor { background: $step-cursor 60%; }
    AlignedSteps:focus > .aligned-steps--cursor { background: $step-cursor; }
    DiffDetail > .diff-detail--added { color: $diff-added; }
    DiffDetail > .diff-detail--removed { color: $diff-removed; }
    DiffDetail > .diff-detail--gone { color: $diff-removed; }
    DiffSummary > .diff-summary--added { color: $diff-added; }
    DiffSummary > .diff-summary--removed { color: $diff-removed; }
    """

    def __init__(
        self,
        left: RunView,
        right: RunView,
        left_label: str = "A",
        right_label: str = "B",
        options: DiffOptions | None = None,
        theme: str | None = None,
    ) -> None:
        super().__init__()
        self.left = left
        self.right = right
        self.labels = (left_label, right_label)
        self.options = options or DiffOptions()
        for item in load_themes():
            self.register_theme(item.theme)
        if theme:
            self.theme = resolve_theme_name(theme)
        else:
            self.theme = NO_COLOR_THEME if self.no_color else DEFAULT_THEME

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Our variables (``diff-added``, ``step-cursor`` ...) for themes that do not set them."""
        return theme_variable_defaults()

    def on_mount(self) -> None:
        screen = DiffScreen(self.left, self.right, *self.labels, options=self.options)
        self.push_screen(screen, callback=lambda _: self.exit(0))


def make_diff_app(
    left: RunView,
    right: RunView,
    left_label: str = "A",
    right_label: str = "B",
    options: DiffOptions | None = None,
    theme: str | None = None,
) -> DiffApp:
    """The app ``trace-tui diff`` runs (raises ``ValueError`` for an unknown theme)."""
    return DiffApp(left, right, left_label, right_label, options, theme)


def run_diff_app(
    left: RunView,
    right: RunView,
    left_label: str,
    right_label: str,
    options: DiffOptions | None = None,
    theme: str | None = None,
) -> int:
    """Run the diff screen until the user closes it; the exit code is 0."""
    app = make_diff_app(left, right, left_label, right_label, options, theme)
    result = app.run()
    return int(result or 0)
