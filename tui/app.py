"""The Textual application and :func:`build_app`, the one factory the CLI, tests and bench use.

``build_app`` checks the arguments, opens the trace (a missing or unreadable file raises
:class:`~trace_tui.core.io.trace_path.TraceOpenError` here, before any screen appears) and returns
a
:class:`TraceApp` whose default screen is the debugger. The app registers the themes from
``trace_tui/themes``, keeps the payload highlighter's Pygments style in step with the theme,
and closes the source when it exits.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from textual import events
from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.theme import Theme

from trace_tui.core.io.trace_path import TraceOpenError
from trace_tui.core.model.context_windows import ContextWindowTable, load_user_windows
from trace_tui.core.model.source import TraceSource
from trace_tui.core.policy.model import Policy
from trace_tui.core.reading.source import open_source
from trace_tui.core.text.redact import Redactor, load_redactor
from trace_tui.themes import (
    DEFAULT_THEME,
    NO_COLOR_THEME,
    load_themes,
    pygments_style_for,
    resolve_theme_name,
    theme_variable_defaults,
)
from trace_tui.tui.commands import TraceCommands
from trace_tui.tui.display.safe_text import configure_redaction, plain_notice
from trace_tui.tui.gc_policy import IdleCollector
from trace_tui.tui.keys import APP_BINDINGS
from trace_tui.tui.messages import OpenTrace
from trace_tui.tui.screens.debugger import DebuggerScreen

log = logging.getLogger(__name__)

#: After a key or mouse press, trace readers wait this long before indexing on, so that the
#: press is handled and drawn without sharing the interpreter with them.
INPUT_PAUSE_SECONDS = 0.2


class TraceApp(App[int]):
    """trace-tui's screen: one trace, its debugger, our themes and commands."""

    CSS_PATH = "app.tcss"
    TITLE = "trace-tui"
    COMMANDS = App.COMMANDS | {TraceCommands}
    BINDINGS = APP_BINDINGS

    def __init__(self, source: TraceSource, *, follow: bool = False,
                 windows: ContextWindowTable | None = None, theme: str | None = None,
                 policy: Policy | None = None) -> None:
        super().__init__()
        self.policy = policy
        for item in load_themes():
            self.register_theme(item.theme)
        self.source = source
        self.follow = follow
        self.windows = windows or ContextWindowTable()
        self.theme = theme or (NO_COLOR_THEME if self.no_color else DEFAULT_THEME)
        self.title = f"trace-tui · {Path(source.path).name}"
        self.collector = IdleCollector()
        self._first_source = source
        self._retired: list[TraceSource] = []

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """Our variables (step-llm, gauge-warn ...) for themes that do not set them."""
        return theme_variable_defaults()

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's commands minus the ones we do our own way.

        Its theme picker lists Textual's themes, whose colours lack our variables (our
        ``theme: …`` commands list ours); its "Keys" panel and "Maximize" differ from ``?``
        and ``z`` (``view: Keys``, ``view: Zoom pane``).
        """
        ours = {"Theme", "Keys", "Maximize", "Minimize"}
        return [c for c in super().get_system_commands(screen) if c.title not in ours]

    def get_default_screen(self) -> DebuggerScreen:
        """The debugger is the main screen."""
        return DebuggerScreen(self.source, follow=self.follow, windows=self.windows,
                              code_style=self.code_style, policy=self.policy,
                              user_active=self._user_active)

    def _user_active(self) -> bool:
        """A key or mouse press in the last :data:`INPUT_PAUSE_SECONDS`: readers wait."""
        return self.collector.input_within(INPUT_PAUSE_SECONDS)

    @property
    def code_style(self) -> str:
        """The Pygments style of the current theme."""
        theme = self.current_theme
        return pygments_style_for(theme.name, theme.dark)

    @property
    def debugger(self) -> DebuggerScreen:
        """The debugger screen on top (for tests and the benchmark)."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, DebuggerScreen):
                return screen
        raise LookupError("the debugger screen is not running")

    def on_open_trace(self, message: OpenTrace) -> None:
        """A debugger asked to show another file (a branch, or the trace it came from)."""
        self.open_trace(message.path)

    def open_trace(self, path: str | os.PathLike[str]) -> None:
        """Show the trace (or branch) at ``path`` in the debugger, in place of the current run.

        Used to switch between a trace and its branches. The first trace's debugger stays at
        the bottom of the stack: going back to it pops what is above; any other file gets a
        new debugger (pushed over the first, or switched in for the one on top), read like any
        trace and never followed. Replaced sources are closed when the app exits (a reader
        may still be stopping).
        """
        target = Path(path)
        while len(self.screen_stack) > 1 and not isinstance(self.screen, DebuggerScreen):
            self.pop_screen()
        if os.path.realpath(target) == os.path.realpath(self._first_source.path):
            while len(self.screen_stack) > 1:
                self.pop_screen()
            self._retire(self._first_source)
            return
        try:
            source = open_source(target)
        except (TraceOpenError, OSError) as exc:
            log.warning("cannot open %s: %s", target, exc)
            self.notify(plain_notice(f"cannot open {target.name}: {exc}"), severity="error",
                        markup=False)
            return
        self._retire(source)
        screen = DebuggerScreen(source, follow=False, windows=self.windows,
                                code_style=self.code_style, policy=self.policy,
                                user_active=self._user_active)
        if len(self.screen_stack) > 1:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def _retire(self, current: TraceSource) -> None:
        """``current`` is on screen now; remember the one it replaces for closing at exit."""
        if self.source is not current and self.source is not self._first_source:
            self._retired.append(self.source)
        self.source = current
        self.title = f"trace-tui · {Path(current.path).name}"

    def on_mount(self) -> None:
        """Follow theme changes with the payload highlighter; keep GC out of key presses."""
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.collector.start()
        self.set_interval(0.25, self.collector.tick, name="idle gc")

    async def on_event(self, event: events.Event) -> None:
        """Note user input (the collector waits for idle time), then handle it as usual."""
        if isinstance(event, events.Key | events.MouseDown | events.MouseScrollDown
                      | events.MouseScrollUp):
            self.collector.note_input()
        await super().on_event(event)

    def _theme_changed(self, theme: Theme) -> None:
        style = pygments_style_for(theme.name, theme.dark)
        for screen in self.screen_stack:
            if isinstance(screen, DebuggerScreen):
                screen.set_code_style(style)

    def action_next_theme(self) -> None:
        """Cycle through our themes."""
        names = [item.theme.name for item in load_themes()]
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"theme {self.theme}", markup=False, timeout=2)

    async def on_unmount(self) -> None:
        """Stop the reader (it checks between reads), release the file, give GC back."""
        self.workers.cancel_all()
        self.collector.stop()
        try:
            await asyncio.wait_for(self.workers.wait_for_complete(), timeout=2.0)
        except TimeoutError:
            log.warning("the trace reader did not stop within 2 s; closing the file anyway")
        for source in {id(s): s for s in (*self._retired, self._first_source,
                                            self.source)}.values():
            source.close()


