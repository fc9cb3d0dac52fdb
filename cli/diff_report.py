"""Print a :class:`~trace_tui.core.diff.compare.RunDiff` for people (``--plain``) or machines
(``--json``).

The plain report lists only the rows that differ (runs of equal steps are folded into one
line), each with its pointer-level changes and a word diff for long strings
(``[-removed-]{+added+}``, as ``git diff --word-diff=plain``), then the tool-call summary and the
token, cost and duration totals. Every piece of trace text goes through
:func:`~trace_tui.core.text.sanitize.one_line` before it is printed.

The JSON report carries the same facts with full values: counts, the first divergence, the
differing rows (1-based step numbers), totals with deltas, the tool-call summary and the
run-record changes, and a ``redaction`` object saying whether secrets were masked.

Secrets are masked *before* diffing (:func:`report_diff` diffs two redacted copies of the
runs): a word diff cuts strings into pieces, and a piece of a key is no longer recognisable
as a key. Both sides go through the same deterministic redactor, so equal values stay equal,
different secrets get different placeholders, and a redacted branch diffs cleanly against
its raw parent. The writers pass every line through the redactor once more on the way out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TextIO

from trace_tui.cli.show_report import redacted_run
from trace_tui.core.diff.compare import SAME, Delta, DiffOptions, DiffRow, RunDiff, diff_runs
from trace_tui.core.diff.payload import FieldChange, TextPiece
from trace_tui.core.diff.wording import delta_text, step_title, value_text
from trace_tui.core.io.standard_json import dumps
from trace_tui.core.model.run import Run
from trace_tui.core.text.redact import Redactor
from trace_tui.core.text.sanitize import one_line

#: Longest printed word-diff line in the plain report.
WORDS_LIMIT = 600
#: Equal stretches of a word diff longer than this are shortened to their ends.
EQUAL_CONTEXT = 30


def report_diff(
    left: Run, right: Run, options: DiffOptions | None = None, redactor: Redactor | None = None
) -> RunDiff:
    """Diff ``left`` and ``right`` with their secrets masked first (``None``: built-in rules).

    What ``diff --plain`` / ``--json`` print; a disabled redactor diffs the runs as they are.
    """
    redactor = Redactor() if redactor is None else redactor
    return diff_runs(redacted_run(left, redactor), redacted_run(right, redactor), options)


# --------------------------------------------------------------------------- plain
def write_plain(
    diff: RunDiff, out: TextIO, left_name: str, right_name: str, redactor: Redactor | None = None
) -> None:
    """The readable report (see the module docstring); ``diff`` should come from
    :func:`report_diff`, and each line goes through ``redactor`` once more when given."""
    mask = redactor.text if redactor is not None else None
    for line in plain_lines(diff, left_name, right_name):
        out.write((mask(line) if mask is not None else line) + "\n")


def plain_lines(diff: RunDiff, left_name: str, right_name: str) -> Iterator[str]:
    """The lines of the readable report."""
    yield from _header(diff, left_name, right_name)
    same_run: list[DiffRow] = []
    for row in diff.rows:
        if row.status == SAME:
            same_run.append(row)
            continue
        if same_run:
            yield _folded(same_run)
            same_run = []
        yield row_line(diff, row)
        for change in row.changes:
            yield from change_lines(change, indent="      ")
    if same_run:
        yield _folded(same_run)
    yield from _footer(diff)


def _header(diff: RunDiff, left_name: str, right_name: str) -> Iterator[str]:
    for tag, name, run in (("A", left_name, diff.left), ("B", right_name, diff.right)):
        title = f'  "{one_line(run.info.name, 60)}"' if run.info.name else ""
        yield f"{tag}: {one_line(name)}  ({len(run)} steps){title}"
    words = ", ".join(one_line(w) for w in diff.rules.words)
    yield f"ignoring: {words}" if words else "ignoring: nothing (--strict)"
    counts = diff.counts()
    yield "steps: " + " · ".join(f"{counts[k]} {k}" for k in counts)
    first = diff.first_divergence
    if first is None:
        yield "first divergence: none"
    else:
        yield f"first divergence: {_where(diff, diff.rows[first])} ({diff.rows[first].status})"
    yield ""


def _where(diff: RunDiff, row: DiffRow) -> str:
    a = f"A step {row.left + 1}" if row.left is not None else "A —"
    b = f"B step {row.right + 1}" if row.right is not None else "B —"
    return f"{a} ↔ {b}, {step_title(diff, row)}"


def row_line(diff: RunDiff, row: DiffRow) -> str:
    """``~     5 ↔     5  tool lookup_order`` for one row."""
    return f"{row.marker} {_number(row.left):>5} ↔ {_number(row.right):<5}  {step_title(diff, row)}"


def _folded(rows: list[DiffRow]) -> str:
    first, last = rows[0], rows[-1]
    if len(rows) == 1:
        return f"= {_number(first.left):>5} ↔ {_number(first.right):<5}  (same)"
    return (
        f"= {len(rows)} same steps (A {_number(first.left)}–{_number(last.left)}, "
        f"B {_number(first.right)}–{_number(last.right)})"
    )


def _number(index: int | None) -> str:
    return str(index + 1) if index is not None else "·"


def change_lines(change: FieldChange, indent: str = "") -> Iterator[str]:
    """One or two lines for a field change: pointer, values, and the word diff if any."""
    mark = {"added": "+", "removed": "-", "changed": "~"}[change.op]
    pointer = one_line(change.pointer or "/", 100)
    if change.words is not None:
        yield f"{indent}{mark} {pointer} (words):"
        yield f"{indent}    {words_text(change.words)}"
    elif change.op == "added":
        yield f"{indent}{mark} {pointer}: {value_text(change.new)}"
    elif change.op == "removed":
        yield f"{indent}{mark} {pointer}: {value_text(change.old)}"
    else:
        yield f"{indent}{mark} {pointer}: {value_text(change.old)} → {value_text(change.new)}"


def words_text(pieces: tuple[TextPiece, ...], limit: int = WORDS_LIMIT) -> str:
    """A word diff on one line: ``same [-old-]{+new+} same``, long equal parts shortened."""
    parts: list[str] = []
    for n, piece in enumerate(pieces):
        text = one_line(piece.text)
        if piece.op == "=":
            parts.append(_shorten(text, first=n == 0, last=n == len(pieces) - 1))
        elif piece.op == "-":
            parts.append(f"[-{text}-]")
        else:
            parts.append(f"{{+{text}+}}")
    return one_line("".join(parts), limit)


def _shorten(text: str, *, first: bool, last: bool) -> str:
    keep = EQUAL_CONTEXT
    if len(text) <= keep * 2 + 1:
        return text
    if first:
        return "…" + text[-keep:]
    if last:
        return text[:keep] + "…"
    return text[:keep] + "…" + text[-keep:]


def _footer(diff: RunDiff) -> Iterator[str]:
    yield ""
    if diff.tool_summary:
        yield "tool calls:"
        yield from (f"  {one_line(s, 200)}" for s in diff.tool_summary)
    totals = diff.total_deltas()
    yield (
        f"tokens:   {delta_text(totals['tokens'])}  (input {delta_text(totals['input_tokens'])},"
        f" output {delta_text(totals['output_tokens'])})"
    )
    unpriced = diff.left_totals.unpriced_calls + diff.right_totals.unpriced_calls
    note = f"  [{unpriced} model call(s) of unknown price left out]" if unpriced else ""
    yield f"cost:     {delta_text(totals['cost'], money=True)}{note}"
    yield f"duration: {delta_text(totals['duration'], seconds=True)}"
    if diff.run_changes:
        yield "run record (reported, not counted as a difference):"
        for change in diff.run_changes:
            yield from change_lines(change, indent="  ")
    yield "result: the runs are equivalent" if diff.equivalent else "result: the runs differ"


# --------------------------------------------------------------------------- json
def json_report(diff: RunDiff, left_name: str, right_name: str) -> dict[str, Any]:
    """The machine-readable report (see the module docstring)."""
    first = diff.first_divergence
    return {
        "equivalent": diff.equivalent,
        "left": _side_json(diff, left_name, left=True),
        "right": _side_json(diff, right_name, left=False),
        "ignored": list(diff.rules.words),
        "counts": diff.counts(),
        "first_divergence": _row_json(diff, first, details=False) if first is not None else None,
        "rows": [_row_json(diff, n, details=True) for n in diff.difference_rows],
        "tool_calls": diff.tool_summary,
        "totals": {name: _delta_json(d) for name, d in diff.total_deltas().items()},
        "run_changes": [_change_json(c) for c in diff.run_changes],
    }


def write_json(
    diff: RunDiff,
    out: TextIO,
    left_name: str,
    right_name: str,
    redactor: Redactor | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write :func:`json_report` as indented JSON; ``diff`` should come from
    :func:`report_diff`. With ``redactor`` the report says so under ``redaction`` and its
    values go through the redactor once more. ``extra`` keys are added (``--policy``)."""
    report = json_report(diff, left_name, right_name)
    report.update(extra or {})
    if redactor is not None:
        report = redactor.value(report)
        report["redaction"] = redactor.export_metadata()
    out.write(dumps(report, indent=2, default=repr) + "\n")


