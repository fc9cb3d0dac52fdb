"""``core`` knows nothing about the UI: importing all of it loads no textual, rich or pygments."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import trace_tui.core


def test_core_imports_no_ui_libraries() -> None:
    modules = sorted(
        m.name for m in pkgutil.walk_packages(trace_tui.core.__path__, prefix="trace_tui.core.")
    )
    assert "trace_tui.core.model.run" in modules and len(modules) > 10
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "ui = ('textual', 'rich', 'pygments')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ui)\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_import_linter_contract_holds() -> None:
    """The same rule, statically, over every import statement (import-linter's contract)."""
    from support import ROOT

    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT.parent,
    )
    assert "Contracts: 1 kept, 0 broken." in result.stdout, result.stdout + result.stderr
