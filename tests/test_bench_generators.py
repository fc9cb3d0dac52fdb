"""The benchmark's generated files are what they claim: detected as their format, indexed cleanly.

``bench/bench_index.py`` measures each format on a generated file; a file that trace-tui read as
another format, or that indexed with problems, would measure something else. No timings here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.bench_index import DETECTED, FORMATS
from bench.generate import write_trace
from bench.generate_foreign import write_otlp
from bench.generate_sessions import write_session
from trace_tui.core.formats.registry import detect_format
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.reading.reader import open_run

STEPS = 300


def _write(fmt: str, path: Path, steps: int) -> None:
    if fmt == "native":
        write_trace(path, steps)
    elif fmt == "otlp":
        write_otlp(path, steps)
    else:
        write_session(fmt, path, steps)


@pytest.mark.parametrize("fmt", FORMATS)
def test_generated_file_is_detected_and_indexes_cleanly(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / f"{fmt}.jsonl"
    _write(fmt, path, STEPS)
    assert detect_format(path).name == DETECTED[fmt]
    source = IndexedSource(path)
    while not source.update().complete:
        pass
    run = source.run
    assert source.format_name == DETECTED[fmt]
    assert [p.message for p in run.problems] == []
    assert STEPS <= len(run) <= STEPS * 1.1  # whole turns: a few steps over
    kinds = {run.row(i).kind for i in range(len(run))}
    if fmt != "native":
        assert {"llm", "tool"} <= kinds
    source.close()


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f not in ("native", "otlp")])
def test_generated_session_is_deterministic_and_replayable(fmt: str, tmp_path: Path) -> None:
    """Same seed, same bytes; the model calls carry their input and model."""
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_session(fmt, a, 120)
    write_session(fmt, b, 120)
    assert a.read_bytes() == b.read_bytes()
    run = open_run(a)
    llms = [s for s in run.steps if s.kind == "llm"]
    assert llms and all(s.attributes.get("gen_ai.input.messages") for s in llms)
    assert all(s.attributes.get("gen_ai.request.model") for s in llms)