def _side_json(diff: RunDiff, name: str, *, left: bool) -> dict[str, Any]:
    run = diff.left if left else diff.right
    totals = diff.left_totals if left else diff.right_totals
    return {
        "path": name,
        "run_id": run.info.run_id,
        "name": run.info.name,
        "steps": len(run),
        "problems": len(run.problems),
        "unpriced_calls": totals.unpriced_calls,
    }


def _row_json(diff: RunDiff, n: int, *, details: bool) -> dict[str, Any]:
    row = diff.rows[n]
    step = diff.left.step(row.left) if row.left is not None else diff.right.step(row.right or 0)
    out: dict[str, Any] = {
        "row": n,
        "status": row.status,
        "left_step": row.left + 1 if row.left is not None else None,
        "right_step": row.right + 1 if row.right is not None else None,
        "kind": step.kind,
        "name": step.name,
    }
    if details:
        out["changes"] = [_change_json(c) for c in row.changes]
        out["deltas"] = {k: _delta_json(d) for k, d in diff.deltas(row).items()}
    return out


def _change_json(change: FieldChange) -> dict[str, Any]:
    out: dict[str, Any] = {"op": change.op, "pointer": change.pointer}
    if change.op != "added":
        out["old"] = change.old
    if change.op != "removed":
        out["new"] = change.new
    if change.words is not None:
        out["words"] = [[p.op, p.text] for p in change.words]
    return out


def _delta_json(delta: Delta) -> dict[str, Any]:
    return {
        "left": delta.old,
        "right": delta.new,
        "delta": delta.change,
        "measured": delta.measured,
    }
