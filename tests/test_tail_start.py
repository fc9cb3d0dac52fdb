"""Issue 13, item 3: following an agent that has just started: the first line is still being
written when ``tail`` starts. ``tail`` waits for the first complete line instead of exiting 2
with "not a known trace format"."""

from __future__ import annotations

import argparse
import io
import json
import threading
from pathlib import Path

from support import eventually
from trace_tui.cli.plain_tail import tail_plain
from trace_tui.core.reading.source import open_source

RUN = json.dumps({"type": "run", "run_id": "r1", "schema_version": 1}).encode()
SPAN = json.dumps(
    {"type": "span", "span_id": "s1", "kind": "tool", "name": "lookup", "status": "ok",
     "start_time": 1.0, "end_time": 2.0, "attributes": {}}
).encode()


def test_a_partial_first_line_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    path.write_bytes(RUN[:17])  # the agent is mid-write
    source = open_source(path, follow=True)  # no TraceOpenError
    try:
        update = source.update()
        assert update.notice is None
        with open(path, "ab") as out:
            out.write(RUN[17:] + b"\n" + SPAN + b"\n")
        eventually(
            lambda: source.format_name == "native" and len(source.run) == 1, between=source.update
        )
    finally:
        source.close()


def test_tail_plain_on_a_partial_first_line_does_not_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "live.jsonl"
    path.write_bytes(RUN[:5])
    out, err = io.StringIO(), io.StringIO()
    stop = threading.Event()
    stop.set()
    args = argparse.Namespace(file=str(path), format=None, json=False, plain=True,
                              from_start=True, no_redact=False)
    assert tail_plain(args, out=out, err=err, stop=stop) == 0
    assert "not a known" not in err.getvalue()
