"""Messages the reader and search workers post to the screen (small, posted from threads).

Workers never touch widgets: they post these, and the screen, on the UI thread, updates the
cursor and the panes. Progress is batched by the worker (at most one message per interval),
so a writer appending 10,000 steps a second costs the UI a few redraws a second.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from trace_tui.core.model.run import RunView

if TYPE_CHECKING:
    from trace_tui.tui.session.branch_session import BranchFacts, ForkOutcome


class ReaderProgress(Message):
    """The run has ``count`` steps, ``scanned`` of them in the facts; ``progress`` of the file.

    ``complete`` means the file is read and every step scanned (until a live file grows).
    """

    def __init__(self, run: RunView, count: int, *, scanned: int, progress: float,
                 complete: bool) -> None:
        super().__init__()
        self.run = run
        self.count = count
        self.scanned = scanned
        self.progress = progress
        self.complete = complete


class ReaderReset(Message):
    """The file was truncated or replaced: every index the screen holds is stale."""

    def __init__(self, run: RunView, notice: str | None) -> None:
        super().__init__()
        self.run = run
        self.notice = notice


class ReaderNotice(Message):
    """One line the reader wants the user to see (skipped lines, rotation, waiting)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class FilterMatches(Message):
    """Steps in ``[start, end)`` that match the filter of ``generation``; ``done`` at the end."""

    def __init__(self, generation: int, matches: list[int], end: int, *, done: bool) -> None:
        super().__init__()
        self.generation = generation
        self.matches = matches
        self.end = end
        self.done = done


class SearchResult(Message):
    """The search of ``generation`` found step ``index`` (``None``: no match)."""

    def __init__(self, generation: int, index: int | None, *, wrapped: bool) -> None:
        super().__init__()
        self.generation = generation
        self.index = index
        self.wrapped = wrapped


class ReplayDone(Message):
    """A fork's replay stopped or finished and the branch was saved (``outcome`` says how)."""

    def __init__(self, outcome: ForkOutcome) -> None:
        super().__init__()
        self.outcome = outcome


class BranchFactsRead(Message):
    """The branch facts of the file on screen ."""

    def __init__(self, facts: BranchFacts) -> None:
        super().__init__()
        self.facts = facts


class RunsToCompare(Message):
    """Two runs read for the diff screen, with their labels."""

    def __init__(self, left: RunView, right: RunView, labels: tuple[str, str]) -> None:
        super().__init__()
        self.left = left
        self.right = right
        self.labels = labels


class OpenTrace(Message):
    """Show the trace (or branch) at ``path`` in place of the current run; the app handles it."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
