"""mypy really checks the package: run as CI runs it, it resolves ``trace_tui.*`` imports.

The repository root *is* the ``trace_tui`` package, a layout mypy cannot follow by itself;
with a global ``ignore_missing_imports`` it then reads every ``trace_tui`` import as ``Any``
and passes whatever the code does. ``.ci/typecheck`` (what ``.ci/run`` calls) exposes the root
under its package name. If that ever stops working, these deliberate mistakes go unreported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support import ROOT

PROBE = '''\
from trace_tui.core.model.run import Step
from trace_tui.core.no_such_module import nothing


def kind_of(step: Step) -> int:
    return step.kind
'''


def test_mypy_resolves_the_package_and_rejects_a_type_error(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE, encoding="utf-8")
    result = subprocess.run(
        ["bash", str(ROOT / ".ci" / "typecheck"), "--no-error-summary", str(probe)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHON": sys.executable},
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    errors = sorted(
        line.split(": error: ", 1)[1] for line in out.splitlines() if ": error: " in line
    )
    assert errors == [
        'Cannot find implementation or library stub for module named '
        '"trace_tui.core.no_such_module"  [import-not-found]',
        'Incompatible return value type (got "str", expected "int")  [return-value]',
    ], out


def test_ci_runs_the_typecheck_script() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert "bash .ci/typecheck" in ci
