"""The words an importer can write on its own: every string constant in its modules.

A search that scans a foreign trace's own lines (see
:mod:`trace_tui.core.index.byte_search`) finds the text those lines hold; a step mapped from them
may also hold keys and values the importer wrote itself (``gen_ai.operation.name``,
``"chat"``...). :func:`invented_words` collects them, lower-cased, so a search for such a word
can check every step instead of trusting the bytes.
"""

from __future__ import annotations

import ast
import functools
import importlib
from pathlib import Path


@functools.cache
def invented_words(*modules: str) -> frozenset[str]:
    """Lower-cased string constants of the named modules' source (docstrings left out)."""
    words: set[str] = set()
    for name in modules:
        path = getattr(importlib.import_module(name), "__file__", None)
        if not path or not path.endswith(".py"):
            continue
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
        docs = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in docs):  # fmt: skip
                words.add(node.value.lower())
    return frozenset(words)
