"""``validate`` agrees with a standard JSON Schema validator on every record it judges.

The verdict of :func:`record_errors` (no messages = valid) is compared with the raw verdict of
``jsonschema``'s Draft 2020-12 validator on the whole shipped schema (its root ``oneOf``), over
the sample traces' records and systematic mutations of them: every field of every record
removed, and replaced by each value of a small list of JSON values of every type.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from support import ROOT, SAMPLE_FILES
from trace_tui.core.export.validate import record_errors, schema_errors

SCHEMA_FILE = ROOT / "core" / "schema" / "trace-v1.schema.json"

#: Replacement values: every JSON type, edge numbers, and strings the schema cares about.
VALUES: list[Any] = [
    None, True, 0, -1, 1.0, 1.5, 1e20, "", "x", "span", "2026-11-02T09:30:00.000Z",
    [], [{"role": "user"}], {}, {"role": "system"},
]  # fmt: skip


#: Free-form payloads the schema does not describe: mutated as a whole, not inside.
SKIP_INSIDE = {"content", "parameters", "environment", "arguments", "source"}


def _raw_validator() -> jsonschema.Draft202012Validator:
    """The standard's verdict, straight from the file (nothing of ours in between)."""
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text("utf-8")))


def _records() -> list[dict[str, Any]]:
    return [json.loads(line) for path in SAMPLE_FILES for line in path.read_text().splitlines()]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key/index path inside ``value`` (depth-first)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        yield (*prefix, key)
        if isinstance(item, dict | list) and len(prefix) < 3 and key not in SKIP_INSIDE:
            yield from _paths(item, (*prefix, key))


def _mutations(record: dict[str, Any]) -> Iterator[Any]:
    for path in _paths(record):
        for value in [*VALUES, _DELETE] if len(path) < 3 else [None, 1, "x", [], {}, _DELETE]:
            mutated = copy.deepcopy(record)
            parent = mutated
            for key in path[:-1]:
                parent = parent[key]
            if value is _DELETE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
            yield mutated
    yield [record]
    yield {**record, "extra_field": {"anything": 1}}


_DELETE = object()


def _shrink(value: Any) -> Any:
    """The same shape with lists cut to two items and long texts to 20 characters."""
    if isinstance(value, dict):
        return {k: _shrink(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shrink(v) for v in value[:2]]
    return value[:20] if isinstance(value, str) and len(value) > 40 else value


def _distinct(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The smallest record of each shape (type, keys, attribute keys): few, short mutations."""
    seen: dict[str, dict[str, Any]] = {}
    for record in sorted(records, key=lambda r: len(json.dumps(r))):
        shape = [record["type"], sorted(record), sorted(record.get("attributes", {}))]
        seen.setdefault(json.dumps(shape), record)
    return [_shrink(r) for r in seen.values()]


def test_the_verdict_equals_jsonschema_on_mutated_sample_records() -> None:
    raw = _raw_validator()
    checked = invalid = 0
    disagreements = []
    for record in _distinct(_records()):
        for mutated in _mutations(record):
            ours = record_errors(mutated) == []
            if ours != raw.is_valid(mutated):
                disagreements.append((json.dumps(mutated)[:200], record_errors(mutated)))
            checked += 1
            invalid += not ours
    assert disagreements == []
    assert checked > 1000 and 0 < invalid < checked  # both verdicts are exercised


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"type": "run", "schema_version": True}, ["/schema_version: must be 1"]),
        ({"type": "run", "schema_version": 1.0}, []),
        (
            {"type": "span", "span_id": "s", "kind": "llm",
             "attributes": {"gen_ai.usage.input_tokens": 1e20}},
            [],
        ),
        (
            {"type": "span", "span_id": "s", "kind": "llm",
             "attributes": {"gen_ai.usage.input_tokens": 1.5}},
            ["/attributes/gen_ai.usage.input_tokens: expected integer, got number"],
        ),
        (
            {"type": "span", "span_id": "", "kind": "llmx", "start_time": "yesterday"},
            [
                "/span_id: must not be empty",
                '/kind: "llmx" is not one of "agent", "llm", "tool", "retrieval", "other"',
                "/start_time: 'yesterday' is not in the expected form",
            ],
        ),
        ({"type": "span_end"}, ["/: missing required field 'span_id'"]),
        ({"type": "spam"}, ['/type: "spam" is not one of run, span, span_start, span_end, branch']),
        ([1], ["/: expected object, got array"]),
        (
            {"type": "span_end", "span_id": "s", "error": 5},
            ["/error: does not match any allowed shape"],
        ),
    ],
)  # fmt: skip
def test_messages_name_the_field_and_the_rule(record: Any, expected: list[str]) -> None:
    assert record_errors(record) == expected
    assert _raw_validator().is_valid(record) == (expected == [])


def test_every_standard_keyword_is_enforced_and_one_of_means_exactly_one() -> None:
    assert schema_errors("abc", {"maxLength": 2}) == ["/: 'abc' is too long"]
    assert schema_errors(1, {"oneOf": [{"type": "integer"}, {"minimum": 0}]}) == [
        "/: matches more than one allowed shape"
    ]
    assert schema_errors({"a": 1}, {"additionalProperties": False}, "/x") == [
        "/x: Additional properties are not allowed ('a' was unexpected)"
    ]


def test_the_shipped_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads(Path(SCHEMA_FILE).read_text("utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
