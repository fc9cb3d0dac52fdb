"""Every policy rule type on a run that passes it and a run that fails it (core/policy).

Runs are built in memory from a list of tool calls, so each case reads like Assay's tables in
docs/reference/config/sequences.md: ``[GetCustomer, UpdateCustomer]`` → pass.
"""

from __future__ import annotations

from typing import Any

import pytest

from trace_tui.core.model.run import Run, Step
from trace_tui.core.policy.document import parse_policy_text
from trace_tui.core.policy.evaluate import PolicyEvaluator, check_run
from trace_tui.core.policy.loader import policy_from_document
from trace_tui.core.policy.model import Policy, Report


def policy(text: str) -> Policy:
    return policy_from_document(parse_policy_text(text, "p.yaml"))


def run_of(*calls: str | tuple[str, Any], llm_between: bool = False) -> Run:
    """A run of tool calls: names or ``(name, arguments)``; optionally a model call before each."""
    run = Run()
    for i, call in enumerate(calls):
        name, args = (call, {}) if isinstance(call, str) else call
        if llm_between:
            run.add_step(Step(0, f"m{i}", None, "llm", "chat m", status="ok"))
        attrs = {"gen_ai.tool.name": name, "gen_ai.tool.call.arguments": args}
        run.add_step(Step(0, f"t{i}", None, "tool", name, status="ok", attributes=attrs))
    return run


def blocked(report: Report) -> list[tuple[int, str]]:
    """``(1-based step, rule type)`` of every blocking finding."""
    return [
        (v.index + 1, f.rule_type) for v in report.steps for f in v.findings if f.action == "block"
    ]


def check(text: str, *calls: str | tuple[str, Any]) -> Report:
    return check_run(run_of(*calls), policy(text))


# --------------------------------------------------------------------------- tools
DENY = """
tools:
  allow: [lookup_order, "search_*"]
  deny: ["exec_*", "*shell*", "*_sudo", kill]
"""


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("exec_cmd", "deny"),  # prefix
        ("run_shell_now", "deny"),  # contains
        ("do_sudo", "deny"),  # suffix
        ("kill", "deny"),  # exact
        ("delete_order", "allow"),  # not in the allow list
    ],
)
def test_deny_and_allow_lists_block(name: str, rule: str) -> None:
    assert blocked(check(DENY, name)) == [(1, rule)]


@pytest.mark.parametrize("name", ["lookup_order", "search_docs", "search_"])
def test_allowed_tools_pass(name: str) -> None:
    assert blocked(check(DENY, name)) == []


def test_interior_star_is_literal_as_assay_documents() -> None:
    text = "tools:\n  deny: ['read_*_file']\n"
    assert blocked(check(text, "read_config_file")) == []
    assert blocked(check(text, "read_*_file")) == [(1, "deny")]
    assert any("literally" in w for w in policy(text).warnings)


def test_deny_wins_over_allow() -> None:
    text = "tools:\n  allow: ['*']\n  deny: [exec]\n"
    report = check(text, "exec", "read")
    assert blocked(report) == [(1, "deny")]
    assert report.steps[0].findings[0].code == "E_TOOL_DENIED"


# --------------------------------------------------------------------------- arguments
SCHEMA = """
version: "2.0"
schemas:
  apply_discount:
    type: object
    properties:
      percent: {type: number, maximum: 30}
    required: [order_id, percent]
enforcement:
  unconstrained_tools: warn
"""


def test_schema_passes_and_fails() -> None:
    ok = check(SCHEMA, ("apply_discount", {"order_id": "A", "percent": 10}))
    assert blocked(ok) == []
    bad = check(SCHEMA, ("apply_discount", {"order_id": "A", "percent": 75}))
    assert blocked(bad) == [(1, "schema")]
    assert bad.steps[0].reason == "apply_discount: percent: 75 is greater than the maximum of 30"
    missing = check(SCHEMA, ("apply_discount", {"percent": 5}))
    assert "'order_id' is a required property" in missing.steps[0].reason


def test_arguments_kept_as_a_json_string_are_parsed() -> None:
    report = check(SCHEMA, ("apply_discount", '{"order_id": "A", "percent": 75}'))
    assert blocked(report) == [(1, "schema")]


@pytest.mark.parametrize(
    ("mode", "verdict"), [("warn", "warned"), ("deny", "blocked"), ("allow", "allowed")]
)
def test_unconstrained_tools(mode: str, verdict: str) -> None:
    text = SCHEMA.replace("unconstrained_tools: warn", f"unconstrained_tools: {mode}")
    report = check(text, "get_customer")
    assert report.steps[0].verdict == verdict


def test_unconstrained_default_is_warn_once_arguments_are_constrained() -> None:
    text = SCHEMA.replace("enforcement:\n  unconstrained_tools: warn\n", "")
    assert check(text, "get_customer").steps[0].verdict == "warned"
    assert check("tools:\n  allow: ['*']\n", "get_customer").steps[0].verdict == "allowed"


