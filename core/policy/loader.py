"""Build a :class:`~trace_tui.core.policy.model.Policy` from a policy file, checking every part.

Accepted (see docs/policy.md): Assay policy format 2.0 (``tools.allow``/``tools.deny``,
``schemas`` with ``$defs``, ``enforcement.unconstrained_tools``, ``limits``), the legacy
top-level ``allow``/``deny`` and ``constraints`` (v1 list form ``- tool: X / params: {p:
{matches: RE}}`` and the mapping form ``X: {p: {max: 30}}``), Assay's ``sequences`` rules (also
accepted under ``rules``) with ``aliases``, and trace-tui's ``results`` schemas and extra
sequence rule types. Anything wrong is a :class:`PolicyError` with the file, line and column;
unknown top-level keys are kept as warnings, as Assay does.
"""

from __future__ import annotations

import os
import re
from typing import Any

from trace_tui.core.policy.arguments import SchemaProblem, compile_schema
from trace_tui.core.policy.document import (
    PathKey,
    PolicyDocument,
    PolicyError,
    read_policy_document,
)
from trace_tui.core.policy.model import (
    ACTIONS,
    SEQUENCE_TYPES,
    ParamConstraint,
    Policy,
    SequenceRule,
    ToolConstraints,
)
from trace_tui.core.policy.patterns import is_interior_star

__all__ = ["PolicyError", "load_policy", "policy_from_document"]

