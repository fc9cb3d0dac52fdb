"""Issue 13, item 4: ``tail --plain/--json`` drop nothing silently.

Corrupt lines, lines over the size cap, invalid UTF-8, unknown kinds, orphan and late
``span_end`` records each print a notice on stderr. Invalid UTF-8 is decoded with U+FFFD and
flagged (the record is kept), and a record written after a NUL run on the same line is read.
"""

from __future__ import annotations

import argparse
import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from trace_tui.cli.plain_tail import tail_plain
from trace_tui.core.io.jsonl import MAX_LINE_BYTES
from trace_tui.core.reading.reader import open_run


def span(span_id: str, name: str, **extra: Any) -> bytes:
    record = {"type": "span", "span_id": span_id, "kind": "tool", "name": name,
              "status": "ok", "start_time": 1.0, "end_time": 2.0, "attributes": {}, **extra}
    return json.dumps(record).encode()


def damaged_trace(path: Path) -> Path:
    lines = [
        json.dumps({"type": "run", "run_id": "r"}).encode(),
        span("s1", "first"),
        b'{"type": "span", "span_id": "s2", "kind": "to',  # torn
        span("s3", "bad-utf8-NAME").replace(b"NAME", b"\xff\xfe"),
        span("s4", "wizardry").replace(b'"tool"', b'"wizard"'),
        b"\x00" * 64 + span("s5", "after-nuls"),
        json.dumps({"type": "span_end", "span_id": "nobody", "status": "ok"}).encode(),
        json.dumps({"type": "span_end", "span_id": "s1", "status": "error"}).encode(),
        b'{"type": "span", "pad": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}',
        span("s6", "last"),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def run_tail(path: Path, *, as_json: bool) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    stop = threading.Event()
    stop.set()
    args = argparse.Namespace(file=str(path), format=None, json=as_json, plain=not as_json,
                              from_start=True, no_redact=False)
    assert tail_plain(args, out=out, err=err, stop=stop) == 0
    return out.getvalue(), err.getvalue()


def test_tail_plain_reports_every_damaged_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trace_tui.core.index.indexer as indexer

    # the indexed reader keeps lines up to 1 GiB as steps; at the 8 MiB cap the padded line
    # of damaged_trace is over it, as it is for the other readers
    monkeypatch.setattr(indexer, "HUGE_LINE_BYTES", MAX_LINE_BYTES)
    out, err = run_tail(damaged_trace(tmp_path / "t.jsonl"), as_json=False)
    notices = err.splitlines()
    for words in ("line 3", "corrupt", "invalid UTF-8", "'wizard'", "NUL",
                  "unknown span_id 'nobody'", "already ended", "longer than"):
        assert any(words in n for n in notices), (words, notices)
    names = [line.split()[-1] for line in out.splitlines()]
    assert "bad-utf8-\ufffd\ufffd" in names and "after-nuls" in names and "last" in names


def test_tail_json_keeps_repaired_records_and_says_so(tmp_path: Path) -> None:
    out, err = run_tail(damaged_trace(tmp_path / "t.jsonl"), as_json=True)
    records = [json.loads(line) for line in out.splitlines()]
    assert {"s1", "s3", "s5", "s6"} <= {r["span_id"] for r in records}
    assert "invalid UTF-8" in err and "NUL" in err


def test_open_run_keeps_them_too(tmp_path: Path) -> None:
    run = open_run(damaged_trace(tmp_path / "t.jsonl"))
    assert {s.span_id for s in run.steps} >= {"s1", "s3", "s5", "s6"}
    assert any("invalid UTF-8" in p.message for p in run.problems)
