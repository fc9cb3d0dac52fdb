"""The index's direct add (``StepColumns.add_record``) gives exactly the builder's columns.

Importers' records are applied to the columns without building a :class:`Step` on a scratch
run; :meth:`StepColumns.add_record_built` keeps the builder's way as the reference. Both are
fed the same records (every line-oriented sample's mapped records, the awkward native trace,
hypothesis-made records with odd values) and every column, map and problem must be equal.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trace_tui.core.formats.registry import detect_format
from trace_tui.core.index.columns import StepColumns
from trace_tui.core.io.jsonl import CorruptLine, decode_bytes

from .test_index import awkward_records

DATA = Path(__file__).parent / "data"
FOREIGN = sorted(p for p in (DATA / "foreign").rglob("*.jsonl") if p.is_file())
NATIVE = sorted((Path(__file__).parent.parent / "sample_traces").glob("*.jsonl"))


def mapped_records(path: Path) -> list[Any]:
    """The native records a line-oriented file's mapper makes (the file as it is)."""
    fmt = detect_format(path)
    if fmt.mapper is None:
        return [v for v in _values(path)]
    mapper = fmt.mapper()
    out: list[Any] = []
    for k, value in enumerate(_values(path)):
        out += mapper.feed(value, offset=k, line=k + 1)
    out += mapper.finish()
    return out


def _values(path: Path) -> list[Any]:
    values = []
    for k, raw in enumerate(path.read_bytes().splitlines()):
        value = decode_bytes(raw, k, k + 1, exact=True)
        if value is not None and not isinstance(value, CorruptLine):
            values.append(value)
    return values


def state(cols: StepColumns) -> dict[str, Any]:
    """Everything a :class:`StepColumns` holds (arrays as bytes: NaN compares equal)."""
    return {
        "count": cols.count,
        "columns": [bytes(c) if isinstance(c, bytearray) else c.tobytes() for c in cols._columns()],
        "maps": (
            cols.big_tokens,
            cols.extra_ends,
            cols.ids,
            cols.waiting,
            cols.pending,
            cols.collided_ids,
            cols.names,
            cols.name_ids,
            cols.loose_names,
        ),
        "problems": [(p.line, p.offset, p.message, p.preview) for p in cols.problems],
        "dropped": cols.problems_dropped,
    }


def apply_both(records: list[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    direct, built = StepColumns(), StepColumns()
    changed_direct: set[int] = set()
    changed_built: set[int] = set()
    for k, record in enumerate(records):
        if isinstance(record, dict) and record.get("type") in ("run", "branch"):
            continue  # the indexer keeps those apart
        where = {"offset": 10 * k, "line": k + 1, "ref_offset": 7 * k, "ref_length": k}
        got = direct.add_record(record, changed=changed_direct, **where)
        want = built.add_record_built(record, changed=changed_built, **where)
        assert got == want, (k, record)
    assert changed_direct == changed_built
    return state(direct), state(built)


@pytest.mark.parametrize("path", FOREIGN + NATIVE, ids=[p.name for p in FOREIGN + NATIVE])
def test_sample_records_give_the_builders_columns(path: Path) -> None:
    records = mapped_records(path)
    assert records
    direct, built = apply_both(records)
    assert direct == built


def test_awkward_records_give_the_builders_columns() -> None:
    direct, built = apply_both(list(awkward_records(n=600, seed=11)))
    assert direct["count"] > 100
    assert direct["problems"]
    assert direct == built


# ----------------------------------------------------------------- hypothesis: odd values
_ids = st.sampled_from(["s0", "s1", "s2", "s3", "", "s0 "])
_odd = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "x", "ok", "error", "unset", "running", "2026-11-02T10:00:01.100Z",
                     "2026-11-02T10:00:01+01:00", "2026-11-02T10:00:01", "123", "nope"]),
    st.lists(st.integers(), max_size=2),
    st.fixed_dictionaries({}, optional={"type": st.sampled_from(["E", ""]),
                                        "message": st.sampled_from(["m", ""])}),
)  # fmt: skip
_token_attrs = st.dictionaries(
    st.sampled_from(
        [
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.cache_read.input_tokens",
            "gen_ai.usage.cache_creation.input_tokens",
            "other",
        ]
    ),
    _odd,
    max_size=4,
)
_record = st.fixed_dictionaries(
    {"type": st.sampled_from(["span", "span_start", "span_end", "span_end", "mystery"])},
    optional={
        "span_id": st.one_of(_ids, _odd),
        "parent_id": st.one_of(_ids, _odd),
        "kind": st.one_of(st.sampled_from(["llm", "tool", "agent", "other", "banana"]), _odd),
        "name": st.one_of(st.sampled_from(["chat", "é名", ""]), _odd),
        "start_time": _odd,
        "end_time": _odd,
        "status": _odd,
        "error": _odd,
        "attributes": st.one_of(_token_attrs, _odd),
    },
)


@settings(max_examples=300, deadline=None)
@given(records=st.lists(st.one_of(_record, _odd), min_size=1, max_size=25))
def test_odd_records_give_the_builders_columns(records: list[Any]) -> None:
    direct, built = apply_both(records)
    assert direct == built


def test_state_sees_a_difference() -> None:
    """The comparison can fail: one more token count is a different state."""
    record = {"type": "span", "span_id": "a", "kind": "llm", "name": "x",
              "start_time": math.nan, "attributes": {"gen_ai.usage.input_tokens": 3}}  # fmt: skip
    one, two = StepColumns(), StepColumns()
    one.add_record(record, offset=0, line=1, ref_offset=0, ref_length=1)
    two.add_record(orjson.loads(orjson.dumps({**record, "start_time": None})) | {
        "attributes": {"gen_ai.usage.input_tokens": 4}}, offset=0, line=1, ref_offset=0,
        ref_length=1)  # fmt: skip
    assert state(one) != state(two)
