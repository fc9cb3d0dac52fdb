"""How the tool calls changed between two runs, in a few plain sentences.

Built from the aligned rows of a diff, so it respects the ignore rules: a changed tool step
contributes what happened to its arguments and result (``lookup_order(order_id) now called
with user_id``), and tool steps only one run has are counted per tool (``refund(order_id)
no longer called``, ``search called 3 → 5 times``). Identical sentences are merged with a
count. Sentences hold raw trace text: whoever prints them sanitises them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from trace_tui.core.diff.payload import ADDED, REMOVED, FieldChange, escape_token
from trace_tui.core.model.run import A_TOOL_ARGUMENTS, A_TOOL_RESULT, RunView, Step

ARGS_POINTER = "/attributes/" + escape_token(A_TOOL_ARGUMENTS)
RESULT_POINTER = "/attributes/" + escape_token(A_TOOL_RESULT)
#: At most this many sentences; the rest are counted in a last one.
SUMMARY_LIMIT = 20


class _Row(Protocol):
    left: int | None
    right: int | None
    changes: tuple[FieldChange, ...]


def summarize_tool_calls(
    left: RunView,
    right: RunView,
    rows: Sequence[_Row],
    limit: int = SUMMARY_LIMIT,
    *,
    counts: tuple[Counter[str], Counter[str]] | None = None,
) -> list[str]:
    """Sentences saying how the sequence of tool calls changed from ``left`` to ``right``.

    Only rows that differ are read. ``counts`` are the tool calls per tool name of each run,
    when the caller has them (else they are counted here, if needed).
    """
    sentences: Counter[str] = Counter()
    only_left: dict[str, Step] = {}
    only_right: dict[str, Step] = {}
    for row in rows:
        if not row.changes and row.left is not None and row.right is not None:
            continue
        a = left.step(row.left) if row.left is not None else None
        b = right.step(row.right) if row.right is not None else None
        if a is not None and b is not None:
            if a.kind == "tool" and row.changes:
                sentences.update(_pair_sentences(a, row.changes))
        elif a is not None and a.kind == "tool":
            only_left.setdefault(tool_of(a), a)
        elif b is not None and b.kind == "tool":
            only_right.setdefault(tool_of(b), b)
    if only_left or only_right:
        tool_counts = counts or (_tool_counts(left), _tool_counts(right))
        sentences.update(_count_sentences(tool_counts, only_left, only_right))
    lines = [s if n == 1 else f"{s} (×{n})" for s, n in sentences.items()]
    if len(lines) > limit:
        lines = [*lines[: limit - 1], f"… and {len(lines) - limit + 1} more changes to tool calls"]
    return lines


def tool_of(step: Step) -> str:
    """The tool a step ran (its tool name, else its span name)."""
    return step.tool_name or step.name


def call_text(step: Step) -> str:
    """``name(key, key)`` from a tool step's argument keys."""
    args = step.tool_arguments
    if isinstance(args, dict):
        return f"{tool_of(step)}({', '.join(str(k) for k in args)})"
    return f"{tool_of(step)}({'' if args is None else '…'})"


def short_json(value: Any, limit: int = 40) -> str:
    """Compact JSON of ``value``, cut to ``limit`` characters with ``…``."""
    try:
        text = orjson.dumps(value).decode("utf-8")
    except TypeError:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pair_sentences(before: Step, changes: Sequence[FieldChange]) -> list[str]:
    """What happened to one tool call that both runs made."""
    call = call_text(before)
    out: list[str] = []
    result_at: list[str] = []
    for change in changes:
        if change.pointer == ARGS_POINTER or change.pointer == RESULT_POINTER:
            if change.pointer == ARGS_POINTER:
                out.append(f"{call} called with different arguments")
            else:
                out.append(f"{call} returned a different result")
        elif change.pointer.startswith(ARGS_POINTER + "/"):
            out.append(_argument_sentence(call, change))
        elif change.pointer.startswith(RESULT_POINTER + "/"):
            result_at.append(change.pointer[len(RESULT_POINTER) :])
        elif change.pointer == "/status":
            out.append(f"{call} status {change.old} → {change.new}")
    if result_at:
        shown = ", ".join(result_at[:3]) + (", …" if len(result_at) > 3 else "")
        out.append(f"{call} returned a different result at {shown}")
    return list(dict.fromkeys(out))


def _argument_sentence(call: str, change: FieldChange) -> str:
    rest = change.pointer[len(ARGS_POINTER) + 1 :]
    key = rest.split("/", 1)[0].replace("~1", "/").replace("~0", "~")
    nested = "/" in rest
    if change.op == ADDED and not nested:
        return f"{call} now called with {key}"
    if change.op == REMOVED and not nested:
        return f"{call} no longer called with {key}"
    if nested:
        return f"{call} called with a different {key}"
    return f"{call} called with {key} {short_json(change.old)} → {short_json(change.new)}"


def _count_sentences(
    counts: tuple[Counter[str], Counter[str]],
    only_left: dict[str, Step],
    only_right: dict[str, Step],
) -> list[str]:
    """Tools called in one run and not the other, or a different number of times."""
    count_a, count_b = counts
    out: list[str] = []
    for name in dict.fromkeys([*only_left, *only_right]):
        a, b = count_a[name], count_b[name]
        example = only_left.get(name) or only_right[name]
        if b == 0:
            out.append(f"{call_text(example)} no longer called" + _times(a))
        elif a == 0:
            out.append(f"{call_text(example)} now called" + _times(b))
        elif a != b:
            out.append(f"{name} called {a} → {b} times")
        else:
            out.append(f"{name} called at a different point in the run")
    return out


def _times(count: int) -> str:
    return f" ({count} calls)" if count > 1 else ""


def _tool_counts(run: RunView) -> Counter[str]:
    counts: Counter[str] = Counter()
    for i in range(len(run)):
        step = run.step(i)
        if step.kind == "tool":
            counts[tool_of(step)] += 1
    return counts