def _user_windows(context_windows: Sequence[str] | Mapping[str, int] | None) -> dict[str, int]:
    if isinstance(context_windows, Mapping):
        merged = load_user_windows(None)
        merged.update({str(k): int(v) for k, v in context_windows.items()})
        return merged
    return load_user_windows(list(context_windows or ()))


def build_app(
    path: str | os.PathLike[str],
    *,
    follow: bool = False,
    format_name: str | None = None,
    context_windows: Sequence[str] | Mapping[str, int] | None = None,
    theme: str | None = None,
    redactor: Redactor | None = None,
    policy: str | os.PathLike[str] | Policy | None = None,
) -> TraceApp:
    """The debugger app for the trace at ``path`` (not yet running).

    ``follow`` tails a live file; ``format_name`` skips detection; ``context_windows`` adds
    window sizes (``["MODEL=TOKENS", ...]`` as on the command line, or a mapping);
    ``theme`` is ``dark``, ``light``, ``high-contrast`` or any registered theme name;
    ``redactor`` masks secrets on screen (default: the user's rules, see core/text/redact.py);
    ``policy`` (a path or a loaded policy) marks every step's verdict (docs/policy.md).
    Raises ``TraceOpenError`` (unreadable or unknown file) or ``ValueError`` (bad option)
    before anything is drawn.
    """
    theme_name = resolve_theme_name(theme) if theme else None
    table = ContextWindowTable(_user_windows(context_windows))
    configure_redaction(redactor if redactor is not None else load_redactor())
    if policy is not None and not isinstance(policy, Policy):
        from trace_tui.core.policy.loader import load_policy  # jsonschema: only when asked

        policy = load_policy(policy)  # a bad policy is bad input, before anything is drawn
    source = open_source(path, format_name, follow=follow)
    return TraceApp(source, follow=follow, windows=table, theme=theme_name, policy=policy)
