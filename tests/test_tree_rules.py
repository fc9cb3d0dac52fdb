"""The span-tree rules (core/model/tree.py) and the two trees that use them agree."""

from __future__ import annotations

from pathlib import Path

from trace_tui.core.model import tree
from trace_tui.core.model.builder import RunBuilder
from trace_tui.core.model.run import Run
from trace_tui.core.reading.source import open_source


def test_ancestors_stop_at_roots_and_cycles() -> None:
    parents = {"c": "b", "b": "a", "x": "y", "y": "x"}
    assert tree.ancestors("c", parents.get) == {"a", "b", "c"}
    assert tree.ancestors("x", parents.get) == {"x", "y"}
    assert tree.depth("c", parents.get) == 2 and tree.depth("a", parents.get) == 0


RECORDS = [  # children first, then a cycle: b names a as parent, a names b
    {"type": "span", "span_id": "c", "parent_id": "b", "kind": "tool", "name": "c"},
    {"type": "span", "span_id": "b", "parent_id": "a", "kind": "llm", "name": "b"},
    {"type": "span", "span_id": "a", "parent_id": "b", "kind": "agent", "name": "a"},
    {"type": "span", "span_id": "d", "parent_id": "a", "kind": "tool", "name": "d"},
]


def test_the_model_and_the_index_build_the_same_tree(tmp_path: Path) -> None:
    import json

    run = Run()
    builder = RunBuilder(run)
    for record in RECORDS:
        builder.add(record)
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    source = open_source(path)
    while not source.update().complete:
        pass
    indexed = source.run
    depths = [indexed.row(i).depth for i in range(len(indexed))]
    assert depths == [run.row(i).depth for i in range(len(run))]
    # (a step whose adoption would close a cycle is a root in both; its row's parent_index
    # still names the recorded parent in the model, the tree parent (-1) in the index)
    names = [indexed.row(i).name for i in range(len(indexed))]
    # b adopts c; a arrives under b; b waits for a, but adopting it would close a cycle
    assert dict(zip(names, depths, strict=True)) == {"b": 0, "c": 1, "a": 1, "d": 2}
    source.close()
