"""The side-by-side diff of two runs: a self-contained screen any app can push.

``DiffScreen(left, right, "before.jsonl", "after.jsonl")`` compares the two runs in a worker
thread, then shows a summary (counts, first divergence, token/cost/duration totals, how the
tool calls changed), the aligned steps with same/changed/added/removed markers, and the payload
diff of the selected row. On open the cursor sits on the first divergence; ``n``/``p`` jump
to the next/previous difference. The screen dismisses itself on ``q``/``escape``; what happens
then is the pushing app's business (``DiffApp`` exits, the debugger goes back to its run).

It depends on nothing but the two runs it is given (any :class:`~trace_tui.core.model.run.RunView`)
and the core diff, so the debugger can push it for a branch and its parent.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from trace_tui.core.diff.compare import (
    ADDED,
    CHANGED,
    REMOVED,
    SAME,
    DiffOptions,
    RunDiff,
    diff_runs,
)
from trace_tui.core.diff.wording import delta_text, step_title
from trace_tui.core.model.run import RunView
from trace_tui.tui.diff.detail import DiffDetail
from trace_tui.tui.diff.steps import AlignedSteps
from trace_tui.tui.display.safe_text import display_str, plain_notice

log = logging.getLogger(__name__)


class DiffSummary(Static):
    """The few lines above the rows: what is compared, how much differs, totals, tools."""

    COMPONENT_CLASSES = {
        "diff-summary--label",
        "diff-summary--added",
        "diff-summary--removed",
        "diff-summary--changed",
        "diff-summary--muted",
    }

    DEFAULT_CSS = """
    DiffSummary {
        height: auto;
        max-height: 4;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        padding: 0 1;
        background: $panel;
        & > .diff-summary--label { text-style: bold; }
        & > .diff-summary--added { color: $success; }
        & > .diff-summary--removed { color: $error; }
        & > .diff-summary--changed { color: $warning; }
        & > .diff-summary--muted { color: $foreground-muted; }
    }
    """

    def part_style(self, name: str) -> Style:
        """A component style by short name."""
        return self.get_component_rich_style(f"diff-summary--{name}")

    def show_labels(self, left: RunView, right: RunView, labels: tuple[str, str]) -> Text:
        """The first line: which runs are compared."""
        text = Text(end="")
        for tag, run, label in (("A", left, labels[0]), ("B", right, labels[1])):
            text.append(f"{tag} ", self.part_style("label"))
            text.append(display_str(label, one_line=True, limit=60))
            text.append(f" ({len(run)} steps)", self.part_style("muted"))
            text.append("   " if tag == "A" else "")
        return text

    def show(
        self, diff: RunDiff | None, left: RunView, right: RunView, labels: tuple[str, str]
    ) -> None:
        """Redraw for ``diff`` (``None``: still comparing); one line per fact, never wrapped."""
        lines = [self.show_labels(left, right, labels)]
        if diff is None:
            lines.append(Text("Comparing…", self.part_style("muted")))
        else:
            lines.append(self._counts(diff))
            lines.append(self._totals(diff))
            if diff.tool_summary:
                lines.append(self._tools(diff.tool_summary))
        self.update(Text("\n", end="").join(lines))

    def _totals(self, diff: RunDiff) -> Text:
        totals = diff.total_deltas()
        text = Text(end="")
        text.append("tokens ", self.part_style("muted"))
        text.append(delta_text(totals["tokens"]))
        text.append("  cost ", self.part_style("muted"))
        text.append(delta_text(totals["cost"], money=True))
        text.append("  duration ", self.part_style("muted"))
        text.append(delta_text(totals["duration"], seconds=True))
        return text

    def _tools(self, summary: list[str]) -> Text:
        text = Text("tools ", self.part_style("muted"), end="")
        more = len(summary) - 3
        shown = " · ".join(summary[:3]) + (f" · +{more} more" if more > 0 else "")
        text.append(display_str(shown, one_line=True, limit=400))
        return text

    def _counts(self, diff: RunDiff) -> Text:
        counts = diff.counts()
        text = Text(end="")
        for status, mark, part in (
            (SAME, "=", "muted"),
            (CHANGED, "~", "changed"),
            (ADDED, "+", "added"),
            (REMOVED, "-", "removed"),
        ):
            text.append(f"{mark} {counts[status]} {status}  ", self.part_style(part))
        first = diff.first_divergence
        if first is None:
            ignored = ", ".join(diff.rules.words) or "nothing"
            text.append(
                f"equivalent (ignoring {display_str(ignored, one_line=True)})",
                self.part_style("label"),
            )
        else:
            where = display_str(step_title(diff, diff.rows[first]), one_line=True, limit=60)
            text.append(f"first divergence: row {first + 1}, {where}", self.part_style("label"))
        return text


class DiffScreen(Screen[None]):
    """Side-by-side diff of two runs (see the module docstring)."""

    DEFAULT_CSS = """
    DiffScreen {
        layout: vertical;
        & > AlignedSteps { height: 1fr; min-height: 4; }
        & > DiffDetail { height: 1fr; min-height: 4; border-top: solid $panel-lighten-2; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "n,right_square_bracket",
            "next_difference",
            "Next diff",
            id="diff.next",
            tooltip="Jump to the next row that differs",
        ),
        Binding(
            "p,left_square_bracket",
            "previous_difference",
            "Prev diff",
            id="diff.previous",
            tooltip="Jump to the previous row that differs",
        ),
        Binding(
            "f",
            "first_divergence",
            "First divergence",
            id="diff.first_divergence",
            tooltip="Jump to the first row where the runs differ",
        ),
        Binding("q,escape", "close", "Close", id="diff.close", tooltip="Close the diff"),
        Binding(
            "question_mark",
            "toggle_keys",
            "Keys",
            id="diff.keys",
            tooltip="Show every key of this screen",
        ),
    ]

    def __init__(
        self,
        left: RunView,
        right: RunView,
        left_label: str = "A",
        right_label: str = "B",
        options: DiffOptions | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.left = left
        self.right = right
        self.labels = (left_label, right_label)
        self.options = options or DiffOptions()
        self.diff: RunDiff | None = None

    def compose(self) -> ComposeResult:
        yield DiffSummary(id="diff-summary")
        yield AlignedSteps(id="diff-steps")
        yield DiffDetail(id="diff-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DiffSummary).show(None, self.left, self.right, self.labels)
        self.query_one(AlignedSteps).focus()
        self.compare()

    # ----------------------------------------------------------------- comparing
    @work(thread=True, exclusive=True, group="diff", exit_on_error=False)
    def compare(self) -> RunDiff:
        """Align and diff the two runs (off the UI thread: big runs take seconds)."""
        return diff_runs(self.left, self.right, self.options)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "diff":
            return
        if event.state == WorkerState.SUCCESS and isinstance(event.worker.result, RunDiff):
            self.show_diff(event.worker.result)
        elif event.state == WorkerState.ERROR:
            error = event.worker.error
            log.error("diff failed", exc_info=error)
            message = plain_notice(f"Could not compare the runs: {error}")
            self.query_one(DiffDetail).show_message(Text(message))
            self.notify(message, severity="error", markup=False)

    def show_diff(self, diff: RunDiff) -> None:
        """Show a finished diff, the cursor on the first divergence."""
        self.diff = diff
        self.query_one(DiffSummary).show(diff, self.left, self.right, self.labels)
        steps = self.query_one(AlignedSteps)
        if not diff.rows:
            self.query_one(DiffDetail).show_message(Text("Both runs are empty."))
        steps.set_diff(diff, diff.first_divergence or 0)
        self.refresh_bindings()

    def on_aligned_steps_cursor_moved(self, message: AlignedSteps.CursorMoved) -> None:
        if self.diff is not None and 0 <= message.row < len(self.diff.rows):
            self.query_one(DiffDetail).show_row(self.diff, message.row)

    # ----------------------------------------------------------------- actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Difference jumps are greyed out until there is a difference to jump to."""
        if action in ("next_difference", "previous_difference", "first_divergence"):
            return True if self.diff is not None and self.diff.difference_rows else None
        return True

    @property
    def cursor_row(self) -> int:
        """The selected row."""
        return self.query_one(AlignedSteps).cursor

    def action_next_difference(self) -> None:
        self._jump(self.diff.next_difference(self.cursor_row) if self.diff else None, "next")

    def action_previous_difference(self) -> None:
        row = self.diff.previous_difference(self.cursor_row) if self.diff else None
        self._jump(row, "previous")

    def action_first_divergence(self) -> None:
        self._jump(self.diff.first_divergence if self.diff else None, "first")

    def _jump(self, row: int | None, which: str) -> None:
        if row is None:
            self.notify(f"No {which} difference.", markup=False, timeout=2)
            return
        self.query_one(AlignedSteps).select(row, center=True)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_toggle_keys(self) -> None:
        """``?``: the same key help as the debugger's, listing this screen's keys."""
        from trace_tui.tui.screens.help import HelpScreen

        def only(items: list[BindingType]) -> list[Binding]:
            return [b for b in items if isinstance(b, Binding)]

        self.app.push_screen(HelpScreen([
            ("Diff screen", only(self.BINDINGS)),
            ("Aligned steps (left)", only(AlignedSteps.BINDINGS)),
        ]))
