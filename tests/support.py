"""Paths shared by the tests (importable as ``support`` thanks to pytest's ``pythonpath``)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_traces"
SAMPLE_FILES = sorted(SAMPLES.glob("*.jsonl"))
