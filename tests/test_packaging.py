"""Packaging: the wheel installs one top-level package, ``trace_tui``, with its data files."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from support import ROOT


def test_wheel_has_only_trace_tui_at_top_level(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    [wheel] = tmp_path.glob("trace_tui-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names}
    assert top == {"trace_tui", next(t for t in top if t.endswith(".dist-info"))}
    assert "trace_tui/core/model/run.py" in names and "trace_tui/tui/__init__.py" in names
    assert "trace_tui/themes/__init__.py" in names
    assert "trace_tui/core/schema/trace-v1.schema.json" in names
    assert "trace_tui/sample_traces/discount_over_cap.jsonl" in names
    assert not any(n.startswith(("trace_tui/tests/", "trace_tui/bench/")) for n in names)
    # Every module and data file of the source tree is in the wheel (a forgotten sub-package
    # would import fine from a checkout and break only after `pip install`).
    for folder in ("core", "tui", "themes"):
        for source in (ROOT / folder).rglob("*"):
            if source.suffix in (".py", ".tcss", ".json") and "__pycache__" not in source.parts:
                assert f"trace_tui/{source.relative_to(ROOT).as_posix()}" in names, source
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "trace-tui = trace_tui.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_test_run_uses_the_textual_the_snapshots_were_made_with() -> None:
    """The ``test`` extra pins Textual exactly (the runtime dependency keeps a range)."""
    import tomllib
    from importlib.metadata import version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    pins = [d for d in project["optional-dependencies"]["test"] if d.startswith("textual==")]
    runtime = [d for d in project["dependencies"] if d.startswith("textual")]
    assert len(pins) == 1 and runtime == ["textual>=3.0,<9"]
    assert version("textual") == pins[0].removeprefix("textual==")
