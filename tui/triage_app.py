"""The triage screen: failure groups, their runs, and each run opened at its failing step.

:class:`TriageApp` shows the groups (count, share, how they failed) and, below, the runs of the
highlighted group with their failing and divergence steps. Enter on a group opens its
representative run; Enter on a run opens that run. :func:`run_triage_screen` then shows the run
in the debugger (:class:`TriageRunApp`), with the cursor on the failing step; ``Esc`` (when no
filter is set) or ``q`` comes back to the groups, where the same group is still highlighted.

Names, paths and messages come from traces and are untrusted: every cell goes through the one
display door (:mod:`trace_tui.tui.display.safe_text`).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer

from trace_tui.core.triage.grouping import FailureGroup, GroupedRun
from trace_tui.core.triage.outcomes import SHORT
from trace_tui.core.triage.summary import RunSummary
from trace_tui.themes import DEFAULT_THEME, NO_COLOR_THEME, load_themes
from trace_tui.tui.app import TraceApp
from trace_tui.tui.display.safe_text import display_str
from trace_tui.tui.widgets.text_line import TextLine


@dataclass(frozen=True, slots=True)
class Chosen:
    """The run to open, at which step (0-based), and where the user was in the lists."""

    path: str
    step: int | None
    group: int
    run: int


def _cell(value: object, limit: int, style: str = "") -> Text:
    return Text(display_str(value, one_line=True, limit=limit), style=style, end="")


class TriageApp(App[Chosen | None]):
    """Failure groups and their runs (see module doc)."""

    TITLE = "trace-tui · triage"
    CSS = """
    #summary { height: 1; padding: 0 1; background: $panel; }
    #groups { height: 2fr; }
    #runs-title { height: 1; padding: 0 1; color: $text-muted; }
    #runs { height: 1fr; }
    """
    BINDINGS = [
        Binding("enter", "open", "Open run", id="triage.open", priority=True,
                tooltip="Open the group's representative run (or the highlighted run)"),
        Binding("q", "quit_triage", "Quit", id="triage.quit", tooltip="Leave triage"),
    ]

    def __init__(self, summaries: list[RunSummary], groups: list[FailureGroup], *,
                 group: int = 0, run: int = 0, theme: str | None = None) -> None:
        super().__init__()
        for item in load_themes():
            self.register_theme(item.theme)
        self.theme = theme or (NO_COLOR_THEME if self.no_color else DEFAULT_THEME)
        self.summaries = summaries
        self.groups = groups
        self._start = (group, run)

    def compose(self) -> ComposeResult:
        """Summary line, the groups, the runs of the highlighted group, the keys."""
        yield TextLine(id="summary")
        groups: DataTable[Text] = DataTable(id="groups", cursor_type="row")
        groups.add_columns("#", "runs", "share", "outcome", "tool", "what failed", "last seen")
        yield groups
        yield TextLine(id="runs-title")
        runs: DataTable[Text] = DataTable(id="runs", cursor_type="row")
        runs.add_columns("run", "format", "failing step", "diverges at", "error")
        yield runs
        yield Footer()

    def on_mount(self) -> None:
        """Fill the tables and put the cursor where the user left it."""
        total = len(self.summaries)
        failed = sum(1 for s in self.summaries if s.failed)
        self.query_one("#summary", TextLine).set_text(Text(
            f"{total:,} runs · {failed:,} failed · {len(self.groups):,} failure groups · "
            "Enter opens a run at its failing step, Esc there comes back · Tab: the runs", end=""))
        table = self.query_one("#groups", DataTable)
        for number, group in enumerate(self.groups, 1):
            share = f"{100 * group.count / total:.1f} %" if total else "-"
            table.add_row(Text(str(number), end=""), Text(f"{group.count:,}", end=""),
                          Text(share, end=""),
                          _cell(SHORT.get(group.outcome, group.outcome), 16, "bold"),
                          _cell(group.tool or "-", 20), _cell(group.message or "-", 70),
                          Text(_when(group.last_seen), end=""))
        start_group, start_run = self._start
        if self.groups:
            table.move_cursor(row=min(start_group, len(self.groups) - 1), animate=False)
            self._fill_runs(table.cursor_row)
            if start_run:
                self.query_one("#runs", DataTable).move_cursor(row=start_run, animate=False)
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Keep the runs list on the highlighted group."""
        if event.data_table.id == "groups":
            self._fill_runs(event.cursor_row)

    def _fill_runs(self, index: int) -> None:
        runs = self.query_one("#runs", DataTable)
        runs.clear()
        if not 0 <= index < len(self.groups):
            return
        group = self.groups[index]
        self.query_one("#runs-title", TextLine).set_text(Text(
            f"runs of group {index + 1} ({group.count:,}); the representative first", end=""))
        for item in self._ordered_runs(group):
            summary = item.summary
            runs.add_row(_cell(_short_path(summary.path), 48), _cell(summary.format, 12),
                         Text(_step(summary.step), end=""),
                         Text(_step(item.divergence) if item.sibling else "no sibling",
                              style="" if item.sibling else "dim", end=""),
                         _cell(summary.error or "-", 60))

    def _ordered_runs(self, group: FailureGroup) -> list[GroupedRun]:
        rep = group.representative
        return [rep, *(r for r in group.runs if r is not rep)]

    def action_open(self) -> None:
        """Open the representative run (groups focused) or the highlighted run (runs focused)."""
        groups = self.query_one("#groups", DataTable)
        runs = self.query_one("#runs", DataTable)
        if not self.groups:
            self.notify("no failing runs: nothing to open", markup=False, timeout=3)
            return
        group = self.groups[groups.cursor_row]
        ordered = self._ordered_runs(group)
        position = runs.cursor_row if self.focused is runs else 0
        chosen = ordered[min(position, len(ordered) - 1)]
        self.exit(Chosen(chosen.summary.path, chosen.summary.step, groups.cursor_row, position))

    def action_quit_triage(self) -> None:
        """Leave."""
        self.exit(None)


