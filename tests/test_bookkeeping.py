"""Bookkeeping records (attachments, queue operations, hooks) are folded out of ``show``'s
table by default, one line saying what they hold, and ``show --all`` lists them."""

from __future__ import annotations

from support import FOREIGN
from trace_tui.cli.commands import main
from trace_tui.core.navigation.bookkeeping import bookkeeping_stretches, is_bookkeeping
from trace_tui.core.reading.reader import open_run

TRACE = FOREIGN / "claude-code" / "claude-code-2.1.328_orders.jsonl"


def test_claude_code_bookkeeping_is_folded_and_reachable(capsys) -> None:
    run = open_run(TRACE)
    stretches = bookkeeping_stretches(run)
    folded = sum(len(s) for s in stretches.values())
    assert folded >= 10
    assert not any(is_bookkeeping(run, s) for s in run.steps if s.kind in ("llm", "tool"))
    assert main(["show", str(TRACE)]) == 0
    table = capsys.readouterr().out
    rows = [line for line in table.splitlines() if line[:4].strip().isdigit()]
    assert len(rows) < len(run) - 5  # the model and tool steps are no longer buried
    assert "bookkeeping records (attachment ×" in table and "show --all" in table
    assert "chat claude-sonnet-4-5" in table and "Bash" in table
    assert main(["show", str(TRACE), "--all"]) == 0
    every = capsys.readouterr().out
    assert "bookkeeping records" not in every
    assert sum(1 for line in every.splitlines() if line[:4].strip().isdigit()) == len(run)
