"""The command palette (ctrl+p): every debugger command by a namespaced name.

``step: Go to…``, ``step: First error``, ``view: Chat``, ``theme: Light``, ``filter: Only
errors`` ... Each command calls the same action a key does, so the palette and the keys never
disagree. Commands act on the screen the palette was opened from.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from trace_tui.core.navigation.step_query import StepQuery
from trace_tui.themes import load_themes
from trace_tui.tui.screens.debugger import DebuggerScreen
from trace_tui.tui.widgets.span_tree import SpanTree

Command = tuple[str, str, Callable[[], object]]


class TraceCommands(Provider):
    """Commands for the debugger screen and the app."""

    def _commands(self) -> list[Command]:
        screen = self.screen
        act = partial(_run, screen)
        cmds: list[Command] = [
            ("step: Go to…", "jump to a step number", act("goto")),
            ("step: First error", "jump to the first failed step", act("first_error")),
            ("step: Next error", "jump to the next failed step", act("error(1)")),
            ("step: Previous error", "jump to the previous failed step", act("error(-1)")),
            ("step: Next tool call", "jump to the next tool call", act("tool(1)")),
            ("step: Previous tool call", "jump to the previous tool call", act("tool(-1)")),
            ("step: Start", "rewind to the first step", act("start")),
            ("step: End", "jump to the last step", act("end")),
            ("step: Back", "step back one step in time", act("step(-1)")),
            ("step: Forward", "step forward one step in time", act("step(1)")),
            ("step: Resume following", "jump to the end and follow a live trace",
             act("follow")),
            ("search: Find…", "search steps by name, kind or payload", act("search")),
            ("search: Next match", "repeat the search forward", act("search_next(1)")),
            ("filter: Filter steps…", "show only matching steps", act("filter")),
            ("filter: Clear", "show every step", act("clear_filter")),
            ("filter: Only errors", "show failed steps and their ancestors",
             partial(_filter, screen, "is:error")),
            ("filter: Only tool calls", "show tool steps", partial(_filter, screen, "kind:tool")),
            ("filter: Only model calls", "show llm steps", partial(_filter, screen, "kind:llm")),
            ("view: Payload", "inspector shows the step's JSON", act("mode('payload')")),
            ("view: Chat", "inspector shows the conversation", act("mode('chat')")),
            ("view: Context at this step", "exactly what the model saw",
             act("mode('context')")),
            ("view: Raw record", "the original line from the file", act("mode('raw')")),
            ("view: Toggle span tree", "show or hide the tree", act("toggle_pane('tree')")),
            ("view: Toggle inspector", "show or hide the inspector",
             act("toggle_pane('inspector')")),
            ("view: Toggle gauge", "show or hide the context gauge",
             act("toggle_pane('gauge')")),
            ("view: Hide or dim later steps", "what the tree does with steps after the cursor",
             act("toggle_future")),
            ("view: Zoom pane", "fill the screen with the focused pane", act("zoom")),
            ("view: Keys", "show every key", act("help")),
            ("branch: Fork here…", "edit this step's record and replay forward",
             act("fork")),
            ("branch: Branches…", "the branch tree; switch to a branch or the original",
             act("branches")),
            ("diff: Compare with parent", "this branch against the run it was forked from",
             act("diff_parent")),
            ("diff: Compare with…", "this run against another trace file", act("diff_with")),
            ("view: Collapse all", "collapse every step with children",
             partial(_tree, screen, "collapse_all")),
            ("view: Expand all", "expand every collapsed step",
             partial(_tree, screen, "expand_all")),
        ]
        for item in load_themes():
            cmds.append((f"theme: {item.title}", f"colour theme {item.short_name} "
                         f"(payloads in Pygments {item.pygments_style})",
                         partial(setattr, self.app, "theme", item.theme.name)))
        return cmds

    async def discover(self) -> Hits:
        """All commands, shown when the palette opens."""
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        """Commands whose name fuzzily matches ``query``."""
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)


def _run(screen: Screen[object], action: str) -> Callable[[], Awaitable[None]]:
    async def go() -> None:
        if not await screen.app.run_action(action, screen):
            explain = getattr(screen, "explain_unavailable", None)
            if explain is not None:
                explain(action)

    return go


def _filter(screen: Screen[object], text: str) -> None:
    if isinstance(screen, DebuggerScreen):
        screen.apply_filter(StepQuery.parse(text))


async def _tree(screen: Screen[object], action: str) -> None:
    for tree in screen.query(SpanTree):
        await tree.run_action(action)
