"""The debugger screen: span tree, inspector and gauge side by side, step bar, status, footer.

The screen owns the run as the UI sees it (the run object and the scanned step count posted
by the reader worker), the :class:`~trace_tui.core.navigation.cursor.StepCursor` and the
:class:`~trace_tui.core.navigation.run_facts.RunFacts`, and pushes what each pane shows down to it.
Panes talk back with messages (``SpanTree.StepChosen``...). Search and filter live in
:class:`~trace_tui.tui.screens.finding.FindingMixin`; fork, branches and diff in
:class:`~trace_tui.tui.screens.branching.BranchingMixin`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from textual import events, on, work
from textual.app import ComposeResult
from textual.cache import LRUCache
from textual.containers import Horizontal, Vertical
from textual.worker import Worker, WorkerState, get_current_worker

from trace_tui.core.io.raw_record import RawRecord, read_record_line
from trace_tui.core.model.context_windows import ContextWindowTable
from trace_tui.core.model.run import BranchInfo, Step
from trace_tui.core.model.source import TraceSource
from trace_tui.core.navigation.bookkeeping import BOOKKEEPING_FILTER, BOOKKEEPING_FORMATS
from trace_tui.core.navigation.context_view import context_at
from trace_tui.core.navigation.cursor import StepCursor
from trace_tui.core.navigation.run_order import OrderedRun
from trace_tui.core.navigation.state import RunState
from trace_tui.core.navigation.step_query import StepQuery
from trace_tui.core.policy.model import Policy
from trace_tui.core.replay.provenance import replay_answer
from trace_tui.tui.display.glyphs import REPLAY_LEGEND, REPLAY_MARKS
from trace_tui.tui.display.safe_text import plain_notice
from trace_tui.tui.keys import SCREEN_BINDINGS, key_groups
from trace_tui.tui.logfile import log_path
from trace_tui.tui.messages import ReaderNotice, ReaderProgress, ReaderReordered, ReaderReset
from trace_tui.tui.screens.branching import BRANCHING_ACTIONS, BranchingMixin
from trace_tui.tui.screens.finding import FindingMixin
from trace_tui.tui.screens.help import HelpScreen
from trace_tui.tui.screens.key_reasons import binding_for_key, parse_action, why_not
from trace_tui.tui.screens.policy_view import POLICY_ACTIONS, PolicyMixin
from trace_tui.tui.screens.problems import ProblemsScreen
from trace_tui.tui.screens.prompt import PromptScreen
from trace_tui.tui.session.gauge_model import gauge_model
from trace_tui.tui.session.reader_loop import pump_source
from trace_tui.tui.widgets.branch_banner import BranchBanner
from trace_tui.tui.widgets.doc_view import DocumentView
from trace_tui.tui.widgets.gauge import ContextGauge
from trace_tui.tui.widgets.inspector import Inspector, StepFocus
from trace_tui.tui.widgets.key_footer import KeyFooter
from trace_tui.tui.widgets.span_tree import SpanTree
from trace_tui.tui.widgets.status import StatusLine, StatusModel
from trace_tui.tui.widgets.timeline import StepBar

log = logging.getLogger(__name__)


class DebuggerScreen(FindingMixin, BranchingMixin, PolicyMixin):
    """The main screen of ``trace-tui open`` and ``trace-tui tail``."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (130, "-wide")]
    BINDINGS = SCREEN_BINDINGS

    def __init__(self, source: TraceSource, *, follow: bool, windows: ContextWindowTable,
                 code_style: str = "github-dark", policy: Policy | None = None,
                 user_active: Callable[[], bool] | None = None) -> None:
        super().__init__(source, follow=follow, windows=windows, code_style=code_style)
        #: Whether the user pressed a key just now (the reader pauses meanwhile).
        self._user_active = user_active or (lambda: False)
        self.init_finding()
        self.init_branching()
        self.init_policy(policy)
        self._replay_marks: LRUCache[int, str] = LRUCache(4096)
        self._branch_shown = False
        self._fold_bookkeeping = False
        #: ``G`` pressed while reading with a filter on: the last shown step the cursor was put
        #: on; it goes on to the filter's new last step as reading adds matches, unless the
        #: user moved away (``None``: not going there).
        self._filtered_end: int | None = None

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        """Branch line, tree | (gauge over inspector), step bar, status line, footer."""
        yield BranchBanner(id="branch-banner")
        with Horizontal(id="panes"):
            yield SpanTree(self.facts, id="tree")
            with Vertical(id="details"):
                yield ContextGauge(id="gauge")
                yield Inspector(id="inspector")
        yield StepBar(self.facts, id="stepbar")
        yield StatusLine(id="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Start reading and draw the empty state."""
        self.query_one(Inspector).set_code_style(self._code_style)
        self.query_one(SpanTree).focus()
        self._update_all()
        self.read_trace()
        self.start_policy()
        # an agent transcript is mostly the agent's own notes: fold them once steps arrive
        self._fold_bookkeeping = self.source.format_name in BOOKKEEPING_FORMATS

    def on_resize(self, event: events.Resize) -> None:
        """Below 80 columns the footer drops its spacing and the palette hint (``?`` lists
        ctrl+p) so q Quit still fits."""
        footer = self.query_one(KeyFooter)
        footer.compact = event.size.width < 80
        footer.show_command_palette = event.size.width >= 80

    def set_code_style(self, name: str) -> None:
        """The theme changed: use Pygments style ``name`` for payloads."""
        self._code_style = name
        if self.is_mounted:
            self.query_one(Inspector).set_code_style(name)

    # ----------------------------------------------------------------- reading
    @work(thread=True, exclusive=True, group="reader", exit_on_error=False, name="trace reader")
    def read_trace(self) -> None:
        """Read the trace in a thread, posting batched progress (follows in tail mode)."""
        worker = get_current_worker()
        pump_source(self.source, self.facts, follow=self.follow_mode, post=self.post_message,
                    cancelled=lambda: worker.is_cancelled, user_active=self._user_active)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """One visible line for a failed worker; the traceback goes to the log."""
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            log.error("worker %r failed", event.worker.name, exc_info=error)
            self.notice = f"{event.worker.name} failed: {error!r}"
            self.notify(plain_notice(f"{self.notice} (details in {log_path()})", 400),
                        severity="error", markup=False)
            self._update_status()

    def on_reader_progress(self, message: ReaderProgress) -> None:
        """More steps were read (or reading finished): grow the cursor and the panes."""
        old = self.count
        self.run_view, self.count = message.run, message.count
        self.scanned = message.scanned
        self.progress, self.complete = message.progress, message.complete
        self.cursor.grow(self.count, complete=self.complete, start=self._first_position())
        if self.follow_mode:
            self._steps.clear()
        self.query_one(SpanTree).set_run(self.run_view, self.count, scanned=self.scanned)
        self._show_branch()
        if self.count > old and self.notice and "waiting for it to be" in self.notice:
            self.notice = None  # "does not exist yet; waiting": steps are here, it is stale
        self.filter_grew(old, self.count)
        self.search_grew(old, self.count)
        if self._fold_bookkeeping and self.count and self.filter_query is None:
            self._fold_bookkeeping = False
            self.apply_filter(StepQuery.parse(BOOKKEEPING_FILTER))
            self.show_notice("bookkeeping records folded (a filter); Esc shows every record")
            tree = self.query_one(SpanTree)
            hidden = not tree.visibility.is_match(self.cursor.position)
            if tree.row_count and hidden and not self.follow_mode:
                self.cursor.go(tree.visibility.step_at(0))  # open on the first shown step
        self.policy_grew()
        self._cursor_changed()
        self.go_on_to_filtered_end()

    def go_on_to_filtered_end(self) -> None:
        """After ``G`` with a filter on while reading: the cursor goes on to the filter's last
        shown step as matches arrive (the unfiltered chase goes to the run's last step, which
        the filter may hide), until the user moves away or the filter changes."""
        target = self._filtered_end
        if target is None:
            return
        if self.cursor.position != target or self.filter_query is None:
            self._filtered_end = None  # moved away, or the filter went
            return
        tree = self.query_one(SpanTree)
        if tree.row_count:
            last = tree.visibility.step_at(tree.row_count - 1)
            if last != target:
                self._filtered_end = last
                self.move_to(last)
        if self.complete and not self.finding_busy:
            self._filtered_end = None

    def _first_position(self) -> int:
        """Where the cursor starts: a branch opens on its fork point, any other run on step 1."""
        branch = self.run_view.branch
        if branch is not None and 1 <= branch.fork_step <= self.count:
            return branch.fork_step - 1
        return 0

    def _show_branch(self) -> None:
        """A branch: the branch line above the panes and the tree's replay marks (once)."""
        branch = self.run_view.branch
        if branch is None or self._branch_shown:
            return
        self._branch_shown = True
        self.query_one(BranchBanner).show_branch(branch)
        self.query_one(SpanTree).set_replay_marks(self._replay_mark)

    def _replay_mark(self, index: int) -> str | None:
        """The tree's mark for step ``index`` of a branch (how its replay answered it)."""
        mark = self._replay_marks.get(index)
        if mark is None:
            try:
                answer = replay_answer(self.load_step(index))
            except Exception:  # a bad record must not stop drawing; the inspector says why
                log.exception("cannot read step %d for its replay mark", index + 1)
                answer = None
            mark = self._replay_marks[index] = REPLAY_MARKS.get(answer or "", "")
        return mark or None

    def on_reader_reset(self, message: ReaderReset) -> None:
        """The file was truncated or replaced: start over, say so."""
        self.run_view, self.count, self.scanned = message.run, 0, 0
        self._steps.clear()
        self._shown = None
        self.cursor = StepCursor(0, follow=self.follow_mode)
        self.query_one(SpanTree).set_run(self.run_view, 0, reset=True)
        self.reset_finding()
        self.policy_reset()
        self.show_notice(message.notice or "the file changed; reading it again")
        self.notify(plain_notice(self.notice or ""), severity="warning", markup=False)
        self._update_all()

    def on_reader_reordered(self, message: ReaderReordered) -> None:
        """A parent arrived after its children and took its place above them: the steps
        moved, the cursor stays on the step it was on (or at the end while following)."""
        run, previous = message.run, message.previous
        position = self.cursor.position
        stored = previous[position] if 0 <= position < len(previous) else None
        following, wants_end = self.cursor.following, self.cursor.wants_end
        self.run_view, self.count = run, len(run)
        self._steps.clear()
        self._shown = None
        self.cursor.grow(self.count)
        if following or wants_end:  # G pressed (even while indexing): the end it is
            self.cursor.to_end()
        elif stored is not None and isinstance(run, OrderedRun):
            self.cursor.go(run.position_of(stored))
            self.cursor.following = False
        self.query_one(SpanTree).set_run(run, self.count, reset=True)
        self.reset_finding()
        self._update_all()

    def on_reader_notice(self, message: ReaderNotice) -> None:
        """Show the reader's notice in the status line (for a while)."""
        self.show_notice(message.text)

    def show_notice(self, text: str, seconds: float = 20.0) -> None:
        """Put ``text`` in the status line; it goes away after ``seconds`` unless replaced."""
        self.notice = text

        def expire() -> None:
            if self.notice == text:
                self.notice = None
                self._update_status()

        self.set_timer(seconds, expire, name="notice")
        self._update_status()

    # ----------------------------------------------------------------- steps
    def _context_state(self, index: int) -> RunState:
        llm = self.facts.llm_at_or_before(index)
        tools = self.facts.tools_between(-1 if llm is None else llm, index)
        return context_at(self.run_view, index, llm, tools)

    def _raw(self, step: Step) -> RawRecord | None:
        if step.offset is None or step.source is not None:
            return None
        return read_record_line(Path(self.source.path), step.offset)

    # ----------------------------------------------------------------- cursor
    def move_to(self, index: int, *, reveal: bool = True) -> None:
        """Move the cursor to step ``index`` (clamped) and update every pane."""
        if not self.count:
            return
        self.cursor.go(index)
        if reveal:
            self.query_one(SpanTree).reveal(self.cursor.position)
        self._cursor_changed()

    def _cursor_changed(self) -> None:
        index = self.cursor.position
        tree = self.query_one(SpanTree)
        if index >= 0:
            row = self.run_view.row(index)
            tree.set_cursor(index, row.start_time)
            # The panes also depend on the facts (the gauge's latest model call): a step shown
            # before the reader's facts reached it is shown again when they do.
            shown = (index, row, self.facts.llm_at_or_before(index), bool(self.complete))
            if self._shown != shown:
                self._shown = shown
                self._show_step(index)
        self.query_one(StepBar).show(self.count, index, settled=bool(self.complete))
        self.query_one(Inspector).set_total(self.count)
        self._update_status()
        self._update_bindings()

    def _show_step(self, index: int) -> None:
        step = self.load_step(index)
        inspector = self.query_one(Inspector)
        inspector.show(StepFocus(step=step, total=self.count,
                                 context=lambda: self._context_state(index),
                                 raw=lambda: self._raw(step)))
        self.show_policy_verdict(index)
        gauge = self.query_one(ContextGauge)
        try:
            gauge.show(gauge_model(self.run_view, self.facts, self.windows, index,
                                   self.load_step))
        except Exception as exc:  # a malformed payload must not stop time travel
            log.exception("gauge failed at step %d", index + 1)
            self.show_notice(f"gauge: {exc!r}")

    def _update_all(self) -> None:
        self._cursor_changed()
        if self.cursor.position < 0:
            self.query_one(Inspector).show(None)
            self.query_one(ContextGauge).show(None)

    def _update_status(self) -> None:
        tree = self.query_one(SpanTree)
        branch = self.run_view.branch
        position = self.cursor.position
        problems = self.run_view.problems
        self.query_one(StatusLine).show(StatusModel(
            file_name=Path(self.source.path).name,
            format_name=self._format_label(),
            steps=self.count,
            complete=self.complete,
            progress=self.progress,
            cursor=position,
            tail=self.follow_mode,
            following=self.cursor.following,
            unseen=self.cursor.unseen,
            branch=self._branch_label(branch),
            problems=len(problems),
            first_problem=problems[0].message if len(problems) == 1 else None,
            errors=self.facts.error_count,
            filter_text=self.filter_query.text if self.filter_query else None,
            filter_shown=len(tree.visibility) if self.filter_query else 0,
            search=self.search_status(),
            busy=self.finding_busy or self.replaying or (
                f"going to the end · reading {self.progress:.0%}"
                if self.cursor.chasing or self._filtered_end is not None and not self.complete
                else None) or (
                f"scanning {self.scanned / self.count:.0%}"
                if self.complete is False and self.progress >= 1.0 and self.count else None),
            notice=self.notice,
        ))

    def _branch_label(self, branch: BranchInfo | None) -> str | None:
        facts = self.branch_facts
        if facts is not None and facts.entry is not None:
            return f"{facts.label} ({facts.entry.status or 'saved'})"
        return (branch.name or f"fork at step {branch.fork_step}") if branch else None

    def _format_label(self) -> str:
        # the count of branches rides on the format part until StatusModel has its own field
        facts = self.branch_facts
        if facts is not None and facts.entry is None and facts.branches:
            return f"{self.source.format_name} · {facts.branches} branch" + \
                "es" * (facts.branches != 1) + self.policy_label()
        return self.source.format_name + self.policy_label()

    def _update_bindings(self) -> None:
        # Only what the Footer shows: refreshing bindings re-composes the Footer, which costs
        # more than the rest of a key press. Keys, `?` and the palette ask check_action afresh.
        pos, facts = self.cursor.position, self.facts
        state = (facts.next_error(pos) is not None, self.follow_mode and self.cursor.following,
                 self.search_query is not None, self.filter_query is not None, self.count > 0,
                 self.complete)
        if state != self._availability:
            self._availability = state
            self.refresh_bindings()

    # ----------------------------------------------------------------- pane messages
    @on(SpanTree.StepChosen)
    @on(StepBar.StepChosen)
    def _on_step_chosen(self, message: SpanTree.StepChosen | StepBar.StepChosen) -> None:
        if message.index >= 0:
            self.move_to(message.index, reveal=isinstance(message, StepBar.StepChosen))
        if isinstance(message, SpanTree.StepChosen) and message.to_end and not self.complete:
            if self.filter_query is None:
                self.cursor.chase_end(complete=self.complete)
            else:
                self._filtered_end = self.cursor.position
            self._update_status()

    def on_span_tree_open_inspector(self, message: SpanTree.OpenInspector) -> None:
        """Enter on a row: focus the inspector's document."""
        if self.query_one(Inspector).display:
            self.query_one(DocumentView).focus()

    def on_span_tree_visibility_changed(self, message: SpanTree.VisibilityChanged) -> None:
        """Rows were hidden or shown: the status line counts them."""
        self._update_status()

    def on_document_view_leave_requested(self, message: DocumentView.LeaveRequested) -> None:
        """Escape in the inspector: back to the tree."""
        tree = self.query_one(SpanTree)
        if tree.display:
            tree.focus()

    # ----------------------------------------------------------------- actions
    def action_step(self, delta: int) -> None:
        """Step back or forward in time, whatever pane has focus."""
        self.move_to(self.cursor.position + delta)

    def action_error(self, direction: int) -> None:
        """Next (1) or previous (-1) failed step."""
        pos = self.cursor.position
        target = self.facts.next_error(pos) if direction > 0 else self.facts.prev_error(pos)
        if target is not None:
            self.move_to(target)

    def action_first_error(self) -> None:
        """The first failed step."""
        target = self.facts.first_error()
        if target is not None:
            self.move_to(target)

    def action_tool(self, direction: int) -> None:
        """Next (1) or previous (-1) tool call."""
        pos = self.cursor.position
        target = self.facts.next_tool(pos) if direction > 0 else self.facts.prev_tool(pos)
        if target is not None:
            self.move_to(target)

    def action_start(self) -> None:
        """Rewind to the first step."""
        self.move_to(0)

    def action_end(self) -> None:
        """Jump to the last step (and follow, in tail mode)."""
        if self.follow_mode:
            self.action_follow()
        else:
            chasing = self.cursor.chase_end(complete=self.complete)
            self.move_to(self.cursor.position)
            if chasing:
                self._update_status()

    def action_follow(self) -> None:
        """Jump to the end and follow new steps again."""
        if self.count:
            self.cursor.to_end()
            self.query_one(SpanTree).reveal(self.cursor.position)
            self._cursor_changed()

    def action_goto(self) -> None:
        """Ask for a step number and jump there."""
        def done(text: str | None) -> None:
            if text is None or not text.strip():
                return
            try:
                number = int(text.strip().lstrip("#"))
            except ValueError:
                self.notify(f"not a step number: {plain_notice(text, 40)}", severity="warning",
                            markup=False)
                return
            if not 1 <= number <= self.count:
                self.notify(f"no step {number}: steps are 1 to {self.count:,}",
                            severity="warning", markup=False)
                return
            self.move_to(number - 1)

        self.app.push_screen(PromptScreen(f"Go to step (1–{self.count:,})", "Enter jumps, "
                                          "Esc cancels", placeholder="step number"), done)

    def action_mode(self, mode: str) -> None:
        """Switch the inspector's view (and show the inspector if it was hidden)."""
        inspector = self.query_one(Inspector)
        inspector.display = True
        inspector.mode = mode

    def action_toggle_future(self) -> None:
        """Hide later steps, or show them dimmed again."""
        self.hide_future = not self.hide_future
        self.query_one(SpanTree).set_hide_future(self.hide_future)
        self.notify("later steps hidden (H shows them)" if self.hide_future
                    else "later steps shown dimmed", markup=False, timeout=2)

    def action_toggle_pane(self, pane: str) -> None:
        """Show or hide one pane; the tree and the inspector are never both hidden."""
        widget = self.query_one(f"#{pane}")
        other = {"tree": "#inspector", "inspector": "#tree"}.get(pane)
        if widget.display and other and not self.query_one(other).display:
            self.notify("at least one of the tree and the inspector stays visible",
                        severity="warning", markup=False)
            return
        widget.display = not widget.display
        details = self.query_one("#details")
        details.display = self.query_one("#inspector").display or \
            self.query_one("#gauge").display
        focused = self.focused
        if not widget.display and focused is not None and widget in focused.ancestors_with_self:
            target = self.query_one(DocumentView) if pane == "tree" else self.query_one(SpanTree)
            target.focus()

    def action_zoom(self) -> None:
        """Fill the screen with the focused pane, or restore the layout."""
        if self.maximized is not None:
            self.minimize()
            return
        focused = self.focused
        if focused is not None:
            pane = self.query_one(Inspector) if isinstance(focused, DocumentView) else focused
            if not self.maximize(pane, container=False):
                self.notify("this pane cannot be zoomed", severity="warning", markup=False)

    def action_problems(self) -> None:
        """List the file's corrupt records and skipped lines."""
        self.app.push_screen(ProblemsScreen(Path(self.source.path).name,
                                            list(self.run_view.problems)))

    def action_help(self) -> None:
        """Show every key."""
        self.app.push_screen(HelpScreen(key_groups(self.follow_mode), (
            "In a branch, the mark after the step number says how the replay answered the "
            f"step: {REPLAY_LEGEND}.",)))

    def on_key(self, event: events.Key) -> None:
        """A key whose binding cannot run now says why in the status line (never silence).

        Runs before Textual looks the key up in the bindings; an available binding runs as
        usual afterwards, an unavailable one is skipped by Textual and explained here.
        """
        focused = self.focused
        tree = isinstance(focused, SpanTree)
        if focused is not None and not tree:
            own = binding_for_key(event.key, type(focused).BINDINGS)
            if own is not None:  # the inspector has its own use for the key
                name, params = parse_action(own.action)
                if isinstance(focused, DocumentView) and not focused.check_action(name, params):
                    self.explain_unavailable(own.action)
                return
        tables = [SpanTree.BINDINGS, SCREEN_BINDINGS] if tree else [SCREEN_BINDINGS]
        binding = binding_for_key(event.key, *tables)
        if binding is None:
            return
        name, params = parse_action(binding.action)
        node = focused if tree and binding_for_key(event.key, SpanTree.BINDINGS) is binding \
            else self
        if node is not None and not node.check_action(name, params):
            self.explain_unavailable(binding.action)

    def explain_unavailable(self, action: str) -> None:
        """Say in the status line why ``action`` (``"error(1)"``...) cannot run now."""
        name, params = parse_action(action)
        self.show_notice(why_not(self, name, params), seconds=6)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide follow outside tail mode; grey out moves that cannot happen."""
        pos, facts = self.cursor.position, self.facts
        if action == "follow":
            if not self.follow_mode:
                return False
            return True if not self.cursor.following else None
        if action == "step" and parameters:
            ok = pos > 0 if parameters[0] == -1 else 0 <= pos < self.count - 1
            return True if ok else None
        if action == "error" and parameters:
            found = facts.next_error(pos) if parameters[0] == 1 else facts.prev_error(pos)
            return True if found is not None else None
        if action == "first_error":
            first = facts.first_error()
            return True if first is not None and first != pos else None
        if action == "tool" and parameters:
            found = facts.next_tool(pos) if parameters[0] == 1 else facts.prev_tool(pos)
            return True if found is not None else None
        if action == "problems":
            return True if self.run_view.problems else None
        if action in ("goto", "search", "filter"):
            return True if self.count else None
        if action in BRANCHING_ACTIONS:
            return self.check_branching_action(action)
        if action in POLICY_ACTIONS:
            return self.check_policy_action(action, parameters)
        return self.check_finding_action(action)

    def on_unmount(self) -> None:
        """Stop reading."""
        self.workers.cancel_group(self, "reader")
