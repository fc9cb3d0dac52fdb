"""``trace-tui tail --plain`` / ``--json``: one line per step, in order, safe for a terminal.

The loop runs in a thread with a stop event; the test appends to the file and polls the output
with a deadline (no sleeps for coordination).
"""

from __future__ import annotations

import argparse
import io
import json
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from support import eventually
from trace_tui.cli.exit_codes import EXIT_INTERRUPTED
from trace_tui.cli.plain_tail import plain_line, tail_plain
from trace_tui.core.reading.reader import TraceOpenError, open_run


class Output(io.StringIO):
    """A thread-safe enough text sink (writes are whole lines from one thread)."""


def args_for(path: Path, *, as_json: bool = False, from_start: bool = False) -> argparse.Namespace:
    return argparse.Namespace(
        file=str(path),
        format=None,
        json=as_json,
        plain=not as_json,
        from_start=from_start,
        no_redact=False,
    )


def rec(n: int, **extra: Any) -> bytes:
    base = {
        "type": "span",
        "span_id": f"s{n}",
        "kind": "tool",
        "name": f"step {n}",
        "start_time": 1000.0 + n,
        "end_time": 1000.5 + n,
        "status": "ok",
    }
    return json.dumps({**base, **extra}).encode() + b"\n"


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as out:
        out.write(data)


def run_tail(
    args: argparse.Namespace,
) -> tuple[threading.Thread, Output, Output, threading.Event, list[int]]:
    out, err, stop, code = Output(), Output(), threading.Event(), []
    thread = threading.Thread(
        target=lambda: code.append(tail_plain(args, out=out, err=err, stop=stop)), daemon=True
    )
    thread.start()
    return thread, out, err, stop, code


def test_prints_only_new_steps_by_default(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(rec(1) + rec(2))
    thread, out, err, stop, code = run_tail(args_for(path))
    eventually(lambda: "following" in err.getvalue())
    append(path, rec(3) + rec(4))
    eventually(lambda: out.getvalue().count("\n") >= 2)
    stop.set()
    thread.join(10)
    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines] == ["3", "4"]
    assert "step 3" in lines[0] and code == [0]
    assert "2 steps so far" in err.getvalue()


def test_from_start_then_follow_with_running_step_ending(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(
        rec(1)
        + json.dumps(
            {"type": "span_start", "span_id": "r", "kind": "llm", "name": "thinking"}
        ).encode()
        + b"\n"
    )
    thread, out, err, stop, code = run_tail(args_for(path, from_start=True))
    eventually(lambda: out.getvalue().count("\n") >= 2)
    append(path, b'{"type": "span_end", "span_id": "r", "status": "error", "error": "x"}\n')
    eventually(lambda: "(ended)" in out.getvalue())
    stop.set()
    thread.join(10)
    lines = out.getvalue().splitlines()
    assert "running" in lines[1] and "ERROR" in lines[2] and lines[2].endswith("(ended)")


def test_json_output_is_a_native_trace(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"")
    thread, out, err, stop, code = run_tail(args_for(path, as_json=True, from_start=True))
    append(path, b'{"type": "span_start", "span_id": "a", "kind": "agent", "name": "agent"}\n')
    append(path, rec(1, parent_id="a", attributes={"gen_ai.tool.call.result": {"ok": True}}))
    append(path, b'{"type": "span_end", "span_id": "a", "status": "ok"}\n')
    copy = tmp_path / "copy.jsonl"

    def finished() -> bool:
        text = out.getvalue()  # read once: the tail thread keeps writing
        if not text:
            return False
        copy.write_text(text)
        steps = open_run(copy).steps
        return len(steps) == 2 and steps[0].status == "ok"

    try:
        eventually(finished)
    finally:
        stop.set()
        thread.join(10)
    again = open_run(copy)
    assert [s.name for s in again.steps] == ["agent", "step 1"]
    assert again.steps[0].status == "ok" and again.steps[1].tool_result == {"ok": True}
    assert not again.problems


def test_hostile_text_is_sanitised(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"")
    thread, out, err, stop, code = run_tail(args_for(path, from_start=True))
    append(path, rec(1, name="evil\x1b]0;pwned\x07\x1b[2J\u202etxt"))
    eventually(lambda: "\n" in out.getvalue())
    stop.set()
    thread.join(10)
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "evil" in text


def test_notices_go_to_stderr(tmp_path: Path) -> None:
    path = tmp_path / "later.jsonl"
    thread, out, err, stop, code = run_tail(args_for(path, from_start=True))
    eventually(lambda: "waiting" in err.getvalue())
    path.write_bytes(rec(1) + b"not json\n")
    eventually(lambda: "corrupt record" in err.getvalue() or "\n" in out.getvalue())
    path.write_bytes(rec(9))  # truncate + rewrite
    eventually(lambda: "truncated" in err.getvalue() or "rewritten" in err.getvalue())
    eventually(lambda: "step 9" in out.getvalue())
    stop.set()
    thread.join(10)
    assert out.getvalue().count("step 1") == 1


def test_ctrl_c_exits_130_quietly(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(rec(1))

    class Interrupting:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.path, self.run = path, None

        def update(self) -> Any:
            raise KeyboardInterrupt

        def close(self) -> None:
            self.closed = True

    err = Output()
    assert (
        tail_plain(args_for(path), out=Output(), err=err, source_factory=Interrupting)
        == EXIT_INTERRUPTED
    )
    assert "Traceback" not in err.getvalue()


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TraceOpenError, match="directory"):
        tail_plain(args_for(tmp_path), out=Output(), err=Output(), stop=threading.Event())


def test_plain_line_shape() -> None:
    from trace_tui.core.model.run import StepRow

    row = StepRow(
        index=11,
        kind="tool",
        name="lookup",
        depth=2,
        parent_index=0,
        status="error",
        start_time=1.0,
        end_time=1.25,
        input_tokens=None,
        output_tokens=30,
    )
    line = plain_line(row)
    assert line.split()[:4] == ["12", "tool", "ERROR", "250ms"]
    assert "    λ lookup" in line and "out 30" in line


def test_a_failed_step_prints_its_error_message(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(rec(1, status="error", error="ToolError: refunds are closed\x1b[2J"))
    thread, out, err, stop, code = run_tail(args_for(path, from_start=True))
    eventually(lambda: "error:" in out.getvalue())
    stop.set()
    thread.join(10)
    lines = out.getvalue().splitlines()
    assert "ERROR" in lines[0]
    assert lines[1].strip().startswith("error: ToolError: refunds are closed")
    assert "\x1b" not in out.getvalue()


def test_a_duration_that_was_not_measured_is_not_0ms() -> None:
    from trace_tui.core.model.run import StepRow

    row = StepRow(0, "llm", "chat", 0, -1, "ok", 5.0, 5.0, None, None)
    assert row.duration is None  # one timestamp: when, not how long
    assert " - " in plain_line(row) and "0ms" not in plain_line(row)
    fast = replace(row, end_time=5.0002)
    assert "<1ms" in plain_line(fast)
