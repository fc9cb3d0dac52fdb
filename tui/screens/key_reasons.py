"""Why a key did nothing: one short line for the status line, never silence.

Textual skips a binding whose ``check_action`` says no (the footer greys it out) and the key
press then does nothing. :func:`binding_for_key` finds the binding a key press would have run
(the focused span tree's first, then the screen's) and :func:`why_not` says, in words, why it
cannot run from here: "no failed step after step 7", "this run is not a branch", "already on
the last step"... The debugger shows that line in its status line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.actions import parse
from textual.binding import Binding, BindingType

if TYPE_CHECKING:
    from trace_tui.tui.screens.debugger import DebuggerScreen


def _by_key(bindings: list[BindingType]) -> dict[str, Binding]:
    table: dict[str, Binding] = {}
    for binding in bindings:
        if isinstance(binding, Binding):
            for key in binding.key.split(","):
                table.setdefault(key.strip(), binding)
    return table


def binding_for_key(key: str, *tables: list[BindingType]) -> Binding | None:
    """The first binding for ``key`` in ``tables`` (the focused widget's first)."""
    for table in tables:
        found = _by_key(table).get(key)
        if found is not None:
            return found
    return None


def parse_action(action: str) -> tuple[str, tuple[object, ...]]:
    """``"error(1)"`` → ``("error", (1,))``."""
    _namespace, name, params = parse(action)
    return name, tuple(params)


def why_not(screen: DebuggerScreen, action: str, params: tuple[object, ...]) -> str:
    """One line saying why ``action`` cannot run on ``screen`` now."""
    count, pos = screen.count, screen.cursor.position
    here = f"step {pos + 1}"
    if not count and action not in ("help", "follow", "problems"):
        return "no steps yet" + ("" if screen.complete else " (still reading)")
    forward = bool(params) and params[0] == 1
    facts = screen.facts
    if action in ("error", "first_error"):
        if facts.error_count == 0:
            return "no failed step in this run"
        if action == "first_error":
            return f"{here} is the first failed step"
        return (f"no failed step after {here} (E goes back)" if forward
                else f"no failed step before {here} (e goes forward)")
    if action == "blocked":
        return screen.policy_why_not(params)
    if action == "tool":
        return (f"no tool or retrieval call after {here} (T goes back)" if forward
                else f"no tool or retrieval call before {here} (t goes forward)")
    if action in ("step", "move"):
        return "already on the last step" if forward else "already on the first step"
    if action == "search_next":
        return "nothing to repeat: / searches first"
    if action == "clear_filter":
        return "no filter to clear (& filters)"
    if action == "follow":
        if not screen.follow_mode:
            return "f follows a live trace: open it with trace-tui tail"
        return "already following the end"
    if action == "fork":
        if screen.replaying:
            return "a replay is running; fork again when it is done"
        return "wait until the whole trace is read to fork"
    if action in ("diff_parent", "diff_with"):
        if action == "diff_parent" and screen.complete:
            return "this run is not a branch (b lists the branches; F forks)"
        return "wait until the whole trace is read to compare"
    if action == "activate":
        return "nothing to fold, unfold or expand on this line"
    if action in ("copy", "reveal"):
        return f"this line has no value to {action} (select a JSON line)"
    if action == "problems":
        return "no corrupt records or skipped lines in this file"
    if action == "toggle_fold":
        return f"{here} has no children to fold"
    if action in ("collapse", "expand", "collapse_all"):
        return "wait: the tree is still being rebuilt"
    if action == "expand_all":
        return "nothing is collapsed"
    return "not available here"
