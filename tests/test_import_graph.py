"""No import cycles, lazy ones included; and the import-linter layer contracts hold.

A cycle hidden behind a function-level import is still a cycle: the two modules cannot be
understood, tested or moved apart. The graph here counts every import statement that can run
(``tests/import_graph.py``); only ``if TYPE_CHECKING:`` blocks are left out.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from import_graph import cycles, import_graph, path_between

from support import ROOT


def test_no_import_cycles_even_through_function_level_imports() -> None:
    graph = import_graph(ROOT)
    assert "trace_tui.core.model.run" in graph and len(graph) > 100
    assert "trace_tui.core.index.indexer" in graph["trace_tui.core.reading.source"]
    found = cycles(graph)
    shown = []
    for component in found:
        first, second = component[0], component[1]
        there = path_between(graph, first, second) or []
        back = path_between(graph, second, first) or []
        shown.append(" -> ".join(there + back[1:]))
    assert found == [], "import cycles:\n" + "\n".join(shown)


def test_the_cycle_finder_sees_lazy_imports_and_skips_type_checking(tmp_path: Path) -> None:
    package = tmp_path / "core"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from trace_tui.core import b\n")
    (package / "b.py").write_text("def later():\n    from trace_tui.core.a import x\n")
    (package / "c.py").write_text("from . import d\n")
    (package / "d.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .c import y\n"
    )
    graph = import_graph(tmp_path, ("core",))
    assert graph["trace_tui.core.c"] == {"trace_tui.core", "trace_tui.core.d"}
    assert graph["trace_tui.core.d"] == set()
    assert cycles(graph) == [["trace_tui.core.a", "trace_tui.core.b"]]


def test_import_linter_contracts_hold() -> None:
    """The layers (cli > tui > core, and inside core and tui) and "core knows no UI"."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    assert sum(c["type"] == "layers" for c in contracts) >= 3
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT.parent,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout, out
