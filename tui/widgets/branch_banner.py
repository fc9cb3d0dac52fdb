"""One line above the panes when the run on screen is a branch: what was forked, where the
replay got to (its note: "diverged from the recording at step 6", "needs a model response at
step 6: …") and the legend of the tree's replay marks. Hidden for a run that is not a branch.
"""

from __future__ import annotations

from rich.text import Text

from trace_tui.core.model.run import BranchInfo
from trace_tui.tui.display.glyphs import REPLAY_LEGEND
from trace_tui.tui.display.safe_text import display_str
from trace_tui.tui.widgets.text_line import TextLine


def branch_text(branch: BranchInfo) -> Text:
    """The banner's text (trace-derived parts sanitised)."""
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    name = display_str(branch.name or "unnamed", one_line=True, limit=40)
    edits = len(branch.edits)
    text.append(f"⑂ branch {name}", style="bold")
    status = branch.status or "saved"
    note = display_str(branch.note, one_line=True, limit=300) if branch.note else ""
    if status == "complete":
        text.append(" · replayed to the end" + (f" · {note}" if note else ""))
    else:
        text.append(" · stopped: ", style="bold")
        text.append(note or display_str(status.replace("_", " "), one_line=True, limit=40))
    text.append(f" · forked at step {branch.fork_step} with {edits} edit"
                + "s" * (edits != 1))
    text.append("  │ marks " + REPLAY_LEGEND, style="dim")
    return text


class BranchBanner(TextLine):
    """The branch line (see the module docstring)."""

    DEFAULT_CSS = """
    BranchBanner { background: $panel; color: $text; display: none; padding: 0 1; }
    BranchBanner.-on { display: block; }
    """

    def show_branch(self, branch: BranchInfo | None) -> None:
        """Show ``branch`` (``None``: hide the line)."""
        self.set_class(branch is not None, "-on")
        self.set_text(branch_text(branch) if branch is not None else Text())
