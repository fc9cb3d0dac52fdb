"""The time-travel cursor: which step the user is looking at, and whether it follows the tail.

A plain object, fully unit-tested; the UI only renders it. Moving returns ``True`` when the
position changed (like frogmouth's ``History``), so a key press that cannot move is a no-op.
"""

from __future__ import annotations


class StepCursor:
    """A position over ``count`` steps (0-based), following new steps while at the end."""

    def __init__(self, count: int = 0, *, follow: bool = True) -> None:
        self.count = count
        self.following = follow
        self.unseen = 0
        self._position = count - 1 if (follow and count) else (0 if count else -1)

    @property
    def position(self) -> int:
        """The 0-based step index at the cursor (``-1`` while the run has no steps)."""
        return self._position

    @property
    def at_end(self) -> bool:
        """True when the cursor is on the last step."""
        return self._position == self.count - 1

    def go(self, index: int) -> bool:
        """Move to ``index`` (clamped). Leaving the end pins the view; reaching it follows."""
        if self.count == 0:
            return False
        index = max(0, min(index, self.count - 1))
        moved = index != self._position
        self._position = index
        if self.at_end:
            self.following, self.unseen = True, 0
        elif moved:
            self.following = False
        return moved

    def back(self, steps: int = 1) -> bool:
        """Step back (rewind)."""
        return self.go(self._position - steps)

    def forward(self, steps: int = 1) -> bool:
        """Step forward."""
        return self.go(self._position + steps)

    def to_start(self) -> bool:
        """Rewind to the first step."""
        return self.go(0)

    def to_end(self) -> bool:
        """Jump to the last step and resume following."""
        moved = self.go(self.count - 1)
        self.following, self.unseen = True, 0
        return moved

    def grow(self, new_count: int) -> None:
        """The run grew: follow to the new end, or count the steps the user has not seen."""
        if new_count <= self.count:
            self.count = new_count
            self._position = min(self._position, new_count - 1)
            return
        added = new_count - self.count
        self.count = new_count
        if self.following or self._position < 0:
            self._position = new_count - 1
            self.following = True
        else:
            self.unseen += added
