"""Every key binding of the debugger in one place: the screen's own, and the groups for help.

Widgets keep their bindings on their classes (``SpanTree.BINDINGS``,
``DocumentView.BINDINGS``); the screen's bindings, which work from any pane, are defined here.
:func:`key_groups` lists all of them for the ``?`` help and for the README's key table
(``python -m trace_tui.tui.keys`` prints it as Markdown).
"""

from __future__ import annotations

from textual.binding import Binding, BindingType

from trace_tui.tui.widgets.doc_view import DocumentView
from trace_tui.tui.widgets.span_tree import SpanTree

SCREEN_BINDINGS: list[BindingType] = [
    Binding("question_mark", "help", "Keys", id="app.help", tooltip="Show every key"),
    Binding("left_square_bracket", "step(-1)", "Back", show=False, id="step.back",
            tooltip="Step back one step in time (from any pane)"),
    Binding("right_square_bracket", "step(1)", "Forward", show=False, id="step.forward",
            tooltip="Step forward one step in time (from any pane)"),
    Binding("colon", "goto", "Go to", id="step.goto", tooltip="Jump to a step number"),
    Binding("e", "error(1)", "Next error", id="step.next_error",
            tooltip="Jump to the next failed step"),
    Binding("E", "error(-1)", "Prev error", show=False, id="step.prev_error",
            tooltip="Jump to the previous failed step"),
    Binding("exclamation_mark", "first_error", "First error", show=False,
            id="step.first_error", tooltip="Jump to the first failed step"),
    Binding("v", "blocked(1)", "Blocked", id="step.next_blocked",
            tooltip="Jump to the next step the policy blocks (open/tail --policy)"),
    Binding("V", "blocked(-1)", "Prev blocked", show=False, id="step.prev_blocked",
            tooltip="Jump to the previous step the policy blocks"),
    Binding("t", "tool(1)", "Next tool", show=False, id="step.next_tool",
            tooltip="Jump to the next tool or retrieval call"),
    Binding("T", "tool(-1)", "Prev tool", show=False, id="step.prev_tool",
            tooltip="Jump to the previous tool or retrieval call"),
    Binding("f", "follow", "Follow", id="step.follow",
            tooltip="Jump to the end and follow new steps again (tail mode; End too)"),
    Binding("slash", "search", "Search", id="step.search",
            tooltip="Search steps: words match name or payload; kind:, is:, name:, text:"),
    Binding("n", "search_next(1)", "Next match", show=False, id="step.search_next",
            tooltip="Jump to the next search match"),
    Binding("N", "search_next(-1)", "Prev match", show=False, id="step.search_prev",
            tooltip="Jump to the previous search match"),
    Binding("ampersand", "filter", "Filter", show=False, id="step.filter",
            tooltip="Show only matching steps (and their ancestors)"),
    Binding("escape", "clear_filter", "Clear filter", show=False, id="step.clear_filter",
            tooltip="Remove the filter and show every step"),
    Binding("p", "mode('payload')", "Payload", show=False, id="view.payload",
            tooltip="Inspector: the step's record as foldable JSON"),
    Binding("c", "mode('chat')", "Chat", show=False, id="view.chat",
            tooltip="Inspector: the step as a conversation (roles, tool calls)"),
    Binding("x", "mode('context')", "Context", show=False, id="view.context",
            tooltip="Inspector: exactly what the model saw at this step"),
    Binding("r", "mode('raw')", "Raw", show=False, id="view.raw",
            tooltip="Inspector: the original record from the file"),
    Binding("H", "toggle_future", "Hide later", show=False, id="view.hide_future",
            tooltip="Hide the steps after the cursor instead of dimming them"),
    Binding("1", "toggle_pane('tree')", "Tree", show=False, id="view.toggle_tree",
            tooltip="Show or hide the span tree"),
    Binding("2", "toggle_pane('inspector')", "Inspector", show=False,
            id="view.toggle_inspector", tooltip="Show or hide the inspector"),
    Binding("3", "toggle_pane('gauge')", "Gauge", show=False, id="view.toggle_gauge",
            tooltip="Show or hide the context-window gauge"),
    Binding("W", "problems", "Problems", show=False, id="view.problems",
            tooltip="List the file's corrupt records and skipped lines, one entry each"),
    Binding("z", "zoom", "Zoom", show=False, id="view.zoom",
            tooltip="Fill the screen with the focused pane (again to restore)"),
    Binding("F", "fork", "Fork", id="branch.fork",
            tooltip="Fork here: edit this step's record as JSON, then replay forward"),
    Binding("b", "branches", "Branches", show=False, id="branch.list",
            tooltip="The branch tree of this trace; Enter switches to a branch"),
    Binding("d", "diff_parent", "Diff parent", show=False, id="branch.diff_parent",
            tooltip="Compare this branch with the run it was forked from"),
]

APP_BINDINGS: list[BindingType] = [
    Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit trace-tui"),
    Binding("ctrl+t", "next_theme", "Theme", show=False, id="app.next_theme",
            tooltip="Switch to the next colour theme (dark, high contrast, light)"),
]

#: Keys Textual provides that we document too.
BUILTIN_KEYS: list[Binding] = [
    Binding("ctrl+p", "command_palette", "Commands",
            tooltip="Command palette: every command by name (step:, view:, theme:, filter:)"),
    Binding("tab", "focus_next", "Next pane", tooltip="Move focus to the next pane"),
    Binding("shift+tab", "focus_previous", "Previous pane",
            tooltip="Move focus to the previous pane"),
    Binding("ctrl+q", "quit", "Quit", tooltip="Quit (also q)"),
]


def _only(items: list[BindingType]) -> list[Binding]:
    return [b for b in items if isinstance(b, Binding)]


def key_groups(tail: bool = True) -> list[tuple[str, list[Binding]]]:
    """Bindings by where they work, for the help screen and the README."""
    screen = [b for b in _only(SCREEN_BINDINGS) if tail or b.action != "follow"]
    return [
        ("Anywhere: time travel, search, views", screen),
        ("Span tree (left pane)", _only(SpanTree.BINDINGS)),
        ("Inspector (focused with Enter or Tab)", _only(DocumentView.BINDINGS)),
        ("App", _only(APP_BINDINGS) + BUILTIN_KEYS),
    ]


def format_keys(key: str) -> str:
    """``down,j`` → ``↓ j``; textual key names to what is printed on keys."""
    names = {"down": "↓", "up": "↑", "left": "←", "right": "→", "pagedown": "PgDn",
             "pageup": "PgUp", "home": "Home", "end": "End", "enter": "Enter",
             "space": "Space", "escape": "Esc", "question_mark": "?", "slash": "/",
             "ampersand": "&", "colon": ":", "left_square_bracket": "[",
             "right_square_bracket": "]", "exclamation_mark": "!", "minus": "-", "plus": "+",
             "equals_sign": "=", "tab": "Tab", "shift+tab": "Shift+Tab"}
    out = []
    for part in key.split(","):
        part = part.strip()
        out.append(names.get(part, part.replace("ctrl+", "Ctrl+")))
    return " ".join(out)


def markdown_table() -> str:
    """The README's key table."""
    lines = ["| where | key | action | what it does |", "|---|---|---|---|"]
    for group, bindings in key_groups(tail=True):
        where = group.split(" (")[0].split(":")[0]
        for b in bindings:
            keys = format_keys(b.key).replace("|", "\\|")
            lines.append(f"| {where} | `{keys}` | `{b.action}` | {b.tooltip or b.description} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
