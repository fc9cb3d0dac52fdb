"""Paths shared by the tests (importable as ``support`` thanks to pytest's ``pythonpath``)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_traces"
SAMPLE_FILES = sorted(SAMPLES.glob("*.jsonl"))
FOREIGN = ROOT / "tests" / "data" / "foreign"
#: Every foreign trace kept in the repository (the shared samples' copies and the handmade ones).
FOREIGN_FILES = sorted(
    p for p in FOREIGN.glob("*/*") if p.is_file() and p.suffix not in (".md", ".py")
)
#: The real third-party samples in ../shared/samples, where that folder is beside the clone.
SHARED_SAMPLES = next(
    (
        p / "shared" / "samples"
        for p in (ROOT.parent, ROOT.parent.parent)
        if (p / "shared").is_dir()
    ),
    None,
)
