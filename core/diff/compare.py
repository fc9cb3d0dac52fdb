"""Diff two runs (or a branch and its parent): what changed, step by step and in total.

:func:`diff_runs` aligns the steps (:mod:`trace_tui.core.diff.align`), then classifies every row:

* ``same``: paired steps whose documents are equal once the ignored fields are pruned;
* ``changed``: paired steps that differ, with the pointer-level changes
  (:mod:`trace_tui.core.diff.payload`);
* ``removed`` / ``added``: a step only the left (A) / right (B) run has.

It also gathers per-step facts (tokens, latency, cost where the model's price is known) for
deltas, run totals, a plain-language summary of how the tool calls changed
(:mod:`trace_tui.core.diff.summary`) and the differences between the two ``run`` records,
which are reported but never make the runs "different": the exit code of ``trace-tui diff``
speaks about steps only.

The result, :class:`RunDiff`, is plain data: the CLI prints it (:mod:`trace_tui.cli.diff_report`)
and the diff screen draws it.
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from trace_tui.core.diff.align import Alignment, align_runs
from trace_tui.core.diff.payload import FieldChange, IgnoreRules, diff_values, step_document
from trace_tui.core.diff.prices import call_cost
from trace_tui.core.diff.summary import summarize_tool_calls
from trace_tui.core.model.run import A_USAGE_INPUT, A_USAGE_OUTPUT, RunInfo, RunView, Step

log = logging.getLogger(__name__)

SAME, CHANGED, ADDED, REMOVED = "same", "changed", "added", "removed"
#: One-character markers, as in diff(1) and the screen: same, changed, added, removed.
MARKERS: dict[str, str] = {SAME: "=", CHANGED: "~", ADDED: "+", REMOVED: "-"}


@dataclass(frozen=True, slots=True)
class DiffOptions:
    """What to compare: extra ignore words (groups, pointers, field names) and strictness."""

    ignore: tuple[str, ...] = ()
    strict: bool = False

    def rules(self) -> IgnoreRules:
        """The compiled ignore rules (raises :class:`ValueError` for a bad word)."""
        return IgnoreRules.build(self.ignore, strict=self.strict)


@dataclass(frozen=True, slots=True)
class StepFacts:
    """The numbers of one step that deltas are made of (``None`` when not recorded)."""

    input_tokens: int | None
    output_tokens: int | None
    latency: float | None
    cost: float | None
    unpriced: bool = False
    #: a step replayed in a branch: its times are the recording's, its latency not measured
    replayed: bool = False
    #: a model call that recorded no usage (answered by hand, or a format without usage)
    no_usage: bool = False

    @property
    def tokens(self) -> int | None:
        """Input plus output tokens, or ``None`` when neither is known."""
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)


@dataclass(frozen=True, slots=True)
class Delta:
    """A quantity in A and in B; ``change`` is B minus A when both are known."""

    old: float | None
    new: float | None
    #: False when a side's number is not a measurement (replayed times, calls without usage):
    #: then there is no change to report, never a zero or a saving
    measured: bool = True

    @property
    def change(self) -> float | None:
        """``new - old``, or ``None`` when either side is unknown or not measured."""
        if not self.measured or self.old is None or self.new is None:
            return None
        return self.new - self.old


@dataclass(frozen=True, slots=True)
class RunTotals:
    """Totals of one run: steps, tokens, cost of the priced calls, wall-clock duration."""

    steps: int
    input_tokens: int | None
    output_tokens: int | None
    cost: float | None
    unpriced_calls: int
    duration: float | None
    tool_calls: int
    errors: int
    #: model calls without usage, and steps whose times a replay copied
    no_usage: int = 0
    replayed: int = 0


@dataclass(slots=True)
class DiffRow:
    """One aligned row: left and/or right step index, status, changes when ``changed``."""

    left: int | None
    right: int | None
    status: str
    changes: tuple[FieldChange, ...] = ()

    @property
    def marker(self) -> str:
        """``=``, ``~``, ``+`` or ``-``."""
        return MARKERS[self.status]


@dataclass(slots=True)
class RunDiff:
    """Everything a diff found; rows are in display order (see
    :mod:`~trace_tui.core.diff.align`)."""

    left: RunView
    right: RunView
    rows: list[DiffRow]
    left_facts: list[StepFacts]
    right_facts: list[StepFacts]
    left_totals: RunTotals
    right_totals: RunTotals
    tool_summary: list[str]
    run_changes: list[FieldChange]
    rules: IgnoreRules
    stats: dict[str, int] = field(default_factory=dict)
    difference_rows: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.difference_rows = [n for n, row in enumerate(self.rows) if row.status != SAME]

    @property
    def equivalent(self) -> bool:
        """True when every row is ``same`` (run-record differences do not count)."""
        return not self.difference_rows

    @property
    def first_divergence(self) -> int | None:
        """The index of the first row that is not ``same``, or ``None``."""
        return self.difference_rows[0] if self.difference_rows else None

    def counts(self) -> dict[str, int]:
        """How many rows of each status."""
        out = dict.fromkeys((SAME, CHANGED, ADDED, REMOVED), 0)
        for row in self.rows:
            out[row.status] += 1
        return out

    def next_difference(self, row: int) -> int | None:
        """The first differing row after ``row``, or ``None``."""
        pos = bisect_right(self.difference_rows, row)
        return self.difference_rows[pos] if pos < len(self.difference_rows) else None

    def previous_difference(self, row: int) -> int | None:
        """The last differing row before ``row``, or ``None``."""
        pos = bisect_left(self.difference_rows, row)
        return self.difference_rows[pos - 1] if pos > 0 else None

    def deltas(self, row: DiffRow) -> dict[str, Delta]:
        """Tokens, input/output tokens, latency and cost of a row's steps, A against B."""
        a = self.left_facts[row.left] if row.left is not None else None
        b = self.right_facts[row.right] if row.right is not None else None
        out: dict[str, Delta] = {}
        sides = [f for f in (a, b) if f is not None]
        for name in ("tokens", "input_tokens", "output_tokens", "latency", "cost"):
            if name == "latency":
                measured = not any(f.replayed for f in sides)
            else:
                measured = not any(f.no_usage for f in sides)
            out[name] = Delta(
                getattr(a, name) if a is not None else None,
                getattr(b, name) if b is not None else None,
                measured,
            )
        return out

    def total_deltas(self) -> dict[str, Delta]:
        """Run totals, A against B: tokens, cost, duration, steps, tool calls, errors."""
        a, b = self.left_totals, self.right_totals
        names: tuple[str, ...] = ("input_tokens", "output_tokens", "cost", "duration")
        names += ("steps", "tool_calls", "errors")
        usage = not (a.no_usage or b.no_usage)
        timed = not (a.replayed or b.replayed)
        measured = {"input_tokens": usage, "output_tokens": usage, "cost": usage}
        measured["duration"] = timed
        out = {
            name: Delta(getattr(a, name), getattr(b, name), measured.get(name, True))
            for name in names
        }
        out["tokens"] = Delta(
            _sum_known(a.input_tokens, a.output_tokens),
            _sum_known(b.input_tokens, b.output_tokens),
            usage,
        )
        return out


