"""One canonical JSON for diff and replay (core/text/canonical.py): numbers compare by value.

Diff's step signatures and replay's fixture keys and hashes used to canonicalise differently
(orjson bytes vs ``json.dumps`` text), so ``0`` and ``0.0`` were the same in neither and
``1e20`` depended on who asked. Both now call :func:`canonical_json`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trace_tui.core.diff.align import signatures
from trace_tui.core.model.builder import RunBuilder
from trace_tui.core.model.run import Run
from trace_tui.core.replay.exchange import ToolCallRequest, digest
from trace_tui.core.replay.fork import diff_edits
from trace_tui.core.text.canonical import by_value, canonical_json


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 2, "a": [1, {"d": None, "c": "é"}]}, '{"a":[1,{"c":"é","d":null}],"b":2}'),
        (0.0, "0"),
        (-0.0, "0"),
        (1e20, "100000000000000000000"),
        (2**70, "1180591620717411303424"),
        (1.5, "1.5"),
        (True, "true"),
        ([False, 0], "[false,0]"),
        ({"n": 3.0}, '{"n":3}'),
        ({1: "int key", "a": "str key"}, '{"1":"int key","a":"str key"}'),
        ("\ud800\x1f\u2028", '"\ud800\\u001f\u2028"'),
    ],
)
def test_canonical_text(value: Any, expected: str) -> None:
    assert canonical_json(value) == expected


def test_zero_and_zero_point_zero_are_the_same_for_diff_and_replay() -> None:
    def run(value: Any) -> Run:
        r = Run()
        RunBuilder(r).add(
            {
                "type": "span", "span_id": "s1", "kind": "tool", "name": "t",
                "attributes": {"gen_ai.tool.name": "t", "gen_ai.tool.call.arguments": value},
            }
        )  # fmt: skip
        return r

    assert signatures(run({"x": 0})).strong == signatures(run({"x": 0.0})).strong
    assert signatures(run({"x": 0})).strong != signatures(run({"x": False})).strong
    assert ToolCallRequest("t", {"x": 0}).key == ToolCallRequest("t", {"x": 0.0}).key
    assert digest({"temperature": 1}) == digest({"temperature": 1.0})
    assert digest({"temperature": 1}) != digest({"temperature": True})
    assert diff_edits({"attributes": {"x": 0}}, {"attributes": {"x": 0.0}}) == []


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(JSON_VALUES)
def test_the_fast_path_writes_what_the_standard_library_writes(value: Any) -> None:
    """orjson (no floats) and ``json`` (floats, big integers) give one and the same text."""
    expected = json.dumps(
        by_value(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert canonical_json(value) == expected
    assert json.loads(expected) == value
