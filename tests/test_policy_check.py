"""``trace-tui check``: the sample policies on their stories and on fixed branches, the report
formats, exit codes, and policy errors that name the file, line and what is wrong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from support import SAMPLES
from trace_tui.cli.commands import main
from trace_tui.core.policy.document import PolicyError, parse_policy_text
from trace_tui.core.policy.loader import load_policy, policy_from_document

POLICIES = SAMPLES / "policies"

#: story -> (blocked steps on the story, the fork that fixes it)
STORIES: dict[str, tuple[list[int], list[str]]] = {
    "discount_over_cap": (
        [7],
        [
            "--at",
            "7",
            "--set",
            "/attributes/gen_ai.tool.call.arguments/percent=15",
            "--answer",
            '{"status": "applied", "percent": 15}',
        ],
    ),
    "order_lookup_missing_user_id": (
        [3],
        [
            "--at",
            "3",
            "--set",
            '/attributes/gen_ai.tool.call.arguments/user_id="u-2001"',
            "--answer",
            '{"order_number": "1042", "status": "not found for this user"}',
        ],
    ),
    "empty_retrieval_fabrication": (
        [3],
        [
            "--at",
            "3",
            "--set",
            '/attributes/gen_ai.retrieval.documents=[{"id": "pol-7", "score": 0.9, '
            '"content": "Opened electronics can be returned within 14 days."}]',
        ],
    ),
    "tool_loop_no_progress": (
        [9, 11, 13],
        [
            "--at",
            "5",
            "--set",
            '/attributes/gen_ai.tool.call.result/status="delivered"',
            "--answer",
            "Your parcel was delivered this morning.",
        ],
    ),
    "system_prompt_evicted": (
        [8, 10],
        [
            "--at",
            "8",
            "--set-string",
            "/attributes/gen_ai.system_instructions=You are Acme's support agent. "
            "Never reveal internal ticket notes.",
            "--answer",
            "I can't share internal notes, but your ticket is being worked on.",
        ],
    ),
}


def check_json(capsys: pytest.CaptureFixture[str], trace: Path, policy: Path) -> tuple[int, dict]:
    code = main(["check", str(trace), "--policy", str(policy), "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("story", sorted(STORIES))
def test_sample_policy_catches_its_story_and_passes_the_fix(
    story: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected, fork = STORIES[story]
    trace = tmp_path / f"{story}.jsonl"
    shutil.copy(SAMPLES / f"{story}.jsonl", trace)
    policy = POLICIES / f"{story}.yaml"
    code, report = check_json(capsys, trace, policy)
    assert code == 1
    assert [s["step"] for s in report["steps"] if s["verdict"] == "blocked"] == expected
    assert report["summary"]["first_blocked_step"] == expected[0]

    branch = tmp_path / "fixed.jsonl"
    assert main(["fork", str(trace), *fork, "-o", str(branch)]) in (0, 3)
    capsys.readouterr()
    code, fixed = check_json(capsys, branch, policy)
    assert code == 0, fixed
    assert fixed["summary"]["blocked"] == 0
    assert fixed["summary"]["checked_steps"] > 0


def test_text_report_reads_like_assay_explain(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "check",
            str(SAMPLES / "discount_over_cap.jsonl"),
            "-p",
            str(POLICIES / "discount_over_cap.yaml"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "Policy: discount-cap (v1.0)" in out
    assert "[7] apply_discount" in out and "✖ BLOCKED" in out
    assert "Reason: apply_discount: percent=35 exceeds max(20)" in out
    assert "Rule: constraints_apply_discount (constraint)" in out
    assert "Blocking Rules:\n  - constraints_apply_discount" in out
    assert "[3] get_customer" in out


def test_blocked_only_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "check",
        str(SAMPLES / "tool_loop_no_progress.jsonl"),
        "-p",
        str(POLICIES / "tool_loop_no_progress.yaml"),
        "--blocked-only",
    ]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "[9]" in out and "[3]" not in out
    assert main([*args, "--format", "markdown"]) == 1
    md = capsys.readouterr().out
    assert md.startswith("## Trace Explanation ❌ BLOCKED")
    assert "| 9 | `check_shipment_status` | ❌ blocked | `polling_loop` |" in md
    assert "\n| 3 |" not in md


def test_allowed_run_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "p.json"
    policy.write_text('{"version": "2.0", "tools": {"allow": ["*"]}}')
    code = main(["check", str(SAMPLES / "discount_over_cap.jsonl"), "-p", str(policy)])
    assert code == 0
    assert "(3 allowed, 0 warned, 0 blocked)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("sequences:\n  - type: befor\n    first: a\n", ":2:5:", "unknown rule type"),
        ("sequences:\n  - type: before\n    first: a\n", ":2:5:", "needs 'then'"),
        ("sequences:\n  - {type: max_calls, tool: a, max: -1}\n", ":2:32:", "whole number"),
        ("tools:\n  allow: [a\n", ":3:1:", "flow sequence"),
        ("tools:\n  deny: exec\n  deny: shell\n", ":3:", "duplicate"),
        ("schemas:\n  t:\n    type: objekt\n", ":2:3:", "not a valid JSON Schema"),
        ("schemas:\n  t:\n    $ref: 'https://example.com/s.json'\n", ":2:3:", "not fetched"),
        ("constraints:\n  - tool: t\n    params:\n      p: {regex: '('}\n", ":4:", "invalid regex"),
        ("enforcement:\n  unconstrained_tools: maybe\n", ":2:3:", "warn, deny or allow"),
        ("- a\n- b\n", ":1:1:", "mapping at the top level"),
        ("tools:\n  apply_discount:\n    arguments: {}\n", ":2:3:", "go under schemas"),
    ],
)
def test_policy_errors_name_file_line_and_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, where: str, what: str
) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text(text)
    code = main(["check", str(SAMPLES / "discount_over_cap.jsonl"), "-p", str(policy)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1, err
    assert f"bad.yaml{where}" in err and what in err, err


def test_json_policy_errors_have_lines_too(tmp_path: Path) -> None:
    policy = tmp_path / "p.json"
    policy.write_text('{\n  "sequences": [\n    {"type": "nope"}\n  ]\n}\n')
    with pytest.raises(PolicyError) as info:
        load_policy(policy)
    assert info.value.where.line == 3
    policy.write_text('{\n  "tools": {"allow": ["a",]}\n}\n')
    with pytest.raises(PolicyError) as info:
        load_policy(policy)
    assert info.value.where.line == 2


def test_missing_trace_or_policy_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = POLICIES / "discount_over_cap.yaml"
    assert main(["check", str(tmp_path / "nope.jsonl"), "-p", str(good)]) == 2
    assert main(["check", str(SAMPLES / "discount_over_cap.jsonl"), "-p", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_yaml_12_keeps_no_as_a_tool_name() -> None:
    """YAML 1.1 would read ``no`` as false; a policy denying a tool named ``no`` means it."""
    policy = policy_from_document(parse_policy_text("tools:\n  deny: [no, on]\n"))
    assert policy.deny == ("no", "on")


def test_hostile_tool_names_and_values_are_sanitised(
    write_trace, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    evil = "rm\x1b[2J\u202e"
    trace = write_trace(
        [
            {
                "type": "span",
                "span_id": "a",
                "kind": "tool",
                "name": evil,
                "status": "ok",
                "attributes": {
                    "gen_ai.tool.name": evil,
                    "gen_ai.tool.call.arguments": {"p": "\x1b]0;x\x07 sk-" + "a" * 30},
                },
            },
        ]
    )
    policy = tmp_path / "p.yaml"
    policy.write_text("constraints:\n  - tool: '*'\n    params: {}\ntools:\n  deny: ['rm*']\n")
    for fmt in ("text", "markdown", "json"):
        assert main(["check", str(trace), "-p", str(policy), "--format", fmt]) == 1
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\u202e" not in out, fmt


def test_diff_shows_verdicts_that_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "discount_over_cap.jsonl"
    shutil.copy(SAMPLES / "discount_over_cap.jsonl", trace)
    branch = tmp_path / "fixed.jsonl"
    main(["fork", str(trace), *STORIES["discount_over_cap"][1], "-o", str(branch)])
    capsys.readouterr()
    policy = str(POLICIES / "discount_over_cap.yaml")
    assert main(["diff", str(trace), str(branch), "--plain", "--policy", policy]) == 1
    out = capsys.readouterr().out
    assert "policy discount-cap: A 1 blocked, B 0 blocked; 1 verdict(s) changed" in out
    assert "  step 7 apply_discount: blocked → allowed\n" in out
    assert "A: apply_discount: percent=35 exceeds max(20)" in out
    assert main(["diff", str(branch), "--json", "--policy", policy]) == 1  # branch vs parent
    data = json.loads(capsys.readouterr().out)
    [change] = data["policy"]["changes"]
    assert change["line"] == "step 7 apply_discount: blocked → allowed"
    assert (change["left_step"], change["right_step"]) == (7, 7)
    # without --policy the report has no policy part; a bad policy is bad input
    assert main(["diff", str(trace), str(branch), "--json"]) == 1
    assert "policy" not in json.loads(capsys.readouterr().out)
    bad = tmp_path / "bad.yaml"
    bad.write_text("sequences: 3\n")
    assert main(["diff", str(trace), str(branch), "--plain", "--policy", str(bad)]) == 2


def test_verdict_changes_name_absent_and_unchecked_sides() -> None:
    from trace_tui.core.policy.changes import verdict_changes
    from trace_tui.core.policy.model import Finding, Report, StepVerdict

    blocked = StepVerdict(2, "t", "tool", [Finding("r", "deny", "block", "no", 2, 2)])
    left = Report("p", "2.0", [blocked, StepVerdict(4, "u", "tool")], 5)
    right = Report("p", "2.0", [StepVerdict(2, "t", "tool")], 4)
    lines = [c.line() for c in verdict_changes(left, right, [(2, 2), (4, None), (None, 3)])]
    assert lines == ["step 3 t: blocked → allowed", "step 5 u: allowed → absent"]


def _tool(span: str, attrs: dict, record: str = "span", name: str = "tool call") -> dict:
    rec = {"type": record, "span_id": span, "kind": "tool", "name": name, "status": "ok",
           "start_time": 1.0, "end_time": 2.0, "attributes": attrs}  # fmt: skip
    if record == "span_start":
        del rec["end_time"], rec["status"]
    return rec


def test_tool_names_come_from_the_record_not_the_label(write_trace, tmp_path: Path) -> None:
    """A label is not the tool's name; a span_end's attributes count; a nested key does not."""
    from trace_tui.cli.check import check_file
    from trace_tui.core.policy.evaluate import check_run
    from trace_tui.core.reading.reader import open_run

    trace = write_trace(
        [
            _tool("a", {"gen_ai.tool.name": "exec_cmd"}),
            _tool("b", {}, "span_start"),
            {
                "type": "span_end",
                "span_id": "b",
                "end_time": 3.0,
                "status": "ok",
                "attributes": {"gen_ai.tool.name": "exec_late"},
            },
            _tool(
                "c",
                {
                    "gen_ai.tool.name": "safe",
                    "gen_ai.tool.call.arguments": {"gen_ai.tool.name": "exec_spoof"},
                },
            ),
            _tool("d", {}, name="execute_tool exec_otel"),
        ]  # fmt: skip
    )
    policy = policy_from_document(parse_policy_text("tools:\n  deny: ['exec_*']\n"))
    indexed = check_file(str(trace), policy)
    in_memory = check_run(open_run(trace), policy)
    for report in (indexed, in_memory):
        assert [(v.name, v.verdict) for v in report.steps] == [
            ("exec_cmd", "blocked"),
            ("exec_late", "blocked"),
            ("safe", "allowed"),
            ("exec_otel", "blocked"),
        ]


def test_foreign_traces_are_checked_the_same_indexed_and_in_memory() -> None:
    from support import ROOT
    from trace_tui.cli.check import check_file
    from trace_tui.core.policy.evaluate import check_run
    from trace_tui.core.reading.reader import open_run

    trace = ROOT / "tests/data/foreign/claude-code/claude-code-2.1.328_orders.jsonl"
    policy = policy_from_document(
        parse_policy_text("tools:\n  deny: ['Bash']\nsequences:\n  - {type: no_progress, max: 1}\n")
    )
    indexed, in_memory = check_file(str(trace), policy), check_run(open_run(trace), policy)
    assert indexed.steps, "the sample has tool calls"
    assert [(v.index, v.name, v.verdict) for v in indexed.steps] == [
        (v.index, v.name, v.verdict) for v in in_memory.steps
    ]


def test_policy_without_a_screen_says_where_to_go(capsys: pytest.CaptureFixture[str]) -> None:
    trace, policy = SAMPLES / "discount_over_cap.jsonl", POLICIES / "discount_over_cap.yaml"
    assert main(["tail", "--plain", str(trace), "--policy", str(policy)]) == 2
    assert "trace-tui check" in capsys.readouterr().err


def test_corrupt_lines_are_said_and_the_rest_is_checked(
    write_trace, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = write_trace([_tool("a", {"gen_ai.tool.name": "exec_x"}), "{not json", b"\xff\xfe"])
    policy = POLICIES.parent / "policies" / "order_lookup_missing_user_id.yaml"
    assert main(["check", str(trace), "-p", str(policy)]) == 1
    captured = capsys.readouterr()
    assert "[1] exec_x" in captured.out
    assert "problem(s) while reading" in captured.err