# --------------------------------------------------------------------------- building
def diff_runs(
    left: RunView,
    right: RunView,
    options: DiffOptions | None = None,
    *,
    alignment: Alignment | None = None,
) -> RunDiff:
    """Compare two runs; ``left`` is A (before, parent), ``right`` is B (after, branch).

    After the alignment every step is read once more, in one pass that classifies the rows
    and gathers the facts and totals: with an indexed run, ``step(i)`` parses the payload.
    """
    rules = (options or DiffOptions()).rules()
    alignment = alignment if alignment is not None else align_runs(left, right)
    tally_a, tally_b = _Tally(len(left)), _Tally(len(right))
    rows: list[DiffRow] = []
    for i, j in zip(alignment.left, alignment.right, strict=True):
        a = left.step(i) if i >= 0 else None
        b = right.step(j) if j >= 0 else None
        if a is not None:
            tally_a.add(i, a)
        if b is not None:
            tally_b.add(j, b)
        rows.append(_classify(a, b, i, j, rules))
    result = RunDiff(
        left=left,
        right=right,
        rows=rows,
        left_facts=tally_a.facts,
        right_facts=tally_b.facts,
        left_totals=tally_a.totals(),
        right_totals=tally_b.totals(),
        tool_summary=[],
        run_changes=diff_values(
            rules.prune(run_document(left.info)), rules.prune(run_document(right.info))
        ),
        rules=rules,
        stats=dict(alignment.stats),
    )
    result.tool_summary = summarize_tool_calls(
        left, right, rows, counts=(tally_a.tool_names, tally_b.tool_names)
    )
    return result


