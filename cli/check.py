"""``trace-tui check TRACE --policy POLICY``: every tool call's policy verdict, like
``assay explain`` (text, JSON or Markdown), and an exit code for CI.

Exit 0 when no step is blocked, 1 when one is, 2 for bad input (an unreadable trace, or a policy
that cannot be used: the message names the file, line and what is wrong). The trace is read
through the indexed reader, so a gigabyte trace is checked without loading it; only steps a rule
needs in full are parsed. Reasons quote trace values: they are masked
(:mod:`trace_tui.core.text.redact`) and sanitised like every other line we print.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from trace_tui.cli.exit_codes import EXIT_BLOCKED, EXIT_OK
from trace_tui.core.model.run import RunView
from trace_tui.core.policy.changes import VerdictChange, verdict_changes
from trace_tui.core.policy.model import BLOCKED, WARNED, Policy, Report, StepVerdict
from trace_tui.core.text.redact import Redactor
from trace_tui.core.text.sanitize import one_line

ICONS = {"allowed": "✔", "warned": "⚠", "blocked": "✖"}
LINE_LIMIT = 300


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``check``."""
    p.add_argument("file", metavar="TRACE", help="trace file (any supported format, or a branch)")
    p.add_argument(
        "--policy", "-p", metavar="POLICY", required=True, help="policy file (YAML or JSON)"
    )
    p.add_argument(
        "--format",
        "-f",
        dest="report",
        choices=("text", "json", "markdown"),
        default="text",
        help="report format, as assay explain (default text)",
    )
    p.add_argument(
        "--trace-format",
        dest="format",
        metavar="NAME",
        help="skip trace format detection (see 'trace-tui formats')",
    )
    p.add_argument("--blocked-only", action="store_true", help="list only blocked steps")


def run_check(args: argparse.Namespace, redactor: Redactor) -> int:
    """Load the policy, check the trace, print the report; the exit code."""
    from trace_tui.core.policy.loader import load_policy  # YAML and JSON Schema: only for check

    policy = load_policy(args.policy)
    for warning in policy.warnings:
        print(f"trace-tui: {one_line(warning, LINE_LIMIT)}", file=sys.stderr)
    report = check_file(args.file, policy, args.format)
    if report.problems:
        print(
            f"trace-tui: {one_line(args.file, LINE_LIMIT)}: {report.problems} problem(s) while "
            "reading (corrupt or unusable lines were skipped; see 'trace-tui validate')",
            file=sys.stderr,
        )
    out = sys.stdout
    if args.report == "json":
        write_json(report, policy, args.file, out, redactor, args.blocked_only)
    elif args.report == "markdown":
        write_markdown(report, policy, args.file, out, redactor, args.blocked_only)
    else:
        write_text(report, policy, args.file, out, redactor, args.blocked_only)
    return EXIT_BLOCKED if report.blocked else EXIT_OK


def check_file(path: str, policy: Policy, format_name: str | None = None) -> Report:
    """Read the trace at ``path`` through the indexed reader and check every step."""
    from trace_tui.core.reading.source import open_source

    source = open_source(path, format_name)
    try:
        from trace_tui.core.policy.evaluate import PolicyEvaluator

        evaluator = PolicyEvaluator(policy)
        while True:
            update = source.update()
            evaluator.advance(source.run)
            if update.complete:
                break
        run: RunView = source.run
        evaluator.finish(run)
        report = evaluator.report(len(run))
        report.problems = len(run.problems)
        return report
    finally:
        source.close()


def _shown(report: Report, blocked_only: bool) -> list[StepVerdict]:
    return report.blocked if blocked_only else report.steps


def _clean(text: str, redactor: Redactor) -> str:
    return one_line(redactor.text(text), LINE_LIMIT)


def _summary(report: Report) -> str:
    checked = len(report.steps)
    blocked, warned = report.count(BLOCKED), report.count(WARNED)
    return (
        f"{report.total_steps} steps, {checked} checked "
        f"({checked - blocked - warned} allowed, {warned} warned, {blocked} blocked)"
    )


def write_text(
    report: Report,
    policy: Policy,
    trace: str,
    out: TextIO,
    redactor: Redactor,
    blocked_only: bool = False,
) -> None:
    """The terminal report: a timeline of checked steps with rule, type and reason."""
    clean = lambda text: _clean(text, redactor)  # noqa: E731
    out.write(f"Policy: {clean(policy.name or policy.path)} (v{clean(policy.version)})\n")
    out.write(f"Trace: {clean(trace)}: {_summary(report)}\n\nTimeline:\n")
    for verdict in _shown(report, blocked_only):
        word = "BLOCKED" if verdict.verdict == BLOCKED else verdict.verdict
        out.write(
            f"  [{verdict.index + 1}] {clean(verdict.name):<40} {ICONS[verdict.verdict]} {word}\n"
        )
        for finding in verdict.findings:
            span = (
                f"step {finding.first + 1}"
                if finding.first == finding.last
                else f"steps {finding.first + 1}–{finding.last + 1}"
            )
            out.write(
                f"      └── Rule: {clean(finding.rule_id)} ({finding.rule_type})"
                f"{' ' + finding.code if finding.code else ''}\n"
            )
            out.write(f"      └── Reason: {clean(finding.reason)}\n")
            out.write(f"      └── Evidence: {span}\n")
    if not report.steps:
        out.write("  (no tool calls)\n")
    rules = report.blocking_rules
    if rules:
        out.write("\nBlocking Rules:\n")
        for rule in rules:
            out.write(f"  - {clean(rule)}\n")


