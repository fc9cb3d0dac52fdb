"""``trace-tui demo``: the writer plays a sample into a new file, line by line, at a pace."""

from __future__ import annotations

from pathlib import Path

import pytest

from trace_tui.core.export.demo import (
    DemoWriter,
    demo_target,
    paced_lines,
    sample_names,
    sample_path,
)


def test_samples_are_packaged_and_named() -> None:
    assert sample_names() == [
        "discount_over_cap",
        "empty_retrieval_fabrication",
        "order_lookup_missing_user_id",
        "system_prompt_evicted",
        "tool_loop_no_progress",
    ]
    with pytest.raises(ValueError, match="choose from: discount_over_cap"):
        sample_path("nope")


def test_pace_follows_the_recorded_clock_within_bounds() -> None:
    delays = [d for d, _ in paced_lines(sample_path("discount_over_cap"), 1.0)]
    assert delays[0] == pytest.approx(0.05)  # the first line comes at once
    assert all(0.05 <= d <= 1.5 for d in delays)
    assert max(delays) == pytest.approx(1.4)  # the longest model call in the sample
    fast = [d for d, _ in paced_lines(sample_path("discount_over_cap"), 10.0)]
    assert sum(fast) == pytest.approx(sum(delays) / 10, rel=0.01)


def test_writer_reproduces_the_sample_byte_for_byte(tmp_path: Path) -> None:
    target = demo_target(str(tmp_path / "live.jsonl"), "discount_over_cap")
    writer = DemoWriter(sample_path("discount_over_cap"), target, speed=1000.0)
    writer.start()
    writer.join(timeout=20)
    assert not writer.is_alive()
    assert target.read_bytes() == sample_path("discount_over_cap").read_bytes()


def test_demo_refuses_to_overwrite(tmp_path: Path) -> None:
    existing = tmp_path / "mine.jsonl"
    existing.write_text("keep me")
    with pytest.raises(ValueError, match="already exists"):
        demo_target(str(existing), "discount_over_cap")
    assert existing.read_text() == "keep me"


def test_demo_plain_plays_the_whole_sample_and_exits(tmp_path: Path) -> None:
    import subprocess
    import sys

    target = tmp_path / "demo.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "trace_tui",
            "demo",
            "--plain",
            "--speed",
            "50",
            "-o",
            str(target),
            "--sample",
            "order_lookup_missing_user_id",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # Each of the 4 steps is printed once; a step seen while still running gets a second
    # "(ended)" line. How many were seen running depends on timing, the final state does not.
    last: dict[int, str] = {}
    for line in result.stdout.splitlines():
        number = int(line.split()[0])
        assert number not in last or (" running " in last[number] and line.endswith("(ended)"))
        last[number] = line
    assert sorted(last) == [1, 2, 3, 4]
    assert all(" ok " in line for line in last.values())
    assert "lookup_order" in last[3]
    assert target.read_bytes() == sample_path("order_lookup_missing_user_id").read_bytes()
    assert str(target) in result.stderr
