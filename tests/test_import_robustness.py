"""Cut, corrupted and surprising foreign files import what they can and say what they skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from trace_tui.core.formats import detect_format
from trace_tui.core.reading.reader import open_run

FOREIGN = Path(__file__).parent / "data" / "foreign"
SAMPLES = sorted(p for p in FOREIGN.rglob("*") if p.is_file() and p.name != "SOURCE.md")


def _said(run, text: str) -> bool:  # type: ignore[no-untyped-def]
    return any(text in (p.message + " " + p.preview) for p in run.problems)


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name[:50])
def test_every_sample_opens_without_problems(path: Path) -> None:
    run = open_run(path)
    assert run.steps
    # Only the deliberately broken files report problems.
    expected = {"claude-code-log_edge_cases_malformed.jsonl", "otlp-genai-variants.jsonl"}
    assert bool(run.problems) == (path.name in expected)


@pytest.mark.parametrize(
    "path", [p for p in SAMPLES if p.suffix == ".jsonl"], ids=lambda p: p.name[:50]
)
def test_jsonl_cut_mid_line(tmp_path: Path, path: Path) -> None:
    """A JSON-lines file cut in the middle of a line: earlier lines import, the cut is reported."""
    data = path.read_bytes()
    lines = data.splitlines(keepends=True)
    keep = max(1, len(lines) // 2)
    head = b"".join(lines[:keep])
    cut_line = lines[keep] if keep < len(lines) else lines[-1]
    cut = tmp_path / path.name
    cut.write_bytes(head + cut_line[: len(cut_line) // 2])
    fmt = detect_format(path).name
    full = open_run(path)
    run = open_run(cut, fmt)
    assert run.steps and len(run.steps) <= len(full.steps)
    assert [(p.line, p.message) for p in run.problems] == [
        (
            keep + 1,
            f"corrupt record at offset {len(head)} (line {keep + 1}): not valid JSON "
            "(the record is cut short: a torn write?)",
        )
    ]


@pytest.mark.parametrize(
    "path", [p for p in SAMPLES if p.suffix in (".json", ".traj")], ids=lambda p: p.name[:50]
)
def test_documents_cut_short(tmp_path: Path, path: Path) -> None:
    data = path.read_bytes()
    cut = tmp_path / path.name
    cut.write_bytes(data[: int(len(data) * 0.7)])
    run = open_run(cut, detect_format(path).name)
    assert _said(run, "cut or corrupt")
    assert len(run.steps) <= len(open_run(path).steps)


def test_document_corrupt_in_the_middle(tmp_path: Path) -> None:
    data = (
        FOREIGN / "langfuse" / "langfuse_framework-trace_pydantic-ai-tools-2025-12-04.trace.json"
    ).read_bytes()
    middle = len(data) // 2
    bad = tmp_path / "bad.json"
    bad.write_bytes(data[:middle] + b"\x00\x00garbage" + data[middle:])
    run = open_run(bad, "langfuse")
    assert run.steps and _said(run, "cut or corrupt at byte")


def test_unknown_record_types_are_kept_as_other_steps(tmp_path: Path) -> None:
    """A new line type inside a known format is an ``other`` step, never dropped or fatal."""
    import orjson

    cases = {
        "claude-code": {
            "type": "brand-new-thing",
            "sessionId": "s",
            "uuid": "u9",
            "timestamp": "2026-01-01T00:00:00Z",
        },
        "codex": {"timestamp": "2026-01-01T00:00:00Z", "type": "hologram", "payload": {}},
        "assay": {"type": "retry_marker", "episode_id": "edge_case"},
    }
    sources = {
        "claude-code": FOREIGN / "claude-code" / "claude-code-log_representative_messages.jsonl",
        "codex": FOREIGN / "codex" / "codex-0.169.0_orders.jsonl",
        "assay": FOREIGN / "assay" / "assay_edge_case.trace.jsonl",
    }
    for fmt, record in cases.items():
        path = tmp_path / f"{fmt}.jsonl"
        original = sources[fmt].read_bytes()
        path.write_bytes(original.rstrip(b"\n") + b"\n" + orjson.dumps(record) + b"\n")
        before, after = open_run(sources[fmt]), open_run(path)
        assert len(after.steps) == len(before.steps) + 1, fmt
        # in run order the new line sits by its timestamp, not necessarily last
        added = next(s for s in after.steps if s.source == record)
        assert added.kind == "other", fmt
        assert "does not know" in added.attr("trace_tui.import.note"), fmt
        assert not after.problems, fmt