KNOWN_KEYS = {
    "version", "name", "description", "metadata", "tools", "allow", "deny", "schemas",
    "constraints", "enforcement", "limits", "sequences", "rules", "aliases", "results",
    "on_error", "signatures", "tool_pins", "discovery", "runtime_monitor", "kill_switch",
}  # fmt: skip
#: Fields each sequence rule type needs, and the ones it may have.
RULE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "require": (("tool",), ()),
    "eventually": (("tool", "within"), ()),
    "max_calls": (("tool", "max"), ()),
    "before": (("first", "then"), ()),
    "after": (("trigger", "then", "within"), ()),
    "never_after": (("trigger", "forbidden"), ()),
    "sequence": (("tools",), ("strict",)),
    "blocklist": (("pattern",), ()),
    "no_progress": (("max",), ("tool",)),
    "require_system_prompt": ((), ()),
}
COMMON_RULE_FIELDS = ("type", "id", "on_violation", "description", "when")
#: Assay ``tools:`` fields for a live MCP proxy: accepted, not checked on a recorded trace.
PROXY_TOOLS_KEYS = {
    "allow_classes", "deny_classes", "approval_required", "approval_required_classes",
    "restrict_scope", "restrict_scope_classes", "restrict_scope_contract", "redact_args",
    "redact_args_classes", "redact_args_contract", "require_args", "arg_constraints",
}  # fmt: skip


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read, check and compile the policy at ``path`` (raises :class:`PolicyError`)."""
    return policy_from_document(read_policy_document(path))


def policy_from_document(doc: PolicyDocument) -> Policy:
    """Check and compile a parsed policy document."""
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error((), "a policy must be a mapping at the top level")
    warnings = [
        f"{doc.where((key,))}: unknown key '{key}' ignored" for key in data if key not in KNOWN_KEYS
    ]
    tools = _mapping(doc, ("tools",), data.get("tools"))
    for key in tools:
        if key in PROXY_TOOLS_KEYS:
            warnings.append(f"{doc.where(('tools', key))}: tools.{key} is not checked on traces")
        elif key not in ("allow", "deny"):
            raise doc.error(
                ("tools", key),
                f"tools.{key} is not a field of tools (allow, deny); per-tool argument "
                "rules go under schemas: or constraints:",
            )
    allow = _names(doc, ("tools", "allow"), tools.get("allow"))
    legacy_allow = _names(doc, ("allow",), data.get("allow"))
    if legacy_allow is not None:
        allow = (allow or ()) + legacy_allow
    deny = (_names(doc, ("tools", "deny"), tools.get("deny")) or ()) + (
        _names(doc, ("deny",), data.get("deny")) or ()
    )
    lists: tuple[tuple[PathKey, tuple[str, ...]], ...] = (
        (("tools", "deny"), deny),
        (("tools", "allow"), allow or ()),
    )
    for where, patterns in lists:
        for pattern in patterns:
            if is_interior_star(pattern):
                warnings.append(
                    f"{doc.where(where)}: '{pattern}' has a '*' in the middle, which Assay "
                    "matches literally (not a wildcard)"
                )
    schemas = _schemas(doc, "schemas", data.get("schemas"))
    constraints = _constraints(doc, data.get("constraints"))
    for tool in constraints:
        if tool in schemas:
            raise doc.error(("constraints",), f"tool '{tool}' has both a schema and constraints")
    enforcement = _mapping(doc, ("enforcement",), data.get("enforcement"))
    unconstrained = enforcement.get("unconstrained_tools")
    if unconstrained is not None and unconstrained not in ("warn", "deny", "allow"):
        raise doc.error(
            ("enforcement", "unconstrained_tools"),
            "unconstrained_tools must be warn, deny or allow",
        )
    if unconstrained is None and (schemas or constraints):
        unconstrained = "warn"  # Assay's default, once the policy constrains arguments at all
    limits = _mapping(doc, ("limits",), data.get("limits"))
    max_calls = limits.get("max_tool_calls_total")
    if max_calls is not None and (
        not isinstance(max_calls, int) or isinstance(max_calls, bool) or max_calls < 0
    ):
        raise doc.error(("limits", "max_tool_calls_total"), "must be a whole number ≥ 0")
    aliases = _aliases(doc, data.get("aliases"))
    rules_key = "sequences" if "sequences" in data else "rules"
    sequences = _sequences(doc, rules_key, data.get(rules_key))
    version = data.get("version", "2.0" if not constraints else "1.0")
    name = data.get("name", "")
    return Policy(
        path=doc.path,
        version=str(version),
        name=str(name) if name is not None else "",
        allow=allow,
        deny=deny,
        schemas=schemas,
        constraints=constraints,
        results=_schemas(doc, "results", data.get("results")),
        unconstrained=unconstrained,
        sequences=sequences,
        aliases=aliases,
        max_tool_calls=max_calls,
        warnings=warnings,
    )


# --------------------------------------------------------------------------- helpers
def _mapping(doc: PolicyDocument, key: PathKey, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise doc.error(key, f"'{'.'.join(map(str, key))}' must be a mapping")
    return value


def _names(doc: PolicyDocument, key: PathKey, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise doc.error(key, f"'{'.'.join(map(str, key))}' must be a list of tool names")
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise doc.error(key + (i,), f"tool name must be text, not {_type(item)}")
    return tuple(value)


def _schemas(doc: PolicyDocument, section: str, value: Any) -> dict[str, Any]:
    table = _mapping(doc, (section,), value)
    shared = table.get("$defs")
    if shared is not None and not isinstance(shared, dict):
        raise doc.error((section, "$defs"), "$defs must be a mapping of definitions")
    out: dict[str, Any] = {}
    for tool, schema in table.items():
        if tool == "$defs":
            continue
        try:
            out[tool] = compile_schema(schema, shared)
        except SchemaProblem as exc:
            raise doc.error((section, tool), f"{section}.{tool}: {exc}") from None
    return out


def _constraints(doc: PolicyDocument, value: Any) -> dict[str, ToolConstraints]:
    if value is None:
        return {}
    entries: list[tuple[PathKey, str, Any]] = []
    if isinstance(value, list):
        for i, item in enumerate(value):
            key: PathKey = ("constraints", i)
            if not isinstance(item, dict) or not isinstance(item.get("tool"), str):
                raise doc.error(key, "a constraint needs 'tool' (a name) and 'params'")
            entries.append((key + ("params",), item["tool"], item.get("params")))
    elif isinstance(value, dict):
        for tool, params in value.items():
            params = params.get("params", params) if isinstance(params, dict) else params
            entries.append((("constraints", tool), tool, params))
    else:
        raise doc.error(("constraints",), "'constraints' must be a list or a mapping")
    out: dict[str, ToolConstraints] = {}
    for key, tool, params in entries:
        if not isinstance(params, dict):
            raise doc.error(key, f"constraints of '{tool}' must map argument names to checks")
        checks = tuple(_param(doc, key + (p,), p, c) for p, c in params.items())
        if tool in out:
            checks = out[tool].params + checks
        out[tool] = ToolConstraints(tool, checks, doc.where(key))
    return out


def _param(doc: PolicyDocument, key: PathKey, name: str, spec: Any) -> ParamConstraint:
    if not isinstance(spec, dict):
        raise doc.error(key, f"the check on '{name}' must be a mapping such as {{max: 30}}")
    known = {"max", "min", "maximum", "minimum", "regex", "matches", "pattern", "enum",
             "required", "type"}  # fmt: skip
    for field_name in spec:
        if field_name not in known:
            raise doc.error(key + (field_name,), f"unknown constraint '{field_name}' on '{name}'")
    bounds: dict[str, float | None] = {}
    for short, long in (("max", "maximum"), ("min", "minimum")):
        bound = spec.get(short, spec.get(long))
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)):
            raise doc.error(key + (short if short in spec else long,), f"{short} must be a number")
        bounds[short] = bound
    regex = spec.get("regex", spec.get("matches", spec.get("pattern")))
    if regex is not None:
        field_key = next(k for k in ("regex", "matches", "pattern") if k in spec)
        if not isinstance(regex, str):
            raise doc.error(key + (field_key,), "a regex must be text")
        try:
            re.compile(regex)
        except re.error as exc:
            raise doc.error(key + (field_key,), f"invalid regex {regex!r}: {exc}") from None
    enum = spec.get("enum")
    if enum is not None and not isinstance(enum, list):
        raise doc.error(key + ("enum",), "enum must be a list")
    return ParamConstraint(
        param=name,
        max=bounds["max"],
        min=bounds["min"],
        regex=regex,
        enum=tuple(enum) if enum is not None else None,
        required=spec.get("required") is True,
    )


def _aliases(doc: PolicyDocument, value: Any) -> dict[str, tuple[str, ...]]:
    table = _mapping(doc, ("aliases",), value)
    out: dict[str, tuple[str, ...]] = {}
    for alias, members in table.items():
        names = _names(doc, ("aliases", alias), members)
        out[alias] = names or ()
    return out


def _sequences(doc: PolicyDocument, section: str, value: Any) -> list[SequenceRule]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise doc.error((section,), f"'{section}' must be a list of rules")
    rules: list[SequenceRule] = []
    ids: set[str] = set()
    for i, item in enumerate(value):
        rule = _rule(doc, (section, i), item)
        if rule.rule_id in ids:
            rule.rule_id = f"{rule.rule_id}#{i + 1}"
        ids.add(rule.rule_id)
        rules.append(rule)
    return rules


def _rule(doc: PolicyDocument, key: PathKey, item: Any) -> SequenceRule:
    if not isinstance(item, dict):
        raise doc.error(key, "a rule must be a mapping with a 'type'")
    kind = item.get("type")
    if kind == "count":  # Assay's former name for max_calls
        kind = "max_calls"
    if kind not in RULE_FIELDS:
        raise doc.error(
            key + ("type",) if "type" in item else key,
            f"unknown rule type {kind!r}; expected one of {', '.join(SEQUENCE_TYPES)}",
        )
    required, optional = RULE_FIELDS[kind]
    for field_name in item:
        if field_name not in required + optional + COMMON_RULE_FIELDS:
            raise doc.error(key + (field_name,), f"'{field_name}' is not a field of a {kind} rule")
    for field_name in required:
        if field_name not in item:
            raise doc.error(key, f"a {kind} rule needs '{field_name}'")
    values: dict[str, Any] = {}
    for field_name in required + optional:
        if field_name not in item:
            continue
        raw = item[field_name]
        fkey = key + (field_name,)
        if field_name in ("within", "max"):
            if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
                raise doc.error(fkey, f"'{field_name}' must be a whole number ≥ 0")
        elif field_name == "tools":
            names = _names(doc, fkey, raw)
            if not names:
                raise doc.error(fkey, "a sequence needs at least one tool")
            raw = names
        elif field_name == "strict":
            if not isinstance(raw, bool):
                raise doc.error(fkey, "'strict' must be true or false")
        elif not isinstance(raw, str) or not raw:
            raise doc.error(fkey, f"'{field_name}' must be a tool name")
        values[field_name] = raw
    action = item.get("on_violation", "block")
    if action not in ACTIONS:
        raise doc.error(key + ("on_violation",), "on_violation must be block or warn")
    rule_id = item.get("id")
    if rule_id is not None and not isinstance(rule_id, str):
        raise doc.error(key + ("id",), "'id' must be text")
    return SequenceRule(
        type=kind,
        rule_id=rule_id or _default_id(kind, values),
        where=doc.where(key),
        action=action,
        **values,
    )


def _default_id(kind: str, v: dict[str, Any]) -> str:
    """Assay's generated rule ids (``max_calls_sendemail_3``, ``before_a_then_b`` ...)."""
    low = {k: str(x).lower() for k, x in v.items() if isinstance(x, str | int)}
    if kind == "require":
        return f"require_{low['tool']}"
    if kind == "eventually":
        return f"eventually_{low['tool']}_{v['within']}"
    if kind == "max_calls":
        return f"max_calls_{low['tool']}_{v['max']}"
    if kind == "before":
        return f"before_{low['first']}_then_{low['then']}"
    if kind == "after":
        return f"after_{low['trigger']}_then_{low['then']}"
    if kind == "never_after":
        return f"never_after_{low['trigger']}_forbidden_{low['forbidden']}"
    if kind == "sequence":
        return "sequence_" + "_".join(t.lower() for t in v["tools"])
    if kind == "blocklist":
        return f"blocklist_{low['pattern']}"
    if kind == "no_progress":
        return f"no_progress_{low.get('tool', 'any')}_{v['max']}"
    return kind


def _type(value: Any) -> str:
    return {dict: "a mapping", list: "a list", bool: "true/false", type(None): "null"}.get(
        type(value), type(value).__name__
    )
