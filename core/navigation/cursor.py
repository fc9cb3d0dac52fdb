"""The time-travel cursor: which step the user is looking at, and whether it follows the tail.

A plain object, fully unit-tested; the UI only renders it. Moving returns ``True`` when the
position changed (like frogmouth's ``History``), so a key press that cannot move is a no-op.

The follow policy lives here, not in the screen:

* **Live** (``trace-tui tail``, ``live=True``): the cursor follows new steps while it is on the
  last one; stepping back pins it and counts the steps that arrive meanwhile (``unseen``, shown
  as "N new steps"); reaching the end again, or :meth:`to_end`, follows again.
* **Not live** (``trace-tui open``): it never follows; the first steps put it on step 1 (or
  where the caller says: a branch opens on its fork point).
* **Going to the end while the file is still being indexed** (``G``/End): :meth:`chase_end`
  keeps the cursor on the true last step as more steps are indexed, until indexing completes
  or the user moves away (:meth:`go`).
"""

from __future__ import annotations


class StepCursor:
    """A position over ``count`` steps (0-based), following new steps while at the end."""

    def __init__(self, count: int = 0, *, follow: bool = True) -> None:
        #: Whether the trace is live (tail mode): only a live cursor ever follows.
        self.live = follow
        self.count = count
        self.following = follow
        #: Steps that arrived while the user was not at the end (live only).
        self.unseen = 0
        #: True while the cursor goes on to the true end as indexing adds steps.
        self.chasing = False
        #: The user's last word was "the end" (``G``/End), and they have not moved away since:
        #: when the steps are reordered (a late parent), the cursor goes to the new end.
        self.wants_end = False
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
        if not self.at_end:
            self.chasing = self.wants_end = False  # moved away from the end: stop going there
        if not self.live:
            self.following = False
        elif self.at_end:
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
        """Jump to the last step and resume following (when live)."""
        moved = self.go(self.count - 1)
        self.following, self.unseen = self.live, 0
        self.wants_end = True
        return moved

    def chase_end(self, *, complete: bool) -> bool:
        """Go to the last step and stay on the true end while indexing goes on.

        Returns whether the cursor now chases (``False`` once the run is completely read).
        """
        self.go(self.count - 1)
        self.chasing = not complete  # before the first steps too: it lands on the end
        self.wants_end = True
        return self.chasing

    def grow(self, new_count: int, *, complete: bool = False, start: int = 0) -> None:
        """The run grew (or shrank): follow or chase to the new end, or count unseen steps.

        ``complete`` says indexing has finished, which ends a chase. ``start`` is where a
        cursor that is not live lands with the first steps (a branch opens on its fork point).
        """
        chase = self.chasing and self.at_end
        if new_count <= self.count:
            self.count = new_count
            self._position = min(self._position, new_count - 1)
        else:
            added = new_count - self.count
            self.count = new_count
            if self._position < 0:
                self._position = new_count - 1 if self.live else max(0, min(start, new_count - 1))
                self.following = self.live
            elif self.live and self.following:
                self._position = new_count - 1
            elif self.live:
                self.unseen += added
        if chase and self.count:
            self.go(self.count - 1)
        self.chasing = chase and not complete
