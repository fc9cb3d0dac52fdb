"""Assay's documented policy examples parse here and behave as Assay's documentation says.

The examples are copied verbatim into tests/data/assay-policies (see SOURCE.md there, MIT). Each
test quotes the documented behaviour it checks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from support import ROOT
from trace_tui.core.model.run import Run, Step
from trace_tui.core.policy.evaluate import check_run
from trace_tui.core.policy.loader import load_policy
from trace_tui.core.policy.model import Policy
from trace_tui.core.policy.patterns import matches

DATA = ROOT / "tests" / "data" / "assay-policies"
EXAMPLES = sorted(DATA.glob("*.yaml"))


def run_of(*calls: str | tuple[str, Any]) -> Run:
    run = Run()
    for i, call in enumerate(calls):
        name, args = (call, {}) if isinstance(call, str) else call
        attrs = {"gen_ai.tool.name": name, "gen_ai.tool.call.arguments": args}
        run.add_step(Step(0, f"t{i}", None, "tool", name, status="ok", attributes=attrs))
    return run


def verdicts(policy: Policy, *calls: str | tuple[str, Any]) -> list[str]:
    return [v.verdict for v in check_run(run_of(*calls), policy).steps]


def codes(policy: Policy, call: str | tuple[str, Any]) -> list[str]:
    return [f.code for f in check_run(run_of(call), policy).steps[0].findings]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_parses(path: Path) -> None:
    policy = load_policy(path)
    assert policy.rule_count > 0


def test_minimal_v2_policy() -> None:
    """config/policies.md: allow read_file/list_dir, deny exec/shell/write_file, path schemas."""
    policy = load_policy(DATA / "config-minimal-v2.yaml")
    assert verdicts(policy, ("read_file", {"path": "/workspace/a.txt"})) == ["allowed"]
    # "If a call violates the schema, Assay denies it with E_ARG_SCHEMA."
    assert codes(policy, ("read_file", {"path": "/etc/passwd"})) == ["E_ARG_SCHEMA"]
    assert codes(policy, ("read_file", {"path": "/workspace/a", "mode": "w"})) == ["E_ARG_SCHEMA"]
    assert codes(policy, ("read_file", {})) == ["E_ARG_SCHEMA"]
    # E_TOOL_DENIED "Tool matched deny list"
    assert codes(policy, "exec") == ["E_TOOL_DENIED"]
    assert codes(policy, "write_file") == ["E_TOOL_DENIED"]
    # E_TOOL_NOT_ALLOWED "Tool not matched by allow list (when allow list is defined)"
    assert codes(policy, "delete_file") == ["E_TOOL_NOT_ALLOWED"]


def test_tool_filtering_wildcards() -> None:
    """reference/policies.md: "exec*" prefix, "*sh" suffix, "*kill*" contains, exact names."""
    policy = load_policy(DATA / "reference-tool-filtering.yaml")
    assert verdicts(policy, "read_file", "list_directory", "search_web") == ["allowed"] * 3
    for name in ("execute_cmd", "spawn", "bash", "pkill_all"):
        assert codes(policy, name) == ["E_TOOL_DENIED"], name
    assert codes(policy, "write_file") == ["E_TOOL_NOT_ALLOWED"]


def test_wildcard_corners_from_the_docs() -> None:
    """config/policies.md "Wildcards": the five forms and the stated corners."""
    assert matches("anything", "*")
    assert matches("read_file", "read_*")
    assert matches("write_file", "*_file")
    assert matches("web_search_v2", "*search*")
    assert matches("fs.read_file", "*")  # a '*' crosses '.'
    assert not matches("read_config_file", "read_*_file")  # interior star is literal
    assert matches("read_*_file", "read_*_file")
    assert matches("xa*by", "*a*b*")  # "*a*b*" searches for the three characters a*b
    assert not matches("xaby", "*a*b*")
    assert matches("anything", "**")
    assert not matches("anything", "")


@pytest.mark.parametrize("name", ["config-defs.yaml", "reference-with-defs.yaml"])
def test_shared_defs(name: str) -> None:
    """Both documented spellings of a shared-definition reference work."""
    policy = load_policy(DATA / name)
    assert verdicts(policy, ("read_file", {"path": "/workspace/x"})) == ["allowed"]
    assert codes(policy, ("read_file", {"path": "/tmp/x"})) == ["E_ARG_SCHEMA"]
    assert codes(policy, ("read_file", {"path": ""})) == ["E_ARG_SCHEMA"]


def test_create_ticket_schema() -> None:
    """config/policies.md: title 5..120 characters, priority low/medium/high, both required."""
    policy = load_policy(DATA / "config-create-ticket.yaml")
    good = {"title": "Printer on fire", "priority": "high", "labels": ["hw"]}
    assert verdicts(policy, ("create_ticket", good)) == ["allowed"]
    for bad in (
        {**good, "priority": "urgent"},
        {**good, "title": "hi"},
        {"title": "Printer on fire"},
        {**good, "extra": 1},
        {**good, "labels": ["x" * 33]},
    ):
        assert codes(policy, ("create_ticket", bad)) == ["E_ARG_SCHEMA"], bad


@pytest.mark.parametrize(
    "name", ["config-legacy-v1.yaml", "reference-legacy-v1.yaml", "reference-migrated-v2.yaml"]
)
def test_legacy_v1_and_its_migration_agree(name: str) -> None:
    """v1 ``matches`` constraints "auto-migrate into in-memory JSON Schemas": a path must match
    (and be present); the migrated v2 form in the docs decides the same calls the same way."""
    policy = load_policy(DATA / name)
    assert verdicts(policy, ("read_file", {"path": "/workspace/a"})) == ["allowed"]
    assert verdicts(policy, ("read_file", {"path": "/etc/shadow"})) == ["blocked"]
    assert verdicts(policy, ("read_file", {})) == ["blocked"]


def test_legacy_v1_deny_is_merged_into_tools_deny() -> None:
    """ "normalizes allow / deny into tools.*": the top-level deny list still denies."""
    policy = load_policy(DATA / "config-legacy-v1.yaml")
    assert codes(policy, "exec") == ["E_TOOL_DENIED"]
    check = check_run(run_of(("read_file", {"path": "/etc/x"})), policy).steps[0]
    assert check.reason == 'read_file: path="/etc/x" does not match regex(^/workspace/.*)'


def test_quickstart_and_demo_policies() -> None:
    quick = load_policy(DATA / "mcp-quickstart-policy.yaml")
    assert verdicts(quick, ("read_file", {"path": "/tmp/assay-demo/a"})) == ["allowed"]
    assert codes(quick, "shell") == ["E_TOOL_DENIED"]
    safe = load_policy(DATA / "demo-safe-policy.yaml")
    # allow '*', a schema for read_file only, unconstrained tools warn (E_TOOL_UNCONSTRAINED)
    assert verdicts(safe, ("read_file", {"path": "/app/x"})) == ["allowed"]
    assert codes(safe, "list_dir") == ["E_TOOL_UNCONSTRAINED"]
    assert verdicts(safe, "list_dir") == ["warned"]
    assert codes(safe, "spawn") == ["E_TOOL_DENIED"]


def test_sequence_examples() -> None:
    """sequences.md "Real-World Patterns"."""
    shop = load_policy(DATA / "sequences-ecommerce.yaml")
    ok = ["ValidateCart", "CheckInventory", "ProcessPayment", "ProcessRefund"]
    assert "blocked" not in verdicts(shop, *ok)
    assert verdicts(shop, "CheckInventory", "ProcessPayment")[1] == "blocked"  # cart not validated
    assert verdicts(shop, *ok, "ProcessRefund")[-1] == "blocked"  # refund twice

    care = load_policy(DATA / "sequences-healthcare.yaml")
    good = ["AuthenticateUser", "GetPatientRecord", "LogAccess"]
    assert "blocked" not in verdicts(care, *good)
    late = verdicts(care, "AuthenticateUser", "GetPatientRecord", "Other", "LogAccess")
    assert late == ["allowed", "allowed", "allowed", "blocked"]  # LogAccess within 1 call
    assert verdicts(care, "GetPatientRecord", "LogAccess") == ["blocked", "blocked"]  # no auth
    assert verdicts(care, *good, "admin_export")[-1] == "blocked"

    hand = load_policy(DATA / "sequences-handoffs.yaml")
    assert "blocked" not in verdicts(hand, "RouterAgent", "SpecialistA", "SpecialistB")
    assert verdicts(hand, "RouterAgent", "SpecialistA", "SpecialistA")[-1] == "blocked"


def test_fragmented_sequence_fixture() -> None:
    """A never_after rule with an explicit id; the runtime_monitor part is not ours to check."""
    policy = load_policy(DATA / "fragmented_sequence.yaml")
    report = check_run(run_of("read_sensitive_document", "web_search"), policy)
    assert [v.verdict for v in report.steps] == ["allowed", "blocked"]
    assert report.steps[1].findings[0].rule_id == "no-web-search-after-sensitive-read"
