"""The branch tree: the original trace and every branch forked from it, as an indented list.

Opened with ``b``. The tree (:func:`~trace_tui.core.replay.branches.branch_tree` of the root trace)
is
read in a worker; each row shows the branch name, the step it forks at, how many edits and
where its replay got to, the file on screen marked with ``●``. Enter dismisses with the chosen
path (the debugger then shows that file), Escape with ``None``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from trace_tui.core.replay.branches import BranchNode, branch_tree
from trace_tui.tui.display.safe_text import display_str
from trace_tui.tui.session.branch_session import same_file

log = logging.getLogger(__name__)


def branch_row(node: BranchNode, depth: int, current: bool) -> Text:
    """One row of the tree as a :class:`Text` (trace-derived parts sanitised).

    A branch is named by its file (two files may carry one branch name: a branch saved again
    with ``-o``); the branch record's own name follows when the file name does not hold it.
    """
    text = Text(end="", no_wrap=True, overflow="ellipsis")
    text.append("● " if current else "  ", style="bold")
    if node.entry is None:
        text.append(display_str(node.path.name, one_line=True, limit=60), style="bold")
        text.append("  (original trace)", style="dim")
        return text
    entry = node.entry
    text.append("  " * max(0, depth - 1) + "└ ")
    text.append(display_str(node.path.name, one_line=True, limit=60), style="bold")
    if entry.name and entry.name not in node.path.stem:
        text.append(display_str(f" ({entry.name})", one_line=True, limit=50), style="dim")
    edits = len(entry.edits)
    text.append(f"  @ step {entry.fork_step}, {edits} edit" + "s" * (edits != 1) + "  ")
    status = entry.status or "unknown"
    text.append(("✔ " if status == "complete" else "⏸ ")
                + display_str(status.replace("_", " "), one_line=True, limit=30))
    return text


class BranchesScreen(ModalScreen[Path | None]):
    """Pick a branch (or the original trace) to show (see the module docstring)."""

    DEFAULT_CSS = """
    BranchesScreen { align: center middle; background: $background 50%; }
    BranchesScreen > Vertical { width: 96%; height: auto; max-height: 90%; background: $panel;
                                border: round $primary; padding: 0 1; }
    BranchesScreen .branches-title { text-style: bold; height: 1; }
    BranchesScreen .branches-hint { color: $text-muted; height: 1; }
    BranchesScreen OptionList { height: auto; max-height: 20; border: none; text-wrap: nowrap;
                                text-overflow: ellipsis; }
    BranchesScreen OptionList:focus { border: none; }
    """

    BINDINGS = [
        Binding("escape,q", "cancel", "Close", id="branches.close",
                tooltip="Close the list and stay on this trace"),
    ]

    def __init__(self, root: Path, current: Path) -> None:
        super().__init__()
        self.root = root
        self.current = current
        self.paths: list[Path] = []

    def compose(self) -> ComposeResult:
        """Title, the tree, hint."""
        with Vertical():
            yield Static(Text("Branches of " + display_str(self.root.name, one_line=True,
                                                           limit=60), end=""),
                         classes="branches-title")
            yield OptionList(Option(Text("Reading the branches…", end=""), disabled=True),
                             id="branches-list")
            yield Static(Text("Enter shows the chosen run · Esc closes", end=""),
                         classes="branches-hint")
        yield Footer()

    def on_mount(self) -> None:
        """Read the tree off the UI thread."""
        self.query_one(OptionList).focus()
        self.read_tree()

    @work(thread=True, exclusive=True, group="branch-tree", exit_on_error=False,
          name="branch tree")
    def read_tree(self) -> BranchNode:
        """The tree under the root trace (reads the head of each branch file)."""
        return branch_tree(self.root)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Fill the list, or say why it could not be read."""
        if event.worker.group != "branch-tree":
            return
        options = self.query_one(OptionList)
        if event.state == WorkerState.SUCCESS and isinstance(event.worker.result, BranchNode):
            self.show_tree(event.worker.result)
        elif event.state == WorkerState.ERROR:
            log.error("reading the branch tree failed", exc_info=event.worker.error)
            options.clear_options()
            options.add_option(Option(Text(display_str(
                f"cannot read the branches: {event.worker.error}", one_line=True, limit=200),
                end=""), disabled=True))

    def show_tree(self, root: BranchNode) -> None:
        """One row per node, depth-first; the cursor on the file being shown."""
        options = self.query_one(OptionList)
        options.clear_options()
        self.paths = []
        highlight = 0
        for node, depth in root.walk():
            current = same_file(node.path, self.current)
            if current:
                highlight = len(self.paths)
            self.paths.append(node.path)
            options.add_option(Option(branch_row(node, depth, current)))
        if len(self.paths) == 1:
            options.add_option(Option(Text("  no branches yet: F on a step forks there",
                                           style="dim", end=""), disabled=True))
        options.highlighted = highlight

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter: show the chosen run."""
        event.stop()
        if 0 <= event.option_index < len(self.paths):
            self.dismiss(self.paths[event.option_index])

    def action_cancel(self) -> None:
        """Stay where we are."""
        self.dismiss(None)
