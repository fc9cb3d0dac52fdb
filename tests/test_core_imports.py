"""``core`` knows nothing about the UI: importing all of it loads no textual, rich or pygments.

The same rule holds statically over every import statement: import-linter's "core knows nothing
about the UI" contract, checked with the layer contracts in ``tests/test_import_graph.py``.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

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
