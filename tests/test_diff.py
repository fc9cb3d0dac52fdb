"""Diffs of pairs built from the samples (core/diff/compare.py and ``trace-tui diff``): a changed
tool
result, an inserted tool call, a changed system prompt, identical runs with other ids and
timestamps; the reported pointers, the tool-call summary, totals, and the exit codes."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from support import SAMPLES
from trace_tui.cli.commands import main
from trace_tui.cli.diff_report import json_report, plain_lines
from trace_tui.core.diff.compare import (
    ADDED,
    CHANGED,
    REMOVED,
    SAME,
    DiffOptions,
    RunDiff,
    diff_runs,
)
from trace_tui.core.reading.reader import open_run

Records = list[dict[str, Any]]
RESULT = "/attributes/gen_ai.tool.call.result"


def load(name: str) -> Records:
    """The records of a built-in sample."""
    lines = (SAMPLES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def write(path: Path, records: Records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def span_record(records: Records, name: str, kind: str = "tool") -> dict[str, Any]:
    """The first span/span_start record of a step by name and kind."""
    return next(r for r in records if r.get("name") == name and r.get("kind") == kind)


def diff_files(a: Path, b: Path, **options: Any) -> RunDiff:
    return diff_runs(open_run(a), open_run(b), DiffOptions(**options))


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- pairs
def other_ids_and_times(records: Records) -> Records:
    """The same run as a second run writes it: every id different, times an hour later."""
    text = json.dumps(records)
    for old in (
        "dis-",
        "ord-",
        "emp-",
        "loop-",
        "evi-",
        "call_",
        "chatcmpl-",
        "run-",
        "sess-",
        "trace-",
    ):
        text = text.replace(f'"{old}', f'"{old}x')
    out = json.loads(text)
    for rec in out:
        for key in ("start_time", "end_time", "started_at", "created_at"):
            if isinstance(rec.get(key), str):
                moved = datetime.fromisoformat(rec[key].replace("Z", "+00:00")) + timedelta(hours=1)
                rec[key] = moved.isoformat()
    return out


@pytest.fixture
def pair(tmp_path: Path) -> Callable[[str, Callable[[Records], None]], tuple[Path, Path]]:
    """Write sample ``name`` as A and an edited copy as B; returns both paths."""

    def make(name: str, edit: Callable[[Records], None]) -> tuple[Path, Path]:
        records = load(name)
        edited = copy.deepcopy(records)
        edit(edited)
        return write(tmp_path / "a.jsonl", records), write(tmp_path / "b.jsonl", edited)

    return make


def test_changed_tool_result(pair: Any, capsys: pytest.CaptureFixture[str]) -> None:
    def edit(records: Records) -> None:
        result = span_record(records, "get_loyalty_discount")["attributes"]
        result["gen_ai.tool.call.result"]["discount_pct"] = 15

    a, b = pair("discount_over_cap", edit)
    diff = diff_files(a, b)
    assert [row.status for row in diff.rows] == [SAME] * 4 + [CHANGED] + [SAME] * 3
    assert diff.first_divergence == 4
    (change,) = diff.rows[4].changes
    assert (change.op, change.pointer, change.old, change.new) == (
        "changed",
        f"{RESULT}/discount_pct",
        35,
        15,
    )
    assert diff.tool_summary == [
        "get_loyalty_discount(customer_id) returned a different result at /discount_pct"
    ]
    code, out, _ = run_cli(["diff", str(a), str(b), "--json"], capsys)
    report = json.loads(out)
    assert code == 1
    assert report["equivalent"] is False
    assert report["first_divergence"]["left_step"] == 5
    assert [c["pointer"] for c in report["rows"][0]["changes"]] == [f"{RESULT}/discount_pct"]


def test_inserted_tool_call(pair: Any, capsys: pytest.CaptureFixture[str]) -> None:
    def edit(records: Records) -> None:
        at = records.index(span_record(records, "lookup_order"))
        records.insert(
            at,
            {
                "type": "span",
                "span_id": "ord-new",
                "parent_id": "ord-0001",
                "kind": "tool",
                "name": "get_user",
                "start_time": "2026-11-02T10:30:00.760Z",
                "end_time": "2026-11-02T10:30:00.765Z",
                "status": "ok",
                "attributes": {
                    "gen_ai.tool.name": "get_user",
                    "gen_ai.tool.call.id": "call_u",
                    "gen_ai.tool.call.arguments": {"user_id": "u-1001"},
                    "gen_ai.tool.call.result": {"name": "Sam Ortiz"},
                },
            },
        )

    a, b = pair("order_lookup_missing_user_id", edit)
    diff = diff_files(a, b)
    assert [(r.left, r.right, r.status) for r in diff.rows] == [
        (0, 0, SAME),
        (1, 1, SAME),
        (None, 2, ADDED),
        (2, 3, SAME),
        (3, 4, SAME),
    ]
    assert diff.tool_summary == ["get_user(user_id) now called"]
    assert diff.total_deltas()["tool_calls"].change == 1
    code, out, _ = run_cli(["diff", str(a), str(b), "--plain"], capsys)
    assert code == 1
    assert "+     · ↔ 3      tool get_user" in out
    assert "get_user(user_id) now called" in out


def test_changed_system_prompt(pair: Any) -> None:
    def edit(records: Records) -> None:
        for rec in records:
            attrs = rec.get("attributes") or {}
            if "gen_ai.system_instructions" in attrs:
                attrs["gen_ai.system_instructions"] = attrs["gen_ai.system_instructions"].replace(
                    "Always pass", "Never forget to pass"
                )

    a, b = pair("order_lookup_missing_user_id", edit)
    diff = diff_files(a, b)
    assert [r.status for r in diff.rows] == [SAME, CHANGED, SAME, CHANGED]
    for n in (1, 3):
        (change,) = diff.rows[n].changes
        assert change.pointer == "/attributes/gen_ai.system_instructions"
        assert change.words is not None
        assert [(p.op, p.text) for p in change.words if p.op != "="] == [
            ("-", "Always"),
            ("+", "Never forget to"),
        ]
    assert diff.tool_summary == []


def test_identical_runs_with_other_ids_and_times_are_equivalent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = load("discount_over_cap")
    a = write(tmp_path / "a.jsonl", records)
    b = write(tmp_path / "b.jsonl", other_ids_and_times(records))
    diff = diff_files(a, b)
    assert diff.equivalent and diff.first_divergence is None
    assert all(row.status == SAME and row.left == row.right for row in diff.rows)
    assert diff.run_changes == []
    code, out, _ = run_cli(["diff", str(a), str(b), "--plain"], capsys)
    assert code == 0 and "result: the runs are equivalent" in out
    strict = diff_files(a, b, strict=True)
    assert not strict.equivalent
    pointers = {c.pointer for c in strict.rows[2].changes}
    assert {
        "/span_id",
        "/parent_id",
        "/start_time",
        "/end_time",
        "/attributes/gen_ai.tool.call.id",
    } <= pointers
    code, _, _ = run_cli(["diff", str(a), str(b), "--json", "--strict"], capsys)
    assert code == 1
    code, _, _ = run_cli(
        ["diff", str(a), str(b), "--json", "--strict", "--ignore", "ids", "--ignore", "timestamps"],
        capsys,
    )
    assert code == 0


def test_ignore_pointer_field_and_group(pair: Any) -> None:
    def edit(records: Records) -> None:
        for rec in records:
            attrs = rec.get("attributes") or {}
            if "gen_ai.usage.input_tokens" in attrs:
                attrs["gen_ai.usage.input_tokens"] += 1
        result = span_record(records, "get_loyalty_discount")["attributes"]
        result["gen_ai.tool.call.result"]["source"] = "loyalty_v3"

    a, b = pair("discount_over_cap", edit)
    assert diff_files(a, b).counts()[CHANGED] == 5
    assert diff_files(a, b, ignore=("tokens",)).counts()[CHANGED] == 1
    both = diff_files(a, b, ignore=("tokens", f"{RESULT}/source"))
    assert both.equivalent
    by_field = diff_files(a, b, ignore=("gen_ai.usage.*", "source"))
    assert by_field.equivalent


def test_token_latency_and_cost_deltas(pair: Any) -> None:
    def edit(records: Records) -> None:
        for rec in records:
            if rec.get("span_id") == "dis-0002" and rec["type"] == "span_end":
                rec["attributes"]["gen_ai.usage.output_tokens"] += 1000

    a, b = pair("discount_over_cap", edit)
    diff = diff_files(a, b)
    row = diff.rows[diff.first_divergence or 0]
    deltas = diff.deltas(row)
    assert deltas["output_tokens"].change == 1000
    assert deltas["cost"].change == pytest.approx(1000 * 10.00 / 1_000_000)  # gpt-4o output
    assert diff.total_deltas()["output_tokens"].change == 1000
    assert diff.total_deltas()["duration"].change == 0


def test_removed_tool_call_summary(pair: Any) -> None:
    def edit(records: Records) -> None:
        records[:] = [r for r in records if r.get("span_id") != "dis-0007"]

    a, b = pair("discount_over_cap", edit)
    diff = diff_files(a, b)
    assert [(r.left, r.status) for r in diff.rows if r.status != SAME] == [(6, REMOVED)]
    assert diff.tool_summary == ["apply_discount(order_id, percent) no longer called"]


def test_branch_file_alone_is_diffed_against_its_parent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = load("discount_over_cap")
    write(tmp_path / "parent.jsonl", records)
    branch = copy.deepcopy(records)
    span_record(branch, "get_loyalty_discount")["attributes"]["gen_ai.tool.call.result"][
        "discount_pct"
    ] = 15
    branch.insert(
        1,
        {
            "type": "branch",
            "name": "cap",
            "parent_run_id": "run-discount_over_cap",
            "parent_path": "parent.jsonl",
            "fork_step": 5,
            "edits": [],
            "sources": {},
            "status": "complete",
        },
    )
    path = write(tmp_path / "branch.jsonl", branch)
    code, out, _ = run_cli(["diff", str(path), "--json"], capsys)
    assert code == 1
    assert json.loads(out)["rows"][0]["changes"][0]["new"] == 15
    code, _, err = run_cli(["diff", str(tmp_path / "parent.jsonl"), "--plain"], capsys)
    assert code == 2 and "not a branch file" in err


def test_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path / "a.jsonl", load("discount_over_cap"))
    code, _, err = run_cli(["diff", str(good), str(tmp_path / "missing.jsonl"), "--plain"], capsys)
    assert code == 2 and "no such file" in err
    code, _, err = run_cli(["diff", str(good), str(good), "--plain", "--ignore", " "], capsys)
    assert code == 2 and "--ignore" in err
    (tmp_path / "junk.txt").write_text("hello\n")
    code, _, _ = run_cli(["diff", str(good), str(tmp_path / "junk.txt"), "--json"], capsys)
    assert code == 2


def test_without_a_terminal_the_screen_falls_back_to_plain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = write(tmp_path / "a.jsonl", load("tool_loop_no_progress"))
    code, out, _ = run_cli(["diff", str(good), str(good)], capsys)
    assert code == 0 and out.startswith("A: ")


def test_reports_never_emit_control_characters(tmp_path: Path) -> None:
    records = load("order_lookup_missing_user_id")
    edited = copy.deepcopy(records)
    tool_rec = span_record(edited, "lookup_order")
    tool_rec["name"] = "lookup\x1b[31m_order\u202e"
    tool_rec["attributes"]["gen_ai.tool.call.result"]["status"] = "\x1b]0;pwned\x07 lost"
    a, b = write(tmp_path / "a.jsonl", records), write(tmp_path / "b.jsonl", edited)
    diff = diff_files(a, b)
    text = "\n".join(plain_lines(diff, str(a), str(b)))
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "␛[31m" in text and "⟨U+202E⟩" in text
    json.dumps(json_report(diff, str(a), str(b)))  # machine output keeps the raw values


def test_a_branch_alone_is_compared_with_its_parent_by_a_clean_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trace = tmp_path / "run.jsonl"
    trace.write_bytes((SAMPLES / "discount_over_cap.jsonl").read_bytes())
    assert main(["fork", str(trace), "--at", "5", "--set",
                 "/attributes/gen_ai.tool.call.result/discount_pct=15"]) in (0, 3)
    (branch,) = (tmp_path / ".trace-tui").glob("*.jsonl")
    capsys.readouterr()
    assert main(["diff", str(branch), "--plain"]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"A: {trace}  (8 steps)")
