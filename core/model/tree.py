"""The span-tree rules, shared by the run model and the index's columns.

A step names its parent by span id. The rules, wherever a tree is built (:class:`~trace_tui.
core.model.run.Run` over steps, :class:`~trace_tui.core.index.columns.StepColumns` over
indices, which the index's fast path feeds):

* a step whose parent has not arrived yet hangs at the root and *waits* for it (exporters
  write a parent when it ends, after its children);
* when the parent arrives it adopts its waiting children, **unless that would close a cycle**
  (a child that is the parent itself or one of its ancestors stays a root for good);
* walking up from a step stops at a root or at the first step seen twice.

Adopting an orphan is allowed exactly when it is not in :func:`ancestors` of the parent. These
helpers are generic over the node type (a span id, a step index) so that both
representations apply the same rule, not two copies of it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

N = TypeVar("N", bound=Hashable)


def ancestors(node: N, parent_of: Callable[[N], N | None]) -> set[N]:
    """``node`` and everything above it (``parent_of`` gives ``None`` at a root); a cycle ends
    the walk at the first node seen twice."""
    seen = {node}
    up = parent_of(node)
    while up is not None and up not in seen:
        seen.add(up)
        up = parent_of(up)
    return seen


def depth(node: N, parent_of: Callable[[N], N | None]) -> int:
    """How many ancestors ``node`` has (cycles counted once)."""
    return len(ancestors(node, parent_of)) - 1
