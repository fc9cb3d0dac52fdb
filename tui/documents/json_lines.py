"""JSON values as foldable, pointer-addressed document lines (pretty-printed, cut, capped).

:func:`flatten_json` lays a value out one node per line, so every line has the JSON pointer
(RFC 6901, via :mod:`jsonpointer`) of the node it shows: the pointer the inspector displays,
copies, and that fork edits use (``/attributes/gen_ai.tool.call.result/discount_pct``).
Containers can be folded; long strings are cut to a preview with an ``expand`` action; big
containers show their first items with a ``more`` action, so a huge payload costs only what is
shown. Every string is JSON-escaped and then passed through :func:`display_str`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonpointer import escape

from trace_tui.tui.display.safe_text import display_str
from trace_tui.tui.documents.lines import DocLine, Piece, line, wrap_text

STRING_PREVIEW = 160
EXPAND_STEP = 64_000
CHILDREN_STEP = 200
MAX_DEPTH = 64
INDENT = "  "


@dataclass(slots=True)
class FoldState:
    """What the user opened and closed in one payload: folds, expansions, items shown."""

    folded: set[str] = field(default_factory=set)
    unfolded: set[str] = field(default_factory=set)
    expanded: dict[str, int] = field(default_factory=dict)
    default_folded: frozenset[str] = frozenset()

    def is_folded(self, pointer: str) -> bool:
        """True when the container at ``pointer`` shows collapsed."""
        if pointer in self.unfolded:
            return False
        return pointer in self.folded or pointer in self.default_folded

    def toggle(self, pointer: str) -> None:
        """Fold an open container or open a folded one."""
        if self.is_folded(pointer):
            self.folded.discard(pointer)
            self.unfolded.add(pointer)
        else:
            self.unfolded.discard(pointer)
            self.folded.add(pointer)

    def more(self, pointer: str, step: int) -> None:
        """Show ``step`` more characters or items at ``pointer``."""
        self.expanded[pointer] = self.expanded.get(pointer, 0) + step

    def apply(self, action: str, pointer: str) -> None:
        """Do what Enter on a line with ``action`` means (fold, unfold, expand, more...)."""
        if action in ("fold", "unfold"):
            self.toggle(pointer)
        elif action == "expand":
            if self.expanded.pop(pointer, 0) == 0:
                self.expanded[pointer] = EXPAND_STEP
        elif action == "more-chars":
            self.more(pointer, EXPAND_STEP)
        elif action == "more-items":
            self.more(pointer, CHILDREN_STEP)


def json_literal(value: Any, limit: int) -> str:
    """A scalar as JSON text, cut to about ``limit`` characters, safe to display."""
    if isinstance(value, str):
        cut = len(value) > limit
        text = json.dumps(value[:limit], ensure_ascii=False)
        return display_str(text[:-1] + "…\"" if cut else text, one_line=True, redact=False)
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return display_str(text, one_line=True, limit=limit, redact=False)


def flatten_json(value: Any, state: FoldState, *, width: int = 100,
                 dropped: Mapping[str, int] | None = None) -> list[DocLine]:
    """Lines for ``value`` pretty-printed with ``state``'s folds and expansions applied.

    ``dropped``: how many characters were cut off the strings ``value`` holds cut (by JSON
    pointer), so a 200 MB string is masked and shown from its first characters but counted
    whole."""
    out: list[DocLine] = []
    _node(out, value, "", None, 0, True, state, max(20, width), dropped or {})
    return out


def _scalar_role(value: Any) -> str:
    if isinstance(value, str):
        return "str"
    if isinstance(value, bool):
        return "bool"
    if value is None:
        return "null"
    return "num" if isinstance(value, int | float) else "str"


def _node(out: list[DocLine], value: Any, pointer: str, key: Piece | None, depth: int,
          last: bool, state: FoldState, width: int, dropped: Mapping[str, int]) -> None:
    pad = (INDENT * depth, "punct")
    head: list[Piece] = [pad]
    if key is not None:
        head += [key, (": ", "punct")]
    comma = ("" if last else ",", "punct")
    if isinstance(value, Mapping | list) and value:
        _container(out, value, pointer, head, depth, comma, state, width, dropped)
    elif isinstance(value, Mapping | list):
        out.append(line(*head, ("{}" if isinstance(value, Mapping) else "[]", "punct"), comma,
                        anchor=pointer))
    elif isinstance(value, str) and len(value) > STRING_PREVIEW:
        _long_string(out, value, pointer, head, depth, comma, state, width,
                     len(value) + dropped.get(pointer, 0))
    else:
        out.append(line(*head, (json_literal(value, STRING_PREVIEW), _scalar_role(value)), comma,
                        anchor=pointer))


def _container(out: list[DocLine], value: Mapping[Any, Any] | list[Any], pointer: str,
               head: list[Piece], depth: int, comma: Piece, state: FoldState,
               width: int, dropped: Mapping[str, int]) -> None:
    is_map = isinstance(value, Mapping)
    open_, close = ("{", "}") if is_map else ("[", "]")
    noun = "keys" if is_map else "items"
    if state.is_folded(pointer) or depth >= MAX_DEPTH:
        note = f" {len(value):,} {noun}" + (" (nested too deep)" if depth >= MAX_DEPTH else "")
        out.append(line(*head, (f"{open_}…{close}", "punct"), comma, (note, "note"),
                        anchor=pointer, action="unfold"))
        return
    out.append(line(*head, (open_, "punct"), anchor=pointer, action="fold"))
    shown = CHILDREN_STEP + state.expanded.get(pointer, 0)
    items: Collection[Any] = value.keys() if isinstance(value, Mapping) else range(len(value))
    total = len(items)
    for n, item in enumerate(items):
        if n >= shown:
            out.append(line((INDENT * (depth + 1), "punct"),
                            (f"… {total - shown:,} more {noun} (Enter shows more)", "note"),
                            anchor=pointer, action="more-items"))
            break
        child = value[item]
        child_ptr = f"{pointer}/{escape(str(item))}"
        key = (json_literal(str(item), 200), "key") if is_map else None
        _node(out, child, child_ptr, key, depth + 1, n == total - 1, state, width, dropped)
    out.append(line((INDENT * depth, "punct"), (close, "punct"), comma, anchor=pointer,
                    action="fold"))


def _long_string(out: list[DocLine], value: str, pointer: str, head: list[Piece], depth: int,
                 comma: Piece, state: FoldState, width: int, whole: int) -> None:
    shown = state.expanded.get(pointer, 0)
    if not shown:
        note = f" +{whole - STRING_PREVIEW:,} chars (Enter expands)"
        out.append(line(*head, (json_literal(value, STRING_PREVIEW), "str"), comma,
                        (note, "note"), anchor=pointer, action="expand"))
        return
    out.append(line(*head, (f"⌄ string, {whole:,} chars (Enter folds)", "note"), comma,
                    anchor=pointer, action="expand"))
    pad = INDENT * (depth + 1)
    lines, left = wrap_text(value, width - len(pad), limit=shown, redact=False)
    left += whole - len(value)  # a string held cut (see flatten_json): the rest counts too
    out.extend(line((pad, "punct"), ("│ ", "note"), (text, "str"), anchor=pointer)
               for text in lines)
    if left:
        out.append(line((pad, "punct"), (f"… {left:,} more chars (Enter shows more)", "note"),
                        anchor=pointer, action="more-chars"))
