"""Argument and result checks: per-tool JSON Schemas (validated with ``jsonschema``) and
Assay's legacy ``constraints`` with their classic verdict text.

Schemas follow Assay's rules: ``schemas.$defs`` holds shared definitions that every tool's
schema may reference as ``#/$defs/NAME`` (or ``#/schemas/$defs/NAME``); references to other
files or URLs are refused when the policy is loaded, never fetched. A legacy constraint reads
the way Assay's classic reports did: ``apply_discount: percent=75 exceeds max(30)``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from referencing import Registry
from referencing.exceptions import NoSuchResource

from trace_tui.core.policy.model import ParamConstraint, ToolConstraints

#: Longest quoted value or reason we build (reasons are one line).
VALUE_CHARS = 60
REASON_CHARS = 240


class SchemaProblem(Exception):
    """A schema in the policy cannot be used (message says why)."""


def _no_retrieval(uri: str) -> Any:
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


#: A registry that never fetches anything: external references fail instead.
_HERMETIC: Registry[Any] = Registry(retrieve=_no_retrieval)  # type: ignore[call-arg]


def compile_schema(schema: Any, shared_defs: dict[str, Any] | None) -> Validator:
    """A validator for one tool's schema with the shared ``$defs`` merged in.

    Raises :class:`SchemaProblem` for a schema that is not a JSON Schema, a ``$defs`` name
    defined both shared and locally, or a reference outside the policy document.
    """
    if not isinstance(schema, dict | bool):
        raise SchemaProblem("a schema must be a mapping (JSON Schema object)")
    if isinstance(schema, dict):
        schema = _rewrite_refs(schema)
        if shared_defs:
            local = schema.get("$defs") or {}
            if not isinstance(local, dict):
                raise SchemaProblem("$defs must be a mapping")
            overlap = sorted(set(local) & set(shared_defs))
            if overlap:
                raise SchemaProblem(
                    f"$defs {', '.join(overlap)} defined both in schemas.$defs and locally "
                    "(the definitions overlap)"
                )
            schema = {**schema, "$defs": {**_rewrite_refs(shared_defs), **local}}
        for ref in _refs(schema):
            if not ref.startswith("#"):
                raise SchemaProblem(f"$ref {ref!r} points outside the policy; it is not fetched")
    cls = validator_for(schema, default=Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.absolute_path)
        raise SchemaProblem(
            f"not a valid JSON Schema{' at ' + where if where else ''}: {exc.message}"
        ) from None
    return cls(schema, registry=_HERMETIC, format_checker=FormatChecker())


def _rewrite_refs(value: Any) -> Any:
    """``#/schemas/$defs/x`` (Assay's reference page) becomes ``#/$defs/x`` in the merged schema."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith("#/schemas/$defs/"):
                item = "#/$defs/" + item[len("#/schemas/$defs/") :]
            out[key] = _rewrite_refs(item)
        return out
    if isinstance(value, list):
        return [_rewrite_refs(v) for v in value]
    return value


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("$ref", "$dynamicRef") and isinstance(item, str):
                yield item
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def schema_reason(tool: str, validator: Validator, instance: Any, what: str = "") -> str | None:
    """One line on why ``instance`` breaks the schema (``None`` when it is valid)."""
    try:
        if validator.is_valid(instance):  # the common case, without collecting errors
            return None
        errors = sorted(
            validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))
        )
    except Exception as exc:  # a broken reference met only now
        return _cut(f"{tool}: schema cannot be applied: {exc}")
    if not errors:
        return None
    first = errors[0]
    path = "/".join(str(p) for p in first.absolute_path)
    place = ": ".join(p for p in (what, path) if p)
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return _cut(f"{tool}: {place + ': ' if place else ''}{first.message}") + more


def constraint_reasons(entry: ToolConstraints, arguments: Any) -> list[str]:
    """The classic one-line reasons ``arguments`` break a tool's legacy constraints."""
    args = arguments if isinstance(arguments, dict) else {}
    reasons: list[str] = []
    for check in entry.params:
        reason = _param_reason(entry.tool, check, args)
        if reason:
            reasons.append(reason)
    return reasons


def _param_reason(tool: str, check: ParamConstraint, args: dict[str, Any]) -> str | None:
    name = check.param
    if name not in args or args[name] is None:
        if check.required or check.regex is not None:
            return f"{tool}: {name} missing"
        return None
    value = args[name]
    shown = f"{tool}: {name}={_value(value)}"
    if check.max is not None or check.min is not None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            bound = (
                f"max({_num(check.max)})" if check.max is not None else f"min({_num(check.min)})"
            )
            return f"{shown} is not a number ({bound})"
        if check.max is not None and value > check.max:
            return f"{shown} exceeds max({_num(check.max)})"
        if check.min is not None and value < check.min:
            return f"{shown} below min({_num(check.min)})"
    if check.regex is not None:
        if not isinstance(value, str) or re.search(check.regex, value) is None:
            return f"{shown} does not match regex({check.regex})"
    if check.enum is not None and value not in check.enum:
        return f"{shown} not in enum({_value(list(check.enum))})"
    return None


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _value(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"


def parsed_arguments(value: Any) -> Any:
    """Arguments as recorded; a JSON string (some formats keep them so) is parsed."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
