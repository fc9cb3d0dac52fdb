"""``trace-tui validate``: check a native trace against the shipped JSON Schema.

The schema (``core/schema/trace-v1.schema.json``) is the contract for other writers; it is
evaluated by `jsonschema <https://python-jsonschema.readthedocs.io>`_ (Draft 2020-12), not by
a hand-written subset, so ``validate`` and any other standard validator give the same verdict.
Each record is checked against the ``$defs`` entry for its ``type`` (the top-level ``oneOf``
picks exactly that one), which turns the library's errors into precise per-record messages
(``/kind: "llmx" is not one of "agent", ...``); the run builder then checks what a schema
cannot (duplicate span ids, an end without a start).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.protocols import Validator

from trace_tui.core.formats.registry import FormatError, detect_format, read_head
from trace_tui.core.io.jsonl import (
    CorruptLine,
    RepairedRecord,
    decode_line,
    iter_raw_lines,
    repaired_message,
)
from trace_tui.core.io.trace_path import check_trace_path
from trace_tui.core.model.builder import RECORD_TYPES, RunBuilder
from trace_tui.core.model.run import Run

#: JSON Schema type names in the order a value is described by (``true`` is a boolean).
_JSON_TYPES = ("null", "boolean", "integer", "number", "string", "array", "object")


@cache
def load_schema() -> dict[str, Any]:
    """The native trace schema shipped in the package."""
    text = (
        resources.files("trace_tui.core").joinpath("schema/trace-v1.schema.json").read_text("utf-8")
    )
    return dict(json.loads(text))


@cache
def trace_validator() -> Validator:
    """A Draft 2020-12 validator for a whole native record (the schema's root)."""
    return Draft202012Validator(load_schema())


@cache
def _record_validator(kind: str) -> Validator:
    """The validator for one record type: its ``$defs`` entry, references resolved at the root."""
    return trace_validator().evolve(schema=load_schema()["$defs"][kind])


def schema_errors(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Every way ``value`` breaks ``schema`` (a part of the trace schema), as messages.

    Messages are ``"/pointer: what is wrong"``; ``path`` is put in front of every pointer.
    """
    validator = trace_validator().evolve(schema=schema)
    return _messages(validator.iter_errors(value), path)


def record_errors(record: Any) -> list[str]:
    """Schema errors of one native record, checked against the definition for its type."""
    if not isinstance(record, dict):
        return [f"/: expected object, got {_json_type(record)}"]
    kind = record.get("type")
    if not isinstance(kind, str) or kind not in RECORD_TYPES:
        return [f"/type: {_quote(kind)} is not one of {', '.join(RECORD_TYPES)}"]
    return _messages(_record_validator(kind).iter_errors(record), "")


def _messages(errors: Iterable[ValidationError], prefix: str) -> list[str]:
    """One line per problem, in the order found, without repeats."""
    seen: dict[str, None] = {}
    for error in errors:
        where = prefix + "".join(f"/{_escape(str(p))}" for p in error.absolute_path)
        for message in _describe(error):
            seen.setdefault(f"{where or '/'}: {message}", None)
    return list(seen)


def _describe(error: ValidationError) -> Iterator[str]:
    """What a :class:`ValidationError` means, said the way ``validate`` always said it."""
    keyword = error.validator
    wanted: Any = error.validator_value
    value: Any = error.instance
    if keyword == "type":
        yield f"expected {_type_words(wanted)}, got {_json_type(value)}"
    elif keyword == "const":
        yield f"must be {json.dumps(wanted)}"
    elif keyword == "enum":
        yield f"{_quote(value)} is not one of {', '.join(map(json.dumps, wanted))}"
    elif keyword == "required":
        for name in wanted:
            if isinstance(value, dict) and name not in value:
                yield f"missing required field {name!r}"
    elif keyword == "minLength":
        yield "must not be empty" if wanted == 1 else f"must be at least {wanted} characters"
    elif keyword == "pattern":
        yield f"{value[:40]!r} is not in the expected form"
    elif keyword == "minimum":
        yield f"must be at least {wanted}"
    elif keyword == "oneOf" and not error.context:
        yield "matches more than one allowed shape"
    elif keyword in ("anyOf", "oneOf"):
        yield "does not match any allowed shape"
    else:
        yield error.message[:200]


def _json_type(value: Any) -> str:
    checker = trace_validator().TYPE_CHECKER
    for name in _JSON_TYPES:
        if checker.is_type(value, name):
            return name
    return type(value).__name__


def _type_words(wanted: str | list[str]) -> str:
    return wanted if isinstance(wanted, str) else " or ".join(wanted)


def _quote(value: Any) -> str:
    try:
        return json.dumps(value)[:60]
    except (TypeError, ValueError):
        return repr(value)[:60]


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


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


def foreign_reason(path: Path) -> str | None:
    """Why the file at ``path`` is no native trace at all (another format, binary data), with
    what to do instead, as one line.

    ``None`` for a native trace, and for JSON of no known format, whose lines
    :func:`validate_file` lists one by one (it may be a native trace with a broken head).
    """
    check_trace_path(path)
    try:
        fmt = detect_format(path)
    except FormatError:
        head = read_head(path)
        if b"\x00" not in head.data[:1024]:
            return None
        return ("binary data, not a trace (validate checks native traces; 'trace-tui formats' "
                "lists what 'trace-tui convert' reads)")
    if fmt.name == "native":
        return None
    return (f"a {fmt.name} trace, not a native one (validate checks native traces); "
            f"convert it first: trace-tui convert {path} -o OUT.jsonl")


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
            if isinstance(value, RepairedRecord):  # readable, but the line itself is damaged
                problems.append(f"{raw.line}: {repaired_message(raw.offset, raw.line, value)}")
            errors = record_errors(value)
            problems += [f"{raw.line}: {e}" for e in errors]
            if not errors:
                builder.add(value, offset=raw.offset, line=raw.line)
    problems += [f"{p.line}: {p.message}" for p in run.problems]
    if not seen_any:
        problems.append("1: the file is empty")
    return problems