def _classify(a: Step | None, b: Step | None, i: int, j: int, rules: IgnoreRules) -> DiffRow:
    """The row of left step ``i`` and right step ``j`` (``-1`` and ``None``: no step)."""
    if a is None:
        return DiffRow(None, j, ADDED)
    if b is None:
        return DiffRow(i, None, REMOVED)
    doc_a, doc_b = step_document(a), step_document(b)
    if rules.equal(doc_a, doc_b):
        return DiffRow(i, j, SAME)
    changes = tuple(diff_values(rules.prune(doc_a), rules.prune(doc_b)))
    if not changes:
        log.warning("steps %d and %d differ but no change was found", i + 1, j + 1)
        return DiffRow(i, j, SAME)
    return DiffRow(i, j, CHANGED, changes)


class _Tally:
    """Per-step facts and run totals of one run, gathered as its steps go by once."""

    def __init__(self, count: int) -> None:
        self.facts: list[StepFacts] = [_NO_FACTS] * count
        self.tool_names: Counter[str] = Counter()
        self.count = count
        self.errors = 0
        self.start: float | None = None
        self.end: float | None = None

    def add(self, index: int, step: Step) -> None:
        """Note one step (at its index)."""
        self.facts[index] = facts_of(step)
        if step.kind == "tool":
            self.tool_names[step.tool_name or step.name] += 1
        self.errors += step.is_error
        if step.start_time is not None:
            self.start = step.start_time if self.start is None else min(self.start, step.start_time)
        if step.end_time is not None:
            self.end = step.end_time if self.end is None else max(self.end, step.end_time)

    def totals(self) -> RunTotals:
        """Totals over the steps seen; cost sums the priced calls only."""
        inputs = [f.input_tokens for f in self.facts if f.input_tokens is not None]
        outputs = [f.output_tokens for f in self.facts if f.output_tokens is not None]
        costs = [f.cost for f in self.facts if f.cost is not None]
        known = self.start is not None and self.end is not None
        return RunTotals(
            steps=self.count,
            input_tokens=sum(inputs) if inputs else None,
            output_tokens=sum(outputs) if outputs else None,
            cost=sum(costs) if costs else None,
            unpriced_calls=sum(1 for f in self.facts if f.unpriced),
            duration=(self.end or 0.0) - (self.start or 0.0) if known else None,
            tool_calls=sum(self.tool_names.values()),
            errors=self.errors,
            no_usage=sum(1 for f in self.facts if f.no_usage),
            replayed=sum(1 for f in self.facts if f.replayed),
        )


def run_document(info: RunInfo) -> dict[str, Any]:
    """The fields of a run record that a diff compares."""
    return {
        "run_id": info.run_id,
        "session_id": info.session_id,
        "trace_id": info.trace_id,
        "name": info.name,
        "started_at": info.started_at,
        "environment": info.environment,
        "context_windows": info.context_windows,
    }


_NO_FACTS = StepFacts(None, None, None, None)
_REPLAY_MATCH = "trace_tui.replay.match"


def facts_of(step: Step) -> StepFacts:
    """Tokens, latency and cost of one step (read straight from its attributes: fast)."""
    attrs = step.attributes
    tokens_in = _count(attrs.get(A_USAGE_INPUT))
    tokens_out = _count(attrs.get(A_USAGE_OUTPUT))
    replayed = _REPLAY_MATCH in attrs  # its times were copied, not measured
    latency = None if replayed else step.duration
    if tokens_in is None and tokens_out is None:
        return StepFacts(None, None, latency, None, replayed=replayed, no_usage=step.kind == "llm")
    cost = call_cost(step.model, tokens_in, tokens_out)
    return StepFacts(tokens_in, tokens_out, latency, cost, cost is None, replayed)


def _count(value: Any) -> int | None:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    return None


def _sum_known(a: int | None, b: int | None) -> int | None:
    return None if a is None and b is None else (a or 0) + (b or 0)
