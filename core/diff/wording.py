"""A diff in words: one-line texts for a row's steps, a value and a delta.

Shared by the plain report of ``trace-tui diff`` (``cli/diff_report.py``) and the diff screen
(``tui/diff/``), so both say the same thing the same way. Every piece of trace text goes
through :func:`~trace_tui.core.text.sanitize.one_line`.
"""

from __future__ import annotations

from typing import Any

from trace_tui.core.diff.compare import Delta, DiffRow, RunDiff
from trace_tui.core.diff.summary import short_json
from trace_tui.core.text.sanitize import one_line

#: Longest printed value.
VALUE_LIMIT = 160


def step_title(diff: RunDiff, row: DiffRow) -> str:
    """``kind name`` of a row's steps (``A name → B name`` when the names differ)."""
    a = diff.left.step(row.left) if row.left is not None else None
    b = diff.right.step(row.right) if row.right is not None else None
    step = a or b
    assert step is not None
    name = one_line(step.name, 60)
    if a is not None and b is not None and a.name != b.name:
        name = f"{name} → {one_line(b.name, 60)}"
    return f"{step.kind} {name}"


def value_text(value: Any, limit: int = VALUE_LIMIT) -> str:
    """A JSON value on one line, sanitised and cut to ``limit``."""
    return one_line(short_json(value, limit * 2), limit)


def number_text(value: float | None, *, money: bool = False, seconds: bool = False) -> str:
    """A quantity for people: ``1,234``, ``$0.0123``, ``3.20 s``, ``?`` when unknown."""
    if value is None:
        return "?"
    if money:
        return f"${value:,.4f}"
    if seconds:
        return f"{value:,.2f} s"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def delta_text(delta: Delta, *, money: bool = False, seconds: bool = False) -> str:
    """``old → new (+change)`` for a :class:`Delta`; ``not measured`` when a side's number is
    not a measurement (a replay copied the recorded times; a call answered without usage)."""
    if not delta.measured:
        return "not measured"
    old = number_text(delta.old, money=money, seconds=seconds)
    text = f"{old} → {number_text(delta.new, money=money, seconds=seconds)}"
    change = delta.change
    if change is None:
        return text
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    return f"{text} ({sign}{number_text(abs(change), money=money, seconds=seconds)})"
