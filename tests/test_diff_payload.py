"""JSON-aware payload diffs, word diffs, ignore rules and prices (core/diff/payload.py,
core/diff/prices.py)."""

from __future__ import annotations

import pytest

from trace_tui.core.diff.payload import (
    FieldChange,
    IgnoreRules,
    diff_values,
    split_pointer,
    word_diff,
)
from trace_tui.core.diff.prices import call_cost, price_of


def ops(changes: list[FieldChange]) -> list[tuple[str, str]]:
    return [(c.op, c.pointer) for c in changes]


def test_dict_changes_by_pointer() -> None:
    old = {"a": 1, "b": {"c": 2, "d": 3}, "gone": True}
    new = {"a": 1, "b": {"c": 5, "e": 4}, "x/y~z": 0}
    assert ops(diff_values(old, new)) == [
        ("changed", "/b/c"),
        ("removed", "/b/d"),
        ("added", "/b/e"),
        ("removed", "/gone"),
        ("added", "/x~1y~0z"),
    ]
    assert split_pointer("/x~1y~0z") == ("x/y~z",)


def test_list_insertions_keep_the_rest_aligned() -> None:
    old = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    new = [{"role": "system", "content": "be nice"}, *old]
    assert ops(diff_values(old, new)) == [("added", "/0")]
    assert ops(diff_values([1, 2, 3], [1, 5, 3])) == [("changed", "/1")]
    assert ops(diff_values([1, 2, 3], [1, 3])) == [("removed", "/1")]


def test_values_of_other_types_and_bools() -> None:
    assert ops(diff_values({"a": 1}, {"a": True})) == [("changed", "/a")]
    assert diff_values({"a": 1}, {"a": 1.0}) == []
    assert ops(diff_values({"a": [1]}, {"a": {"0": 1}})) == [("changed", "/a")]


def test_word_diff_of_long_strings() -> None:
    old = "You are a support agent. Never give more than 15 percent discount to anyone, ever."
    new = "You are a support agent. Never give more than 10 percent discount to anyone, ever."
    (change,) = diff_values({"p": old}, {"p": new})
    assert change.words is not None
    assert [(p.op, p.text) for p in change.words] == [
        ("=", "You are a support agent. Never give more than "),
        ("-", "15"),
        ("+", "10"),
        ("=", " percent discount to anyone, ever."),
    ]
    (short,) = diff_values({"p": "a"}, {"p": "b"})
    assert short.words is None


def test_word_diff_of_multiline_text_touches_only_changed_lines() -> None:
    old = "\n".join(f"line {n} stays the same" for n in range(2000)) + "\nthe end"
    new = old.replace("line 1000 stays", "line 1000 moved")
    pieces = word_diff(old, new)
    assert [(p.op, p.text) for p in pieces if p.op != "="] == [("-", "stays"), ("+", "moved")]
    assert "".join(p.text for p in pieces if p.op != "+") == old
    assert "".join(p.text for p in pieces if p.op != "-") == new


def test_ignore_rules_prune_pointers_globs_and_fields() -> None:
    doc = {
        "span_id": "s1",
        "start_time": 1.0,
        "name": "x",
        "attributes": {
            "gen_ai.usage.input_tokens": 5,
            "gen_ai.usage.output_tokens": 1,
            "keep": 1,
            "gen_ai.input.messages": [
                {"role": "tool", "tool_call_id": "c1", "content": "r"},
                {"role": "assistant", "tool_calls": [{"id": "c2", "name": "t"}]},
            ],
        },
    }
    pruned = IgnoreRules.build(["tokens"]).prune(doc)
    assert pruned == {
        "name": "x",
        "attributes": {
            "keep": 1,
            "gen_ai.input.messages": [
                {"role": "tool", "content": "r"},
                {"role": "assistant", "tool_calls": [{"name": "t"}]},
            ],
        },
    }
    assert doc["span_id"] == "s1"  # the original is never modified
    assert IgnoreRules.build(strict=True).prune(doc) is doc
    assert "keep" not in IgnoreRules.build(["keep"], strict=True).prune(doc)["attributes"]
    with pytest.raises(ValueError):
        IgnoreRules.build([""])


def test_ignore_rules_equal_matches_prune_then_compare() -> None:
    rules = IgnoreRules.build(["/attributes/*/volatile"])
    a = {"span_id": "a", "attributes": {"x": {"volatile": 1, "v": 2}, "l": [1, {"id": 3}]}}
    b = {"span_id": "b", "attributes": {"x": {"volatile": 9, "v": 2}, "l": [1, {"id": 3}]}}
    c = {"span_id": "c", "attributes": {"x": {"volatile": 9, "v": 3}, "l": [1, {"id": 3}]}}
    assert rules.equal(a, b) and rules.prune(a) == rules.prune(b)
    assert not rules.equal(a, c) and rules.prune(a) != rules.prune(c)
    lists = IgnoreRules.build(["/l/1"], strict=True)
    assert lists.equal({"l": [1, 2]}, {"l": [1, 3]})


def test_prices() -> None:
    assert price_of("openai/gpt-4o-mini-2024-07-18") == price_of("gpt-4o-mini")
    assert price_of("gpt-4o-2024-08-06") is not None
    assert price_of("acme-internal-7b") is None
    assert call_cost("gpt-4o", 1_000_000, 1_000_000) == pytest.approx(12.5)
    assert call_cost("acme-internal-7b", 10, 10) is None
    assert call_cost("gpt-4o", None, None) is None
