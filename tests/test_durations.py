"""Durations as the screen and ``show`` print them: no unit is ever rounded up to the next
one's size ("1000ms", "10.0s", "60s"), as an OTLP span of 999.9 ms once showed."""

from __future__ import annotations

import pytest

from trace_tui.cli.show_report import format_duration
from trace_tui.tui.display.formatting import fmt_duration


@pytest.mark.parametrize(
    ("seconds", "screen"),
    [
        (0.0001, "<1ms"),
        (0.25, "250ms"),
        (0.9994, "999ms"),
        (0.9999, "1.0s"),
        (2.34, "2.3s"),
        (9.94, "9.9s"),
        (9.96, "10s"),
        (42.2, "42s"),
        (59.4, "59s"),
        (59.7, "1m00s"),
        (62.0, "1m02s"),
        (3 * 3600 + 4 * 60, "3h04m"),
    ],
)
def test_screen_duration(seconds: float, screen: str) -> None:
    assert fmt_duration(seconds) == screen


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "-"), (0.0001, "<1ms"), (0.34, "340ms"), (0.9994, "999ms"), (0.9999, "1.00s"),
     (1.25, "1.25s")],
)
def test_show_duration(seconds: float | None, shown: str) -> None:
    assert format_duration(seconds) == shown
