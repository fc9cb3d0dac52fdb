"""Fork, branches and diff for the debugger screen (``F``, ``b``, ``d``, palette "branch:"/"diff:").

``F`` opens the step's record in :class:`~trace_tui.tui.screens.fork_editor.ForkEditorScreen`;
the plan it returns is replayed in a thread worker (group ``replay``) by a
:class:`~trace_tui.tui.session.branch_session.ForkSession`, which saves the branch in
``.trace-tui/``. A stop
for a model response or a tool result opens
:class:`~trace_tui.tui.screens.answer.AnswerScreen`; each answer resumes the replay in the
worker and saves again. When the replay is over (or the user keeps it stopped) the debugger
shows the branch. ``b`` lists the branch tree and switches to the chosen run; ``d`` on a
branch pushes :class:`~trace_tui.tui.diff.screen.DiffScreen` against its parent.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from trace_tui.core.io.trace_path import TraceOpenError
from trace_tui.tui.display.safe_text import current_redactor, display_str, plain_notice
from trace_tui.tui.messages import BranchFactsRead, OpenTrace, ReplayDone, RunsToCompare
from trace_tui.tui.screens.debugger_base import DebuggerScreenBase
from trace_tui.tui.screens.prompt import PromptScreen

# Fork, replay, branches and diff are imported when first used: the first screen of a trace
# needs none of them (issue 15: import only what the first screen needs).
if TYPE_CHECKING:
    from trace_tui.core.model.run import RunView
    from trace_tui.core.replay.fork import ForkPlan
    from trace_tui.tui.screens.answer import ManualAnswer
    from trace_tui.tui.session.branch_session import BranchFacts, ForkOutcome, ForkSession

log = logging.getLogger(__name__)

BRANCHING_ACTIONS = ("fork", "branches", "diff_parent", "diff_with")


class BranchingMixin(DebuggerScreenBase):
    """Fork/replay, branch tree and diff actions (mixed into
    :class:`~trace_tui.tui.screens.debugger.DebuggerScreen`)."""

    def init_branching(self) -> None:
        """No branch facts yet, no replay running."""
        self.branch_facts: BranchFacts | None = None
        self.fork_session: ForkSession | None = None
        self.replaying: str | None = None

    # ----------------------------------------------------------------- branch facts
    @work(thread=True, exclusive=True, group="branch-facts", exit_on_error=False,
          name="branch facts")
    def read_branch_facts(self) -> None:
        """Is this file a branch, and how many branches hang below it (reads file heads)."""
        from trace_tui.tui.session.branch_session import read_branch_facts as read_facts

        self.post_message(BranchFactsRead(read_facts(Path(self.source.path))))

    def on_screen_resume(self) -> None:
        """Shown (again): re-read the branch facts, a fork may have added a branch (after
        the screen is drawn: the first screen does not wait for the replay modules)."""
        self.call_after_refresh(self.read_branch_facts)

    def on_branch_facts_read(self, message: BranchFactsRead) -> None:
        """Show "branch NAME" or "N branches" and enable ``d`` on a branch."""
        self.branch_facts = message.facts
        self._update_status()
        self.refresh_bindings()

    def check_branching_action(self, action: str) -> bool | None:
        """Fork only a fully read, non-empty run, one replay at a time; ``d`` on a branch."""
        ready = self.complete and self.count > 0 and self.cursor.position >= 0
        if action == "fork":
            return True if ready and self.replaying is None else None
        if action == "diff_parent":
            facts = self.branch_facts
            return True if ready and facts is not None and facts.is_branch else None
        if action == "diff_with":
            return True if ready else None
        return True

    # ----------------------------------------------------------------- fork
    def action_fork(self) -> None:
        """Open the step under the cursor as editable JSON; fork and replay on save."""
        from trace_tui.core.replay.fork import step_record
        from trace_tui.tui.screens.fork_editor import ForkEditorScreen
        from trace_tui.tui.session.branch_session import ForkSession, editable_json

        if self.check_branching_action("fork") is not True:
            self.notify("wait until the trace is read (and any replay has finished)",
                        severity="warning", markup=False)
            return
        index = self.cursor.position
        step = self.load_step(index)
        session = ForkSession(Path(self.source.path), self.source.format_name,
                              current_redactor())
        number = index + 1
        title = (f"Fork at step {number}: {step.kind} "
                 f"{display_str(step.name, one_line=True, limit=60)}")

        def planner(edits: list[dict[str, object]]) -> ForkPlan:
            return session.plan(number, edits)

        def planned(plan: ForkPlan | None) -> None:
            if plan is None:
                return
            self.fork_session = session
            self._replaying(f"replaying {plan.name} from step {plan.fork_step}…")
            self.replay_fork(session, plan)

        self.app.push_screen(ForkEditorScreen(title, editable_json(step_record(step)),
                                              planner), planned)

    def _replaying(self, text: str | None) -> None:
        self.replaying = text
        self._update_status()
        self.refresh_bindings()

    @work(thread=True, group="replay", exit_on_error=False, name="replay")
    def replay_fork(self, session: ForkSession, plan: ForkPlan) -> None:
        """Replay with the recorded fixtures and save the branch (blocking, in a thread)."""
        self.post_message(ReplayDone(session.start(plan)))

    @work(thread=True, group="replay", exit_on_error=False, name="replay")
    def resume_fork(self, session: ForkSession, answer: ManualAnswer) -> None:
        """Answer the pending step, replay on and save again (blocking, in a thread)."""
        self.post_message(ReplayDone(session.answer(answer.value)))

    def on_replay_done(self, message: ReplayDone) -> None:
        """Ask for an answer when the replay stopped for one; otherwise show the branch."""
        from trace_tui.tui.screens.answer import AnswerScreen

        outcome, session = message.outcome, self.fork_session
        self._replaying(None)
        if outcome.error and outcome.pending is None:
            self.notify(plain_notice(outcome.error), severity="error", markup=False)
            if outcome.path is None:
                return
        for warning in outcome.warnings:
            self.notify(plain_notice(f"warning: {warning}"), severity="warning", markup=False)
        if outcome.pending is not None and session is not None:
            def answered(answer: ManualAnswer | None) -> None:
                if answer is None:
                    self.finish_fork(outcome)
                    return
                self._replaying(f"replaying {outcome.name} from step "
                                f"{outcome.pending.step_number if outcome.pending else '?'}…")
                self.resume_fork(session, answer)

            saved = outcome.path.name if outcome.path is not None else None
            self.app.push_screen(AnswerScreen(outcome.pending, outcome.name, outcome.error,
                                              saved), answered)
            return
        self.finish_fork(outcome)

    def finish_fork(self, outcome: ForkOutcome) -> None:
        """Say where the replay got to and show the branch."""
        self.fork_session = None
        line = f"branch {outcome.name}: {outcome.status}"
        if outcome.note:
            line += f" · {outcome.note}"
        self.notify(plain_notice(line, 400), title="Fork", markup=False, timeout=10,
                    severity="information" if outcome.complete else "warning")
        if outcome.path is not None:
            self.app_open(outcome.path)

    def app_open(self, path: Path) -> None:
        """Ask the app to show ``path`` in the debugger in place of this run."""
        self.post_message(OpenTrace(path))

    # ----------------------------------------------------------------- branch tree
    def action_branches(self) -> None:
        """List the branch tree; Enter shows the chosen run."""
        from trace_tui.tui.screens.branches import BranchesScreen
        from trace_tui.tui.session.branch_session import same_file

        current = Path(self.source.path)
        root = self.branch_facts.root if self.branch_facts is not None else current

        def chosen(path: Path | None) -> None:
            if path is not None and not same_file(path, current):
                self.app_open(path)

        self.app.push_screen(BranchesScreen(root, current), chosen)

    # ----------------------------------------------------------------- diff
    def action_diff_parent(self) -> None:
        """Compare this branch with the run it was forked from."""
        facts = self.branch_facts
        if facts is None or facts.entry is None or facts.entry.parent is None:
            self.notify("this run is not a branch", severity="warning", markup=False)
            return
        parent = facts.entry.parent
        self.read_for_diff(parent, (parent.name, f"branch {facts.label}"), parent_first=True)

    def action_diff_with(self) -> None:
        """Ask for a trace path and compare this run with it."""
        def done(text: str | None) -> None:
            if text and text.strip():
                other = Path(text.strip()).expanduser()
                self.read_for_diff(other, (Path(self.source.path).name, other.name),
                                   parent_first=False)

        self.app.push_screen(PromptScreen("Compare this run with the trace at", "Enter compares, "
                                          "Esc cancels", placeholder="path/to/other.jsonl"),
                             done)

    @work(thread=True, exclusive=True, group="diff-read", exit_on_error=False,
          name="diff reader")
    def read_for_diff(self, path: Path, labels: tuple[str, str], *,
                      parent_first: bool) -> None:
        """Read the other run (off the UI thread) and post both runs for the diff screen."""
        from trace_tui.core.reading.reader import open_run

        try:
            other: RunView = open_run(path)
        except TraceOpenError as exc:
            log.warning("cannot compare with %s: %s", path, exc)
            self.app.call_from_thread(self.notify, plain_notice(f"cannot compare: {exc}"),
                                      severity="error", markup=False)
            return
        left, right = (other, self.run_view) if parent_first else (self.run_view, other)
        self.post_message(RunsToCompare(left, right, labels))

    def on_runs_to_compare(self, message: RunsToCompare) -> None:
        """Push the diff screen; q/Esc comes back here."""
        from trace_tui.tui.diff.screen import DiffScreen

        self.app.push_screen(DiffScreen(message.left, message.right, *message.labels))

