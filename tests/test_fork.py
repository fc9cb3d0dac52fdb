"""Forking: JSON-patch edits on a step's native record, ``--set`` parsing, readiness refusals,
and the ``trace-tui fork`` command end to end (the parent trace is never written to)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from support import SAMPLES
from trace_tui.cli.commands import main
from trace_tui.core.reading.reader import open_run
from trace_tui.core.replay.fork import (
    ForkError,
    apply_edits,
    assignment_edit,
    cli_edits,
    diff_edits,
    outputs_edited,
    parse_cli_value,
    plan_fork,
    step_record,
)

DISCOUNT = SAMPLES / "discount_over_cap.jsonl"

RECORD = {
    "type": "span",
    "span_id": "t1",
    "parent_id": None,
    "kind": "tool",
    "name": "lookup",
    "status": "ok",
    "error": None,
    "attributes": {
        "gen_ai.tool.call.arguments": {"order_id": "A-1"},
        "gen_ai.input.messages": [
            {"role": "user", "content": "a"},
            {"role": "user", "content": "b"},
        ],
        "odd/key~name": 1,
    },
}


def test_replace_add_remove_on_objects_and_arrays() -> None:
    edits = [
        {
            "op": "replace",
            "path": "/attributes/gen_ai.tool.call.arguments/order_id",
            "value": "B-2",
        },
        {"op": "add", "path": "/attributes/gen_ai.tool.call.arguments/user_id", "value": "u-1"},
        {
            "op": "add",
            "path": "/attributes/gen_ai.input.messages/1",
            "value": {"role": "user", "content": "x"},
        },
        {
            "op": "add",
            "path": "/attributes/gen_ai.input.messages/-",
            "value": {"role": "user", "content": "z"},
        },
        {"op": "remove", "path": "/attributes/gen_ai.input.messages/0"},
        {"op": "replace", "path": "/attributes/odd~1key~0name", "value": 2},
    ]
    out = apply_edits(RECORD, edits)
    attrs = out["attributes"]
    assert attrs["gen_ai.tool.call.arguments"] == {"order_id": "B-2", "user_id": "u-1"}
    assert [m["content"] for m in attrs["gen_ai.input.messages"]] == ["x", "b", "z"]
    assert attrs["odd/key~name"] == 2
    assert RECORD["attributes"]["gen_ai.tool.call.arguments"] == {"order_id": "A-1"}  # not mutated


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"op": "replace", "path": "/attributes/nope", "value": 1}, "nothing at that path"),
        (
            {"op": "add", "path": "/attributes/nope/deeper", "value": 1},
            "/attributes/nope does not exist",
        ),
        (
            {"op": "replace", "path": "/attributes/gen_ai.input.messages/5", "value": 1},
            "out of range",
        ),
        (
            {"op": "replace", "path": "/attributes/gen_ai.input.messages/01", "value": 1},
            "not an array index",
        ),
        ({"op": "move", "path": "/attributes/x", "from": "/a"}, "not supported"),
        ({"op": "replace", "path": "/span_id", "value": "x"}, "can be edited"),
        ({"op": "replace", "path": "/kind", "value": "llm"}, "can be edited"),
        ({"op": "replace", "path": "attributes/x", "value": 1}, "starting with /"),
        ({"op": "replace", "path": "/attributes/x"}, "needs a value"),
        ({"op": "replace", "path": "/status", "value": "weird"}, "status must be"),
        ({"op": "remove", "path": "/attributes"}, "whole payload"),
    ],
)
def test_bad_edits_are_refused_with_the_reason(edit: dict, message: str) -> None:
    with pytest.raises(ForkError, match=message):
        apply_edits(RECORD, [edit])


def test_a_pointer_into_json_text_says_to_set_the_whole_value() -> None:
    record = {**RECORD, "attributes": {"gen_ai.tool.call.arguments": '{"order_id": "A-1"}'}}
    with pytest.raises(ForkError, match="set the whole value"):
        apply_edits(
            record, [{"op": "add", "path": "/attributes/gen_ai.tool.call.arguments/x", "value": 1}]
        )


def test_cli_values_are_json_with_a_plain_text_fallback() -> None:
    assert parse_cli_value("15") == 15
    assert parse_cli_value('{"a": [1, true, null]}') == {"a": [1, True, None]}
    assert parse_cli_value('"15"') == "15"
    assert parse_cli_value("Never exceed 15%") == "Never exceed 15%"
    assert parse_cli_value("") == ""
    for typo in ('{"a": 1', "[1, 2", "15 dollars", '"unterminated', "-x"):
        with pytest.raises(ForkError, match="--set-string"):
            parse_cli_value(typo)


def test_set_replaces_existing_targets_and_adds_new_ones() -> None:
    assert (
        assignment_edit(RECORD, '/attributes/gen_ai.tool.call.arguments/order_id="B"')["op"]
        == "replace"
    )
    added = assignment_edit(RECORD, "/attributes/gen_ai.tool.call.arguments/user_id=u-1")
    assert added == {
        "op": "add",
        "path": "/attributes/gen_ai.tool.call.arguments/user_id",
        "value": "u-1",
    }
    assert assignment_edit(RECORD, "/attributes/x=15", as_string=True)["value"] == "15"
    assert assignment_edit(RECORD, "/attributes/x=a=b")["value"] == "a=b"  # split on the first =
    with pytest.raises(ForkError, match="expected /json/pointer=VALUE"):
        assignment_edit(RECORD, "attributes/x")


def test_cli_edits_keep_a_stable_order() -> None:
    edits = cli_edits(
        RECORD,
        sets=["/attributes/a=1"],
        set_strings=["/attributes/b=2"],
        removes=["/attributes/odd~1key~0name"],
        patches=['[{"op": "add", "path": "/attributes/c", "value": 3}]'],
    )
    assert [e["path"] for e in edits] == [
        "/attributes/c",
        "/attributes/a",
        "/attributes/b",
        "/attributes/odd~1key~0name",
    ]
    assert [e["value"] for e in edits[:3]] == [3, 1, "2"]


def test_outputs_edited_tells_answers_from_inputs() -> None:
    assert outputs_edited(
        [{"op": "replace", "path": "/attributes/gen_ai.tool.call.result/x", "value": 1}]
    )
    assert outputs_edited(
        [{"op": "replace", "path": "/attributes/gen_ai.output.messages", "value": []}]
    )
    assert outputs_edited([{"op": "replace", "path": "/status", "value": "error"}])
    assert not outputs_edited(
        [{"op": "replace", "path": "/attributes/gen_ai.system_instructions", "value": ""}]
    )
    assert not outputs_edited(
        [{"op": "add", "path": "/attributes/gen_ai.tool.call.arguments/u", "value": 1}]
    )


def test_step_record_round_trips_through_the_reader(write_trace) -> None:
    run = open_run(DISCOUNT)
    path = write_trace([step_record(s) for s in run.steps])
    again = open_run(path)
    assert again.problems == []
    for a, b in zip(run.steps, again.steps, strict=True):
        assert (a.span_id, a.parent_id, a.kind, a.name, a.status, a.error, a.attributes) == (
            b.span_id,
            b.parent_id,
            b.kind,
            b.name,
            b.status,
            b.error,
            b.attributes,
        )
        assert a.start_time == pytest.approx(b.start_time) and a.end_time == pytest.approx(
            b.end_time
        )


def test_plan_finds_steps_by_number_or_span_id() -> None:
    run = open_run(DISCOUNT)
    assert plan_fork(run, 5).fork_step == 5
    assert plan_fork(run, "dis-0005").fork_step == 5
    assert plan_fork(run, "5").name.startswith("step5-")
    with pytest.raises(ForkError, match="step 9 does not exist"):
        plan_fork(run, 9)
    with pytest.raises(ForkError, match="no step with span id"):
        plan_fork(run, "nope")


def _unready_trace(write_trace):
    """llm 2 asks for a tool whose result was never recorded (tool step 3 has none), and the
    run goes on to another model call (a call the run ended on would need no result)."""
    llm = {
        "type": "span",
        "span_id": "l1",
        "parent_id": None,
        "kind": "llm",
        "name": "chat",
        "attributes": {
            "gen_ai.input.messages": [{"role": "user", "content": "hi"}],
            "gen_ai.output.messages": [
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c1", "name": "t", "arguments": {}}],
                }
            ],
        },
    }
    first = {
        **llm,
        "span_id": "l0",
        "attributes": {
            **llm["attributes"],
            "gen_ai.output.messages": [{"role": "assistant", "content": "hello"}],
        },
    }
    tool = {
        "type": "span",
        "span_id": "t1",
        "parent_id": None,
        "kind": "tool",
        "name": "t",
        "attributes": {"gen_ai.tool.name": "t", "gen_ai.tool.call.id": "c1"},
    }
    return write_trace([first, llm, tool, {**first, "span_id": "l2"}])


def test_a_fork_that_cannot_replay_is_refused_with_the_reason(write_trace) -> None:
    run = open_run(_unready_trace(write_trace))
    with pytest.raises(ForkError, match=r"cannot replay from step 2: no tool results .*step 2"):
        plan_fork(run, 2)
    with pytest.raises(ForkError, match="cannot replay from step 1"):
        plan_fork(run, 1)
    assert plan_fork(run, 2, check_ready=False).fork_step == 2


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fork_command_writes_a_branch_and_never_touches_the_trace(tmp_path: Path, capsys) -> None:
    trace = tmp_path / "discount_over_cap.jsonl"
    trace.write_bytes(DISCOUNT.read_bytes())
    before = _sha(trace), trace.stat().st_mtime_ns
    code = main(
        [
            "fork",
            str(trace),
            "--at",
            "5",
            "--set",
            "/attributes/gen_ai.tool.call.result/discount_pct=15",
            "--name",
            "cap",
            "--json",
        ]
    )
    assert code == 3  # stopped: needs a model response
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "needs_model_response"
    assert summary["pending"] == {"needs": "model_response", "step": 6}
    branch = Path(summary["branch"])
    assert branch == tmp_path / ".trace-tui" / "discount_over_cap--cap.jsonl"
    assert (_sha(trace), trace.stat().st_mtime_ns) == before
    head = [json.loads(line) for line in branch.read_text().splitlines()[:2]]
    assert head[1]["parent_path"] == "../discount_over_cap.jsonl"
    assert head[1]["edits"] == [
        {"op": "replace", "path": "/attributes/gen_ai.tool.call.result/discount_pct", "value": 15}
    ]
    assert head[1]["status"] == "needs_model_response" and "at step 6" in head[1]["note"]


def test_fork_command_refuses_bad_input_with_one_line(tmp_path: Path, capsys) -> None:
    trace = tmp_path / "t.jsonl"
    trace.write_bytes(DISCOUNT.read_bytes())
    assert main(["fork", str(trace), "--at", "5", "--set", "/attributes/x={oops"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--set-string" in err
    assert main(["fork", str(trace), "--set", "/attributes/x=1"]) == 2
    assert "--at STEP is required" in capsys.readouterr().err
    assert (
        main(["fork", str(trace), "--at", "5", "--responder", "python:no_such_module_xyz:f"]) == 2
    )
    assert "cannot import no_such_module_xyz" in capsys.readouterr().err
    assert not (tmp_path / ".trace-tui").exists()


def test_diff_edits_turns_an_edited_record_into_patch_operations() -> None:
    """What the screen does after ``e``: the user edits the record as JSON; we store edits."""
    edited = json.loads(json.dumps(RECORD))
    edited["attributes"]["gen_ai.tool.call.arguments"]["user_id"] = "u-1"
    edited["attributes"]["gen_ai.input.messages"][1]["content"] = "B"
    edited["attributes"]["new"] = [1, 2]
    del edited["attributes"]["odd/key~name"]
    edited["status"] = "error"
    edits = diff_edits(RECORD, edited)
    assert edits == [  # in sorted key order, whatever order the editor wrote
        {"op": "replace", "path": "/attributes/gen_ai.input.messages/1/content", "value": "B"},
        {"op": "add", "path": "/attributes/gen_ai.tool.call.arguments/user_id", "value": "u-1"},
        {"op": "add", "path": "/attributes/new", "value": [1, 2]},
        {"op": "remove", "path": "/attributes/odd~1key~0name"},
        {"op": "replace", "path": "/status", "value": "error"},
    ]
    assert apply_edits(RECORD, edits) == edited
    assert diff_edits(RECORD, json.loads(json.dumps(RECORD))) == []
    with pytest.raises(ForkError, match="span_id cannot be edited"):
        diff_edits(RECORD, {**RECORD, "span_id": "other"})
