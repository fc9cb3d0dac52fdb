"""What the debugger screen's parts share: the run as the UI sees it, the cursor, the facts.

:class:`~trace_tui.tui.screens.debugger.DebuggerScreen` is assembled from this base, the
search/filter part (:class:`~trace_tui.tui.screens.finding.FindingMixin`) and the
fork/branches/diff part (:class:`~trace_tui.tui.screens.branching.BranchingMixin`). Both parts
subclass this base, so they see the shared state with its real types and never import the
screen they are mixed into (no import cycle, nothing left to ``Any``). The few screen methods
the parts call (``move_to``, ``_update_status``, ``_update_bindings``) are declared here and
implemented by the screen.
"""

from __future__ import annotations

from textual.cache import LRUCache
from textual.screen import Screen

from trace_tui.core.model.context_windows import ContextWindowTable
from trace_tui.core.model.run import RunView, Step, StepRow
from trace_tui.core.model.source import TraceSource
from trace_tui.core.navigation.cursor import StepCursor
from trace_tui.core.navigation.run_facts import RunFacts


class DebuggerScreenBase(Screen[None]):
    """The state of one debugger screen: its source, the run read so far, cursor and facts."""

    def __init__(self, source: TraceSource, *, follow: bool, windows: ContextWindowTable,
                 code_style: str = "github-dark") -> None:
        super().__init__()
        self.source = source
        self.follow_mode = follow
        self.windows = windows
        self.facts = RunFacts()
        self.run_view: RunView = source.run
        self.count = 0
        self.scanned = 0
        self.cursor = StepCursor(0, follow=follow)
        self.progress = 0.0
        self.complete = False
        self.notice: str | None = None
        self.hide_future = False
        self._code_style = code_style
        self._steps: LRUCache[int, Step] = LRUCache(64)
        self._shown: tuple[int, StepRow, int | None, bool] | None = None
        self._availability: tuple[object, ...] = ()

    def load_step(self, index: int) -> Step:
        """The full step at ``index`` (small LRU: payloads are parsed on demand)."""
        step = self._steps.get(index)
        if step is None:
            step = self.run_view.step(index)
            self._steps[index] = step
        return step

    def move_to(self, index: int, *, reveal: bool = True) -> None:
        """Move the cursor to step ``index`` (clamped) and update every pane."""
        raise NotImplementedError

    def _update_status(self) -> None:
        """Redraw the status line from the current state."""
        raise NotImplementedError

    def go_on_to_filtered_end(self) -> None:
        """Filter matches were added: a cursor sent to the filter's end goes on there."""
        raise NotImplementedError

    def _update_bindings(self) -> None:
        """Refresh the footer's keys when what they can do changed."""
        raise NotImplementedError
