"""The time-travel cursor and the context-window table, as plain objects."""

from __future__ import annotations

import pytest

from support import SAMPLES
from trace_tui.core.model.context_windows import (
    ContextWindowTable,
    load_user_windows,
    match_model,
    parse_overrides,
)
from trace_tui.core.navigation.cursor import StepCursor
from trace_tui.core.navigation.state import context_window_for
from trace_tui.core.reading.reader import open_run


def test_cursor_moves_and_reports_whether_it_moved() -> None:
    cursor = StepCursor(5, follow=False)
    assert cursor.position == 0
    assert cursor.back() is False and cursor.position == 0
    assert cursor.forward(2) is True and cursor.position == 2
    assert cursor.go(99) is True and cursor.position == 4 and cursor.at_end
    assert cursor.to_start() is True and cursor.position == 0
    assert StepCursor(0).go(3) is False and StepCursor(0).position == -1


def test_cursor_follows_at_end_and_counts_unseen_when_pinned() -> None:
    cursor = StepCursor(3)
    assert cursor.following and cursor.position == 2
    cursor.grow(5)
    assert cursor.position == 4 and cursor.unseen == 0
    cursor.back()
    assert not cursor.following
    cursor.grow(8)
    assert cursor.position == 3 and cursor.unseen == 3
    cursor.to_end()
    assert cursor.following and cursor.unseen == 0 and cursor.position == 7
    cursor.grow(2)  # the file was truncated and re-read
    assert cursor.position == 1


def test_a_cursor_that_is_not_live_never_follows() -> None:
    cursor = StepCursor(0, follow=False)
    cursor.grow(3)  # the first steps put it on step 1, not at the end
    assert cursor.position == 0 and not cursor.following
    cursor.go(2)
    cursor.grow(6)  # at the end, but an opened (finished) trace does not follow
    assert cursor.position == 2 and not cursor.following and cursor.unseen == 0
    cursor.to_end()
    assert cursor.position == 5 and not cursor.following


def test_going_to_the_end_while_indexing_chases_the_true_end_until_complete() -> None:
    cursor = StepCursor(10, follow=False)
    assert cursor.chase_end(complete=False) and cursor.position == 9
    cursor.grow(20)
    assert cursor.position == 19 and cursor.chasing
    cursor.grow(30, complete=True)
    assert cursor.position == 29 and not cursor.chasing
    cursor.grow(40)
    assert cursor.position == 29
    assert cursor.chase_end(complete=False)
    cursor.back()  # the user moves away: the chase ends
    cursor.grow(50)
    assert cursor.position == 38 and not cursor.chasing
    early = StepCursor(0, follow=False)  # G before the first steps: the end once they come
    assert early.chase_end(complete=False) is True
    early.grow(20)
    assert early.position == 19 and early.chasing
    early.grow(30, complete=True)
    assert early.position == 29 and not early.chasing


def test_a_cursor_that_is_not_live_can_start_elsewhere() -> None:
    cursor = StepCursor(0, follow=False)
    cursor.grow(5, start=3)
    assert cursor.position == 3 and not cursor.following
    cursor.grow(9, start=1)  # only the first steps place it
    assert cursor.position == 3
    late = StepCursor(0, follow=False)
    late.grow(2, start=7)  # the fork point is not read yet: as far as there is
    assert late.position == 1


def test_known_models_match_by_longest_prefix() -> None:
    table = ContextWindowTable()
    assert table.lookup("gpt-4o-2024-08-06").tokens == 128_000
    assert table.lookup("gpt-4.1-mini-2025-04-14").tokens == 1_047_576
    assert table.lookup("openai/gpt-4o").source == "known"
    assert table.lookup("acme-internal-7b") is None  # unknown stays unknown
    assert table.lookup(None) is None


def test_trace_and_user_windows_override_the_table() -> None:
    table = ContextWindowTable({"gpt-4o": 64_000})
    assert table.lookup("gpt-4o-mini").tokens == 64_000  # a user's prefix covers the family
    assert table.lookup("gpt-4.1").tokens == 1_047_576  # other models still come from the table
    assert table.lookup("gpt-4o").source == "user"
    assert table.lookup("gpt-4o", trace={"gpt-4o": 1000}).tokens == 1000
    run = open_run(SAMPLES / "system_prompt_evicted.jsonl")
    window = context_window_for(run, run.step(1), ContextWindowTable())
    assert window is not None and (window.tokens, window.source) == (8192, "trace")


def test_overrides_parse_and_reject_garbage(monkeypatch, tmp_path) -> None:
    assert parse_overrides("a=10, b=20") == {"a": 10, "b": 20}
    for bad in ("a", "a=", "a=-1", "=5", "a=ten"):
        with pytest.raises(ValueError, match="is not MODEL=TOKENS"):
            parse_overrides(bad)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "trace-tui").mkdir()
    (tmp_path / "trace-tui" / "context_windows.json").write_text('{"m1": 100, "m2": 200}')
    monkeypatch.setenv("TRACE_TUI_CONTEXT_WINDOWS", "m2=300")
    assert load_user_windows(["m1=150"]) == {"m1": 150, "m2": 300}
    assert match_model("M1-large", {"m1": 5}) == 5