CLASSIC = """
constraints:
  - tool: apply_discount
    params:
      percent: {max: 30, min: 0}
  - tool: deploy
    params:
      env: {regex: "^staging$"}
enforcement: {unconstrained_tools: allow}
"""


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (("apply_discount", {"percent": 75}), "apply_discount: percent=75 exceeds max(30)"),
        (("apply_discount", {"percent": -5}), "apply_discount: percent=-5 below min(0)"),
        (
            ("apply_discount", {"percent": "75"}),
            'apply_discount: percent="75" is not a number (max(30))',
        ),
        (("deploy", {"env": "prod"}), 'deploy: env="prod" does not match regex(^staging$)'),
        (("deploy", {}), "deploy: env missing"),
    ],
)
def test_classic_constraints_fail_with_assays_verdict_text(call: Any, reason: str) -> None:
    report = check(CLASSIC, call)
    assert blocked(report) == [(1, "constraint")]
    assert report.steps[0].reason == reason


def test_classic_constraints_pass() -> None:
    report = check(CLASSIC, ("apply_discount", {"percent": 30}), ("deploy", {"env": "staging"}))
    assert blocked(report) == []


def test_constraints_mapping_form() -> None:
    text = "constraints:\n  apply_discount:\n    percent: {max: 30}\n"
    report = check(text, ("apply_discount", {"percent": 75}))
    assert report.steps[0].reason == "apply_discount: percent=75 exceeds max(30)"


def test_result_schema() -> None:
    text = "results:\n  search:\n    type: array\n    minItems: 1\n"
    run = run_of("search", "search")
    run.steps[0].attributes["gen_ai.tool.call.result"] = []
    run.steps[1].attributes["gen_ai.tool.call.result"] = [{"id": 1}]
    report = check_run(run, policy(text))
    assert blocked(report) == [(1, "result_schema")]
    assert report.steps[0].reason == "search: result: [] should be non-empty"


def test_limits_max_tool_calls_total() -> None:
    text = "limits:\n  max_tool_calls_total: 2\n"
    assert blocked(check(text, "a", "b")) == []
    report = check(text, "a", "b", "c")
    assert blocked(report) == [(3, "limit")]
    assert report.steps[2].findings[0].code == "E_RATE_LIMIT"


# --------------------------------------------------------------------------- sequences
def seq(rule: str) -> str:
    return "sequences:\n" + "\n".join("  " + line for line in rule.strip().splitlines()) + "\n"


CASES: list[tuple[str, list[str], list[tuple[int, str]]]] = [
    # require
    ("- {type: require, tool: VerifyIdentity}", ["GetCustomer", "VerifyIdentity", "Update"], []),
    ("- {type: require, tool: VerifyIdentity}", ["GetCustomer", "Update"], [(2, "require")]),
    # before
    ("- {type: before, first: GetCustomer, then: Update}", ["GetCustomer", "Update"], []),
    (
        "- {type: before, first: GetCustomer, then: Update}",
        ["Update", "GetCustomer"],
        [(1, "before")],
    ),
    (
        "- {type: before, first: GetCustomer, then: Update}",
        ["GetCustomer", "Update", "GetCustomer"],
        [],
    ),
    # blocklist (substring, '*' literal)
    ("- {type: blocklist, pattern: admin_}", ["GetCustomer", "Update"], []),
    ("- {type: blocklist, pattern: admin_}", ["GetCustomer", "admin_delete"], [(2, "blocklist")]),
    ("- {type: blocklist, pattern: 'admin*'}", ["admin_delete"], []),
    # max_calls
    ("- {type: max_calls, tool: SendEmail, max: 3}", ["SendEmail", "SendEmail"], []),
    ("- {type: max_calls, tool: SendEmail, max: 3}", ["SendEmail"] * 4, [(4, "max_calls")]),
    # eventually
    ("- {type: eventually, tool: Validate, within: 5}", ["a", "b", "c", "d", "Validate"], []),
    ("- {type: eventually, tool: Validate, within: 5}", list("abcdefghij"), [(6, "eventually")]),
    ("- {type: eventually, tool: Validate, within: 5}", list("abc"), [(3, "eventually")]),
    # never_after
    ("- {type: never_after, trigger: Commit, forbidden: Modify}", ["Modify", "Commit"], []),
    (
        "- {type: never_after, trigger: Commit, forbidden: Modify}",
        ["Commit", "Modify"],
        [(2, "never_after")],
    ),
    # after
    ("- {type: after, trigger: Open, then: Close, within: 10}", ["Open", "Read", "Close"], []),
    (
        "- {type: after, trigger: Open, then: Close, within: 2}",
        ["Open", "a", "b", "c"],
        [(4, "after")],
    ),
    ("- {type: after, trigger: Open, then: Close, within: 10}", ["Open", "a"], [(2, "after")]),
    ("- {type: after, trigger: Get, then: Log, within: 1}", ["Get", "Log"], []),
    ("- {type: after, trigger: Get, then: Log, within: 1}", ["Get", "x", "Log"], [(3, "after")]),
    # sequence
    ("- {type: sequence, tools: [Auth, Load, Write]}", ["Auth", "Load", "Write"], []),
    ("- {type: sequence, tools: [Auth, Load, Write]}", ["Auth", "Audit", "Load", "Write"], []),
    # out of order at 1 and at 3 (Write before Load), and never completed
    (
        "- {type: sequence, tools: [Auth, Load, Write]}",
        ["Load", "Auth", "Write"],
        [(1, "sequence"), (3, "sequence"), (3, "sequence")],
    ),
    ("- {type: sequence, tools: [Auth, Load, Write], strict: true}", ["Auth", "Load", "Write"], []),
    (
        "- {type: sequence, tools: [Auth, Load, Write], strict: true}",
        ["Auth", "Audit", "Load", "Write"],
        [(2, "sequence")],
    ),
    ("- {type: sequence, tools: [Auth, Load, Write]}", ["Other"], []),
    ("- {type: sequence, tools: [Auth, Load, Write]}", ["Auth", "Load"], [(2, "sequence")]),
]


