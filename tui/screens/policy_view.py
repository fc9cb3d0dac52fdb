"""The debugger's policy part: verdicts on the span tree, in the inspector, and ``v``/``V``.

With ``open``/``tail --policy POLICY`` a worker thread checks steps as the reader publishes them
(:class:`~trace_tui.tui.session.policy_session.PolicySession`) and posts
:class:`PolicyChecked`; the screen then marks blocked and warned steps in the tree, shows the
verdict, rule and reason of the step at the cursor in the inspector, and ``v``/``V`` jump to the
next and previous blocked step. Rules that can only fail once the run is over are checked when
the file has been read to the end (never while following a live tail, which may still grow).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.message import Message
from textual.worker import get_current_worker

from trace_tui.core.policy.model import Policy
from trace_tui.tui.display.safe_text import display_str
from trace_tui.tui.screens.debugger_base import DebuggerScreenBase
from trace_tui.tui.widgets.inspector import Inspector
from trace_tui.tui.widgets.span_tree import SpanTree

if TYPE_CHECKING:  # imported when a policy is given: the first screen does not need it
    from trace_tui.tui.session.policy_session import PolicySession

POLICY_ACTIONS = ("blocked",)
#: How long the policy worker sleeps between checks when nothing new arrived.
POLICY_WAIT = 0.25
#: Findings shown in the inspector for one step (the rest are counted).
SHOWN_FINDINGS = 3


@dataclass
class PolicyChecked(Message):
    """The policy worker gave verdicts to more steps."""

    changed: list[int]


class PolicyMixin(DebuggerScreenBase):
    """Policy verdicts for :class:`~trace_tui.tui.screens.debugger.DebuggerScreen`."""

    def init_policy(self, policy: Policy | None) -> None:
        """Keep the policy (``None``: no policy, nothing of this part shows)."""
        self.policy_session: PolicySession | None = None
        if policy is not None:
            from trace_tui.tui.session.policy_session import PolicySession

            self.policy_session = PolicySession(policy)
        self._policy_wake = threading.Event()

    def start_policy(self) -> None:
        """Start the policy worker (on mount)."""
        if self.policy_session is not None:
            self.check_policy()

    def policy_grew(self) -> None:
        """The reader published more steps (or finished): wake the policy worker."""
        self._policy_wake.set()

    def policy_reset(self) -> None:
        """The file started over: forget the verdicts."""
        if self.policy_session is not None:
            self.policy_session.reset()
            self.query_one(SpanTree).set_marks({})
            self._policy_wake.set()

    @work(thread=True, exclusive=True, group="policy", exit_on_error=False, name="policy check")
    def check_policy(self) -> None:
        """Check steps as they arrive; post :class:`PolicyChecked` when verdicts change.

        Ends once a finished file is checked to the end; in a live tail it runs until the
        screen goes away.
        """
        session = self.policy_session
        assert session is not None
        worker = get_current_worker()
        while not worker.is_cancelled:
            self._policy_wake.wait(POLICY_WAIT)
            self._policy_wake.clear()
            if worker.is_cancelled:
                return
            finished = self.complete and not self.follow_mode and self.count >= len(self.run_view)
            changed = session.advance(self.run_view, finished=finished)
            if changed:
                self.post_message(PolicyChecked(changed))
            if finished:
                return  # a finished file does not grow (a live tail never gets here)

    def on_policy_checked(self, message: PolicyChecked) -> None:
        """New verdicts: redraw the marks, and the inspector if the cursor's step changed."""
        session = self.policy_session
        if session is None:
            return
        self.query_one(SpanTree).set_marks(session.marks)
        if self.cursor.position in message.changed:
            self.show_policy_verdict(self.cursor.position)
        self._update_status()
        self._update_bindings()

    def show_policy_verdict(self, index: int) -> None:
        """Put the verdict of step ``index`` (if any) in the inspector."""
        session = self.policy_session
        inspector = self.query_one(Inspector)
        verdict = session.verdict(index) if session is not None and index >= 0 else None
        self.query_one(SpanTree).set_evidence(
            (f.first, f.last) for f in (verdict.findings if verdict is not None else ())
        )
        if verdict is None or not verdict.findings:
            inspector.show_verdict(None)
            if verdict is not None:
                inspector.show_verdict(Text("✔ allowed by the policy", end=""), "allowed")
            return
        text = Text(end="")
        findings = sorted(verdict.findings, key=lambda f: f.action != "block")
        for n, finding in enumerate(findings[:SHOWN_FINDINGS]):
            if n:
                text.append("\n")
            blocks = finding.action == "block"
            span = (
                f"step {finding.first + 1}"
                if finding.first == finding.last
                else f"steps {finding.first + 1}–{finding.last + 1}"
            )
            text.append("⊘ BLOCKED: " if blocks else "△ warned: ", style="bold")
            text.append(display_str(finding.reason, one_line=True, limit=240))
            text.append(" · ", style="dim")
            text.append(display_str(finding.rule_id, one_line=True, limit=60), style="dim")
            text.append(f" ({finding.rule_type}) · evidence {span}", style="dim")
        more = len(verdict.findings) - SHOWN_FINDINGS
        if more > 0:
            text.append(f"\n  … {more} more finding(s)", style="dim")
        inspector.show_verdict(text, verdict.verdict)

    def policy_label(self) -> str:
        """`` · ⊘ 2 blocked`` for the status line (empty without a policy)."""
        session = self.policy_session
        if session is None:
            return ""
        count = session.blocked_count
        return f" · ⊘ {count} blocked" if count else " · policy ✔"

    def action_blocked(self, direction: int) -> None:
        """Jump to the next (1) or previous (-1) blocked step."""
        target = self._blocked_target(direction)
        if target is not None:
            self.move_to(target)

    def _blocked_target(self, direction: int) -> int | None:
        session = self.policy_session
        if session is None:
            return None
        pos = self.cursor.position
        return session.next_blocked(pos) if direction > 0 else session.prev_blocked(pos)

    def check_policy_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``v``/``V`` only with a policy; greyed out when there is no blocked step that way."""
        if self.policy_session is None:
            return False
        direction = int(parameters[0]) if parameters and isinstance(parameters[0], int) else 1
        return True if self._blocked_target(direction) is not None else None

    def policy_why_not(self, parameters: tuple[object, ...]) -> str:
        """Why ``v``/``V`` cannot move now (for the status line)."""
        session = self.policy_session
        if session is None:
            return "no policy: open the trace with --policy POLICY"
        if session.blocked_count == 0:
            return "no step is blocked by the policy" + (
                "" if session.finished or self.follow_mode else " (still checking)"
            )
        here = f"step {self.cursor.position + 1}"
        forward = bool(parameters) and parameters[0] == 1
        return (
            f"no blocked step after {here} (V goes back)"
            if forward
            else f"no blocked step before {here} (v goes forward)"
        )