def write_markdown(
    report: Report,
    policy: Policy,
    trace: str,
    out: TextIO,
    redactor: Redactor,
    blocked_only: bool = False,
) -> None:
    """The Markdown report (``assay explain --format markdown`` layout)."""

    def cell(text: str) -> str:
        return _clean(text, redactor).replace("|", "\\|").replace("`", "'")

    status = "✅ PASS" if not report.blocked else "❌ BLOCKED"
    out.write(f"## Trace Explanation {status}\n\n")
    out.write(f"**Policy:** {cell(policy.name or policy.path)} (v{cell(policy.version)})  \n")
    out.write(f"**Trace:** {cell(trace)}\n\n")
    out.write("| Steps | Checked | Allowed | Warned | Blocked |\n|---|---|---|---|---|\n")
    blocked, warned = report.count(BLOCKED), report.count(WARNED)
    out.write(
        f"| {report.total_steps} | {len(report.steps)} | "
        f"{len(report.steps) - blocked - warned} | {warned} | {blocked} |\n\n"
    )
    out.write("### Timeline\n\n| # | Tool | Verdict | Rule | Details | Evidence |\n")
    out.write("|---|------|---------|------|---------|----------|\n")
    for verdict in _shown(report, blocked_only):
        icon = {"allowed": "✅", "warned": "⚠️", "blocked": "❌"}[verdict.verdict]
        top = verdict.top_finding
        rules = "; ".join(f"`{cell(f.rule_id)}`" for f in verdict.findings)
        details = "; ".join(cell(f.reason) for f in verdict.findings)
        evidence = (
            ""
            if top is None
            else (
                f"{top.first + 1}" if top.first == top.last else f"{top.first + 1}–{top.last + 1}"
            )
        )
        out.write(
            f"| {verdict.index + 1} | `{cell(verdict.name)}` | {icon} {verdict.verdict} | "
            f"{rules} | {details} | {evidence} |\n"
        )
    if report.blocking_rules:
        out.write("\n### Blocking Rules\n\n")
        for rule in report.blocking_rules:
            out.write(f"- `{cell(rule)}`\n")


def report_json(
    report: Report, policy: Policy, trace: str, redactor: Redactor, blocked_only: bool = False
) -> dict[str, Any]:
    """The JSON report as a dict (trace strings masked; printing escapes the rest)."""
    steps = []
    for verdict in _shown(report, blocked_only):
        data = verdict.to_json()
        data["tool"] = redactor.text(data["tool"])
        for finding in data["findings"]:
            finding["reason"] = redactor.text(finding["reason"])
        steps.append(data)
    blocked, warned = report.count(BLOCKED), report.count(WARNED)
    return {
        "policy": {"name": policy.name, "version": policy.version, "path": policy.path},
        "trace": trace,
        "complete": report.complete,
        "summary": {
            "total_steps": report.total_steps,
            "checked_steps": len(report.steps),
            "allowed": len(report.steps) - blocked - warned,
            "warned": warned,
            "blocked": blocked,
            "first_blocked_step": report.blocked[0].index + 1 if report.blocked else None,
        },
        "blocking_rules": report.blocking_rules,
        "steps": steps,
        "redaction": {"enabled": redactor.enabled},
    }


def write_json(
    report: Report,
    policy: Policy,
    trace: str,
    out: TextIO,
    redactor: Redactor,
    blocked_only: bool = False,
) -> None:
    """``--format json``: standard JSON, control and bidi characters escaped."""
    data = report_json(report, policy, trace, redactor, blocked_only)
    out.write(json.dumps(data, ensure_ascii=True, indent=2) + "\n")


# --------------------------------------------------------------------------- diff --policy
def policy_changes(
    policy: Policy, left: RunView, right: RunView, pairs: list[tuple[int | None, int | None]]
) -> tuple[Report, Report, list[VerdictChange]]:
    """Check both runs of a diff and compare their verdicts over the diff's aligned pairs."""
    from trace_tui.core.policy.evaluate import check_run

    before, after = check_run(left, policy), check_run(right, policy)
    return before, after, verdict_changes(before, after, pairs)


def write_changes_plain(
    policy: Policy,
    found: tuple[Report, Report, list[VerdictChange]],
    out: TextIO,
    redactor: Redactor,
) -> None:
    """The ``diff --plain --policy`` section: one line per changed verdict, with reasons."""
    before, after, changes = found
    clean = lambda text: _clean(text, redactor)  # noqa: E731
    out.write(
        f"\npolicy {clean(policy.name or policy.path)}: A {len(before.blocked)} blocked, "
        f"B {len(after.blocked)} blocked; {len(changes)} verdict(s) changed\n"
    )
    for change in changes:
        out.write(f"  {clean(change.line())}\n")
        for side, reason in (("A", change.reason_before), ("B", change.reason_after)):
            if reason:
                out.write(f"      {side}: {clean(reason)}\n")


def changes_json(
    policy: Policy, found: tuple[Report, Report, list[VerdictChange]]
) -> dict[str, Any]:
    """The ``policy`` object ``diff --json --policy`` adds to its report."""
    before, after, changes = found
    return {
        "policy": {
            "name": policy.name,
            "path": policy.path,
            "blocked": {"A": len(before.blocked), "B": len(after.blocked)},
            "changes": [dict(c.to_json(), line=c.line()) for c in changes],
        }
    }