@pytest.mark.parametrize(("rule", "calls", "expected"), CASES)
def test_sequence_rules_as_assay_documents(
    rule: str, calls: list[str], expected: list[tuple[int, str]]
) -> None:
    assert blocked(check(seq(rule), *calls)) == expected


def test_aliases_resolve_rule_targets() -> None:
    text = "aliases:\n  Search: [web_search, doc_search]\n" + seq(
        "- {type: before, first: Search, then: answer}"
    )
    assert blocked(check(text, "doc_search", "answer")) == []
    assert blocked(check(text, "answer")) == [(1, "before")]


def test_no_progress_counts_identical_consecutive_calls() -> None:
    text = seq("- {type: no_progress, max: 2}")
    same = ("poll", {"id": 1})
    assert blocked(check(text, same, same)) == []
    report = check(text, same, same, same)
    assert blocked(report) == [(3, "no_progress")]
    assert (report.steps[2].findings[0].first, report.steps[2].findings[0].last) == (0, 2)
    # different arguments, or another call in between, is progress
    assert blocked(check(text, same, ("poll", {"id": 2}), same)) == []
    assert blocked(check(text, same, same, "other", same)) == []
    # key order does not make calls different
    assert blocked(
        check(text, ("p", {"a": 1, "b": 2}), ("p", {"b": 2, "a": 1}), ("p", {"a": 1, "b": 2}))
    ) == [(3, "no_progress")]


def test_no_progress_ignores_model_calls_in_between() -> None:
    text = seq("- {type: no_progress, max: 1, tool: poll}")
    run = run_of(("poll", {}), ("poll", {}), llm_between=True)
    assert blocked(check_run(run, policy(text))) == [(4, "no_progress")]


def test_require_system_prompt_flags_dropped_prompt_only() -> None:
    text = seq("- {type: require_system_prompt}")
    run = Run()
    for i, prompt in enumerate([None, "be nice", "be nice", None]):
        attrs = {"gen_ai.system_instructions": prompt} if prompt else {}
        run.add_step(Step(0, f"m{i}", None, "llm", "chat", status="ok", attributes=attrs))
    report = check_run(run, policy(text))
    assert blocked(report) == [(4, "require_system_prompt")]
    finding = report.steps[-1].findings[0]
    assert (finding.first, finding.last) == (2, 3)


def test_on_violation_warn() -> None:
    text = seq("- {type: max_calls, tool: a, max: 1, on_violation: warn}")
    report = check(text, "a", "a")
    assert blocked(report) == [] and report.steps[1].verdict == "warned"


def test_evidence_ranges() -> None:
    report = check(
        seq("- {type: never_after, trigger: Commit, forbidden: Modify}"),
        "x",
        "Commit",
        "y",
        "Modify",
    )
    finding = report.steps[3].findings[0]
    assert (finding.first + 1, finding.last + 1) == (2, 4)


def test_incremental_matches_whole_run() -> None:
    text = seq(
        "- {type: max_calls, tool: a, max: 1}\n- {type: require, tool: z}\n"
        "- {type: sequence, tools: [a, b], strict: true}"
    )
    pol = policy(text)
    calls = ["a", "c", "a", "b"]
    whole = check_run(run_of(*calls), pol)
    run = Run()
    evaluator = PolicyEvaluator(pol)
    for i, name in enumerate(calls):
        attrs = {"gen_ai.tool.name": name, "gen_ai.tool.call.arguments": {}}
        run.add_step(Step(0, f"t{i}", None, "tool", name, status="ok", attributes=attrs))
        evaluator.advance(run)
    assert not evaluator.report(len(run)).complete
    evaluator.finish(run)
    assert blocked(evaluator.report(len(run))) == blocked(whole)
    assert blocked(whole) == [(2, "sequence"), (3, "sequence"), (3, "max_calls"), (4, "require")]
