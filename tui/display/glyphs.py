"""The symbols the screen uses for kinds and states, in one place (all one cell wide).

Colour is never the only signal: kinds have their own symbol, errors a cross, running steps a
dotted circle, so the tree reads the same with ``NO_COLOR`` or on a monochrome terminal.
"""

from __future__ import annotations

KIND_SYMBOLS: dict[str, str] = {
    "agent": "◆",
    "llm": "●",
    "tool": "λ",
    "retrieval": "⌕",
    "other": "○",
}
ERROR_SYMBOL = "✖"
RUNNING_SYMBOL = "◌"
FOLD_OPEN = "▾"
FOLD_CLOSED = "▸"
CURSOR_MARK = "▶"
#: Policy verdicts in the span tree (``open --policy``).
POLICY_SYMBOLS: dict[str, str] = {"blocked": "⊘", "warned": "△"}

#: How a branch's replayed step was answered (see core/replay/provenance.py), one cell each.
REPLAY_MARKS: dict[str, str] = {
    "recorded": "=",
    "edited": "E",
    "live": "L",
    "manual": "M",
    "position": "P",
    "pending": "?",
}
#: The legend of the marks, for the tree's title and the help.
REPLAY_LEGEND = "= recorded · E edited · L live · M manual · P by position · ? waiting"


def kind_symbol(kind: str) -> str:
    """The symbol for a step kind (``other`` for unknown kinds)."""
    return KIND_SYMBOLS.get(kind, KIND_SYMBOLS["other"])