class TriageRunApp(TraceApp):
    """The debugger on one run from triage: starts at the failing step; Esc comes back."""

    BINDINGS = [*TraceApp.BINDINGS,
                Binding("escape", "back_to_triage", "Back to triage", id="triage.back",
                        tooltip="Back to the failure groups")]

    def __init__(self, *args: object, start_step: int | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.start_step = start_step

    def on_mount(self) -> None:
        """Move to the failing step once the reader has reached it."""
        super().on_mount()
        if self.start_step is not None:
            self._waiting = self.set_interval(0.05, self._go_to_start, name="triage start")

    def _go_to_start(self) -> None:
        try:
            screen = self.debugger
        except LookupError:
            return
        if self.start_step is not None and screen.count > self.start_step:
            screen.move_to(self.start_step)
            self.start_step = None
            self._waiting.stop()

    def action_back_to_triage(self) -> None:
        """Back to the groups."""
        self.exit(0)


def _short_path(path: str) -> str:
    """The file name and its folder (the rest of a long path says little in a narrow column)."""
    parts = path.replace("\\", "/").rsplit("/", 2)
    return "/".join(parts[-2:]) if len(parts) > 2 else path


def _when(seconds: float | None) -> str:
    return time.strftime("%m-%d %H:%M", time.gmtime(seconds)) if seconds is not None else "-"


def _step(index: int | None) -> str:
    return f"step {index + 1}" if index is not None else "-"


def run_triage_screen(summaries: list[RunSummary], groups: list[FailureGroup],
                      args: argparse.Namespace) -> None:
    """Alternate between the groups and the debugger on a chosen run until the user leaves."""
    from trace_tui.core.text.redact import load_redactor
    from trace_tui.tui.display.safe_text import configure_redaction
    from trace_tui.tui.logfile import logging_to_file

    redactor = getattr(args, "redactor", None) or load_redactor(
        enabled=not getattr(args, "no_redact", False))
    configure_redaction(redactor)
    where = (0, 0)
    with logging_to_file():
        while True:
            chosen = TriageApp(summaries, groups, group=where[0], run=where[1]).run()
            if chosen is None:
                return
            where = (chosen.group, chosen.run)
            debugger_for(chosen, getattr(args, "policy", None)).run()


def debugger_for(chosen: Chosen, policy_path: str | None) -> TriageRunApp:
    """The debugger on the chosen run, at its failing step, with triage's policy (if any)
    marking verdicts as ``open --policy`` does."""
    from trace_tui.core.model.context_windows import ContextWindowTable
    from trace_tui.core.policy.loader import load_policy
    from trace_tui.core.reading.source import open_source

    policy = load_policy(policy_path) if policy_path else None
    return TriageRunApp(open_source(chosen.path), windows=ContextWindowTable(),
                        start_step=chosen.step, policy=policy)
