"""``trace-tui validate``: check a native trace against the shipped JSON Schema.

The schema (``core/schema/trace-v1.schema.json``) is the contract for other writers; this module
evaluates the subset of JSON Schema it uses (type, enum, const, required, properties,
additionalProperties, items, minimum, minLength, pattern, local ``$ref``, allOf/anyOf/oneOf),
so no validator library is needed. Each record is checked against the definition for its
``type``, which gives precise messages; the run builder then checks what a schema cannot
(duplicate span ids, an end without a start).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from trace_tui.core.io.jsonl import CorruptLine, decode_line, iter_raw_lines
from trace_tui.core.model.builder import RECORD_TYPES, RunBuilder
from trace_tui.core.model.run import Run
from trace_tui.core.reading.reader import check_trace_path

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


@cache
def load_schema() -> dict[str, Any]:
    """The native trace schema shipped in the package."""
    text = (
        resources.files("trace_tui.core").joinpath("schema/trace-v1.schema.json").read_text("utf-8")
    )
    return dict(json.loads(text))


def schema_errors(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Every way ``value`` breaks ``schema``, as ``"/pointer: message"`` strings."""
    root = load_schema()
    return list(_check(value, schema, path or "", root))


def _check(value: Any, schema: dict[str, Any], path: str, root: dict[str, Any]) -> Iterable[str]:
    where = path or "/"
    if "$ref" in schema:
        yield from _check(value, _resolve(schema["$ref"], root), path, root)
    if "type" in schema and not _is_type(value, schema["type"]):
        yield f"{where}: expected {_type_words(schema['type'])}, got {_json_type(value)}"
        return
    if "const" in schema and value != schema["const"]:
        yield f"{where}: must be {json.dumps(schema['const'])}"
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(map(json.dumps, schema["enum"]))
        yield f"{where}: {json.dumps(value)[:60]} is not one of {allowed}"
    for sub in schema.get("allOf", ()):
        yield from _check(value, sub, path, root)
    for key in ("anyOf", "oneOf"):
        if key in schema and not any(not list(_check(value, s, path, root)) for s in schema[key]):
            yield f"{where}: does not match any allowed shape"
    if isinstance(value, str):
        yield from _check_string(value, schema, where)
    if isinstance(value, int | float) and not isinstance(value, bool) and "minimum" in schema:
        if value < schema["minimum"]:
            yield f"{where}: must be at least {schema['minimum']}"
    if isinstance(value, dict):
        yield from _check_object(value, schema, path, root)
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            yield from _check(item, schema["items"], f"{path}/{i}", root)


def _check_string(value: str, schema: dict[str, Any], where: str) -> Iterable[str]:
    if len(value) < schema.get("minLength", 0):
        yield f"{where}: must not be empty"
    if "pattern" in schema and not re.search(schema["pattern"], value):
        yield f"{where}: {value[:40]!r} is not in the expected form"


def _check_object(
    value: dict[str, Any], schema: dict[str, Any], path: str, root: dict[str, Any]
) -> Iterable[str]:
    for name in schema.get("required", ()):
        if name not in value:
            yield f"{path or '/'}: missing required field {name!r}"
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        sub_path = f"{path}/{_escape(key)}"
        if key in props:
            yield from _check(item, props[key], sub_path, root)
        elif extra is False:
            yield f"{sub_path}: unexpected field"
        elif isinstance(extra, dict):
            yield from _check(item, extra, sub_path, root)


def _resolve(ref: str, root: dict[str, Any]) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local schema references are supported, not {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return dict(node)


def _is_type(value: Any, wanted: str | list[str]) -> bool:
    names = [wanted] if isinstance(wanted, str) else wanted
    for name in names:
        if isinstance(value, bool) and name not in ("boolean",):
            continue
        if isinstance(value, _TYPES[name]):
            return True
    return False


def _json_type(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is_type(value, name):
            return name
    return type(value).__name__


def _type_words(wanted: str | list[str]) -> str:
    return wanted if isinstance(wanted, str) else " or ".join(wanted)


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def record_errors(record: Any) -> list[str]:
    """Schema errors of one native record, checked against the definition for its type."""
    if not isinstance(record, dict):
        return [f"/: expected object, got {_json_type(record)}"]
    kind = record.get("type")
    if kind not in RECORD_TYPES:
        return [f"/type: {json.dumps(kind)} is not one of {', '.join(RECORD_TYPES)}"]
    return schema_errors(record, load_schema()["$defs"][kind])


def validate_records(records: Iterable[dict[str, Any]]) -> list[str]:
    """Problems in a sequence of native records (for writers such as ``convert``)."""
    problems: list[str] = []
    run = Run()
    builder = RunBuilder(run)
    for number, record in enumerate(records, 1):
        problems += [f"record {number}: {e}" for e in record_errors(record)]
        builder.add(record, line=number)
    problems += [f"record {p.line}: {p.message}" for p in run.problems if p.line is not None]
    return problems


def validate_file(path: Path) -> list[str]:
    """Every problem in a native trace file, as ``"LINE: message"`` strings (empty: valid)."""
    check_trace_path(path)
    problems: list[str] = []
    run = Run(path=str(path))
    builder = RunBuilder(run)
    seen_any = False
    with open(path, "rb") as stream:
        for raw in iter_raw_lines(stream):
            value = decode_line(raw)
            if value is None:
                continue
            seen_any = True
            if isinstance(value, CorruptLine):
                problems.append(f"{raw.line}: {value.message}")
                continue
            errors = record_errors(value)
            problems += [f"{raw.line}: {e}" for e in errors]
            if not errors:
                builder.add(value, offset=raw.offset, line=raw.line)
    problems += [f"{p.line}: {p.message}" for p in run.problems]
    if not seen_any:
        problems.append("1: the file is empty")
    return problems
