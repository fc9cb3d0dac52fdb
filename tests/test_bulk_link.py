"""The fast path's bulk tree linking (``fast._link``) equals :meth:`StepColumns.link` step by step.

Forests written in any order (children first, as OpenTelemetry exporters write, parents first,
shuffled), with self-parents, cycles, parents that never come, and the file cut into chunks
anywhere: parent and depth columns, the ``waiting``/``pending`` maps and the changed rows must
be the same both ways after every chunk.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from trace_tui.core.index import fast
from trace_tui.core.index.columns import StepColumns


def _tree_state(cols: StepColumns) -> tuple[Any, ...]:
    return (list(cols.parent), list(cols.depth), cols.waiting, cols.pending)


def _link_both(spans: list[tuple[str, str | None]], cuts: list[int]) -> None:
    """Feed ``spans`` (id, parent id) to both ways, chunk by chunk; compare after each."""
    bulk, step = StepColumns(), StepColumns()
    changed_bulk: set[int] = set()
    changed_step: set[int] = set()
    bounds = sorted({0, len(spans), *(c for c in cuts if 0 < c < len(spans))})
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        chunk = spans[lo:hi]
        hashes = [hash(sid) for sid, _ in chunk]
        assert bulk.ids.extend_new(hashes)
        fast._link(bulk, [p for _, p in chunk], hashes, range(lo, hi), changed_bulk)
        bulk.count = hi
        for index, (sid, parent) in enumerate(chunk, lo):
            assert step.ids.append(hash(sid))
            step.link(index, parent, hash(sid), changed_step)
            step.count = index + 1
        assert _tree_state(bulk) == _tree_state(step), (lo, hi)
        assert changed_bulk == changed_step, (lo, hi)
        # whatever adopted what, in bulk or not: every depth is its parent's plus one
        depth, parent = step.depth, step.parent
        assert all(depth[i + 1] == depth[parent[i] + 1] + 1 for i in range(hi)), (lo, hi)


def _forest(rng: random.Random, n: int, order: str) -> list[tuple[str, str | None]]:
    ids = [f"s{k}" for k in range(n)]
    parents: list[str | None] = []
    for k in range(n):
        roll = rng.random()
        if k == 0 or roll < 0.1:
            parents.append(None)
        elif roll < 0.15:
            parents.append(f"absent{rng.randrange(3)}")
        elif roll < 0.18:
            parents.append(ids[k])  # its own parent
        elif roll < 0.22:
            parents.append(ids[rng.randrange(n)])  # anywhere: cycles
        else:
            parents.append(ids[rng.randrange(k)])
    spans = list(zip(ids, parents, strict=True))
    if order == "children first":
        spans.reverse()
    elif order == "shuffled":
        rng.shuffle(spans)
    return spans


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    n=st.integers(1, 120),
    order=st.sampled_from(["parents first", "children first", "shuffled"]),
    cuts=st.lists(st.integers(0, 120), max_size=6),
)
def test_bulk_link_equals_step_by_step(seed: int, n: int, order: str, cuts: list[int]) -> None:
    spans = _forest(random.Random(seed), n, order)
    _link_both(spans, cuts)
    ratio = fast.EVENTS_RATIO
    fast.EVENTS_RATIO = 10**9  # segments between events however many there are
    try:
        _link_both(spans, cuts)
    finally:
        fast.EVENTS_RATIO = ratio


def test_root_last_file_links_in_bulk_then_adopts_everything() -> None:
    """An exporter's file: every span waits for the root, which is the last line."""
    spans: list[tuple[str, str | None]] = [(f"c{k}", "root") for k in range(3000)]
    spans += [(f"g{k}", f"c{k}") for k in range(0, 3000, 7)]  # grandchildren after parents
    spans.append(("root", None))
    _link_both(spans, [1000, 2000, 3100])


def test_a_deep_subtree_written_leaves_first_adopts_level_by_level() -> None:
    """Chains and fans waiting in each other, adopted by one late root: the depth fix walks
    the subtrees a level at a time."""
    spans: list[tuple[str, str | None]] = []
    for t in range(30):
        spans += [(f"c{t}.{d}", f"c{t}.{d - 1}" if d else f"t{t}") for d in range(8, -1, -1)]
        spans += [(f"f{t}.{k}", f"c{t}.4") for k in range(6)]
        spans.append((f"t{t}", "root"))
    spans.append(("root", None))
    _link_both(spans, [])
    _link_both(spans, [17, 100, 101, 250])


def test_subtrees_written_children_first_adopt_inside_a_chunk() -> None:
    """Leaves, then their parent, then the grandparent, ... and the root last, one chunk."""
    spans: list[tuple[str, str | None]] = []
    for t in range(40):
        spans += [(f"l{t}.{k}", f"t{t}") for k in range(5)]
        spans.append((f"t{t}", "root"))
    spans.append(("root", None))
    _link_both(spans, [])
    _link_both(spans, [3, 50, 51, 150])
