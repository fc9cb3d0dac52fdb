"""Messages the reader and search workers post to the screen (small, posted from threads).

Workers never touch widgets: they post these, and the screen, on the UI thread, updates the
cursor and the panes. Progress is batched by the worker (at most one message per interval),
so a writer appending 10,000 steps a second costs the UI a few redraws a second. Each message
is a dataclass, as in Textual's own widgets (``Input.Changed``).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from trace_tui.core.model.run import RunView

if TYPE_CHECKING:
    from trace_tui.tui.session.branch_session import BranchFacts, ForkOutcome


@dataclass
class ReaderProgress(Message):
    """The run has ``count`` steps, ``scanned`` of them in the facts; ``progress`` of the file.

    ``complete`` means the file is read and every step scanned (until a live file grows).
    """

    run: RunView
    count: int
    _: KW_ONLY
    scanned: int
    progress: float
    complete: bool

    def can_replace(self, message: Message) -> bool:
        """A newer report waiting behind this one supersedes it: each carries the whole state
        and the screen works out what grew from its own count. Under load the screen then
        draws the newest batch only, instead of every batch while key presses wait."""
        return isinstance(message, ReaderProgress)


@dataclass
class ReaderReset(Message):
    """The file was truncated or replaced: every index the screen holds is stale."""

    run: RunView
    notice: str | None


@dataclass
class ReaderReordered(Message):
    """Steps already shown moved (a parent written after its children arrived): ``run`` is
    the new view; ``previous[k]`` is the stored step that was shown at position ``k``."""

    run: RunView
    previous: list[int]


@dataclass
class ReaderNotice(Message):
    """One line the reader wants the user to see (skipped lines, rotation, waiting)."""

    text: str


@dataclass
class FilterMatches(Message):
    """Steps in ``[start, end)`` that match the filter of ``generation``; ``done`` at the end;
    ``part``: how much of the whole filter's scan is done (``None``: not said)."""

    generation: int
    matches: list[int]
    end: int
    _: KW_ONLY
    done: bool
    part: float | None = None


@dataclass
class SearchProgress(Message):
    """The search of ``generation`` has scanned ``part`` of what it reads (0..1)."""

    generation: int
    part: float


@dataclass
class SearchCount(Message):
    """More matches of the search query of ``generation`` (counted in steps ``[start, end)``),
    ``part`` of that scan done; ``done`` at the end."""

    generation: int
    matches: list[int]
    start: int
    end: int
    _: KW_ONLY
    part: float
    done: bool


@dataclass
class SearchResult(Message):
    """The search of ``generation`` found step ``index`` (``None``: no match)."""

    generation: int
    index: int | None
    _: KW_ONLY
    wrapped: bool


@dataclass
class ReplayDone(Message):
    """A fork's replay stopped or finished and the branch was saved (``outcome`` says how)."""

    outcome: ForkOutcome


@dataclass
class BranchFactsRead(Message):
    """The branch facts of the file on screen."""

    facts: BranchFacts


@dataclass
class RunsToCompare(Message):
    """Two runs read for the diff screen, with their labels."""

    left: RunView
    right: RunView
    labels: tuple[str, str]


@dataclass
class OpenTrace(Message):
    """Show the trace (or branch) at ``path`` in place of the current run; the app handles it."""

    path: Path
