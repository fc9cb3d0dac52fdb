"""Per-step facts read straight from the index's columns equal the facts read row by row.

:meth:`RunFacts.scan` takes ``IndexedRun.fact_columns`` when the run has it (C-level passes,
ready when the index is); the row-by-row path is the reference.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support import SAMPLES
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.model.run import StepRow
from trace_tui.core.navigation.run_facts import RunFacts

FOREIGN = Path(__file__).parent / "data" / "foreign"
FILES = [
    *sorted(SAMPLES.glob("*.jsonl")),
    FOREIGN / "claude-code" / "claude-code-2.1.328_orders.jsonl",
    FOREIGN / "codex" / "codex-0.169.0_orders.jsonl",
    FOREIGN / "otlp" / "otel-spec_file-exporter_example_traces.jsonl",
    FOREIGN / "otel-genai" / "otel-genai-orders.jsonl",
    FOREIGN / "openinference" / "openinference-orders.jsonl",
]


class RowsOnly:
    """The run seen only through ``len`` and ``row`` (the reference path)."""

    def __init__(self, run: object) -> None:
        self.run = run

    def __len__(self) -> int:
        return len(self.run)  # type: ignore[arg-type]

    def row(self, index: int) -> StepRow:
        return self.run.row(index)  # type: ignore[attr-defined,no-any-return]


def _state(facts: RunFacts) -> tuple[object, ...]:
    return (facts.parents().tolist(), bytes(facts._flags), facts._errors.tolist(),
            facts._tools.tolist(), facts._calls.tolist(), facts._llm.tolist(),
            facts._llm_input.tolist(),
            facts._llm_best.tolist())


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("chunk", [1, 3, 50_000])
def test_facts_from_columns_equal_facts_from_rows(path: Path, chunk: int) -> None:
    source = IndexedSource(path)
    try:
        while not source.update().complete:
            pass
        fast, slow = RunFacts(), RunFacts()
        while fast.scan(source.run, chunk=chunk):
            pass
        while slow.scan(RowsOnly(source.run), chunk=chunk):  # type: ignore[arg-type]
            pass
        assert fast.count == slow.count == len(source.run)
        assert _state(fast) == _state(slow)
    finally:
        source.close()


def test_facts_from_columns_on_running_errors_big_counts_and_late_parents(
    write_trace: object,
) -> None:
    usage = "gen_ai.usage.input_tokens"
    records = [
        {"type": "span", "span_id": "c1", "parent_id": "p", "kind": "tool", "name": "early"},
        {"type": "span_start", "span_id": "p", "kind": "agent", "name": "late parent"},
        {"type": "span", "span_id": "l1", "parent_id": "p", "kind": "llm", "name": "m",
         "attributes": {usage: 3_000_000_000}},
        {"type": "span", "span_id": "l2", "parent_id": "p", "kind": "llm", "name": "m",
         "attributes": {usage: 12}},
        {"type": "span", "span_id": "l3", "parent_id": "p", "kind": "llm", "name": "m"},
        {"type": "span", "span_id": "t1", "parent_id": "l2", "kind": "tool", "name": "t",
         "status": "error", "error": "boom"},
        {"type": "span_start", "span_id": "r", "parent_id": "p", "kind": "retrieval",
         "name": "still running"},
    ]
    path = write_trace(records)  # type: ignore[operator]
    test_facts_from_columns_equal_facts_from_rows(path, 50_000)
    test_facts_from_columns_equal_facts_from_rows(path, 2)


@pytest.mark.parametrize("chunk", [1, 7, 50_000])
def test_facts_of_a_run_order_view_come_from_the_columns_permuted(
    tmp_path: Path, chunk: int
) -> None:
    """An OTLP file writes its root span last: the screen shows it in run order, and the
    facts still come from the index's columns, permuted, equal to the row-by-row facts."""
    from bench.generate_foreign import write_otlp
    from trace_tui.core.navigation.run_order import OrderedRun, RunOrdering

    path = tmp_path / "otlp.jsonl"
    write_otlp(path, 250)
    source = IndexedSource(path)
    try:
        while not source.update().complete:
            pass
        view, _ = RunOrdering().update(source.run)
        assert isinstance(view, OrderedRun) and view.fact_columns is not None
        fast, slow = RunFacts(), RunFacts()
        while fast.scan(view, chunk=chunk):
            pass
        while slow.scan(RowsOnly(view), chunk=chunk):  # type: ignore[arg-type]
            pass
        assert fast.count == slow.count == len(view)
        assert _state(fast) == _state(slow)
        names = ("gen_ai.tool.name",)
        assert [view.light_attributes(i, names) for i in range(len(view))] == [
            {n: a for n, a in view.step(i).attributes.items() if n in names}
            for i in range(len(view))
        ]
    finally:
        source.close()


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fact_columns_tokens_are_the_rows_input_tokens_or_minus_one(path: Path) -> None:
    """The input-token column handed to the facts: each row's recorded input tokens, -1 where
    none (steps without usage, negative counts), read in bulk when no count is beyond the
    column's range."""
    source = IndexedSource(path)
    try:
        while not source.update().complete:
            pass
        run = source.run
        cols = run.fact_columns(0, len(run))
        expected = [-1 if r.input_tokens is None or r.input_tokens < 0 else r.input_tokens
                    for r in map(run.row, range(len(run)))]  # fmt: skip
        assert list(cols.input_tokens) == expected
    finally:
        source.close()
