"""Replay after an edit: what the recorded fixtures answer, where replay stops and why, how
answers from a person, a function or live tools carry it on, and how edits travel downstream."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from support import SAMPLES
from trace_tui.cli.commands import main
from trace_tui.core.reading.reader import open_run
from trace_tui.core.replay.engine import (
    COMPLETE,
    NEEDS_MODEL,
    NEEDS_TOOL,
    SOURCE_ERROR,
    STEP_LIMIT,
    Replay,
    Sources,
)
from trace_tui.core.replay.exchange import ModelRequest, ModelResponse, ToolCallRequest, ToolResult
from trace_tui.core.replay.fork import plan_fork
from trace_tui.core.replay.responders import SourceError

RESULT = "/attributes/gen_ai.tool.call.result"


def _attrs(record: dict[str, Any]) -> dict[str, Any]:
    return record["attributes"]


def _match(record: dict[str, Any]) -> str:
    return _attrs(record)["trace_tui.replay.match"]


@dataclass
class ScriptedModel:
    """A model source that answers from a list (or declines with None) and keeps each request."""

    answers: list[Any]
    label: str = "python:tests:scripted"
    requests: list[ModelRequest] = field(default_factory=list)

    def respond(self, request: ModelRequest) -> ModelResponse | None:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        return None if answer is None else ModelResponse.coerce(answer)


@dataclass
class LiveTools:
    """A tool source backed by a dict of functions."""

    tools: dict[str, Any]
    label: str = "python:tests.tools"
    calls: list[ToolCallRequest] = field(default_factory=list)

    def call(self, request: ToolCallRequest) -> ToolResult | None:
        self.calls.append(request)
        fn = self.tools.get(request.name)
        return None if fn is None else ToolResult(fn(**request.arguments))


def _call(name: str, call_id: str | None = None, **arguments: Any) -> dict[str, Any]:
    return {"content": None, "tool_calls": [{"id": call_id, "name": name, "arguments": arguments}]}


# --------------------------------------------------------------------------- a small trace
def _parallel_trace(write_trace) -> Path:
    """llm 1 asks for two tools at once (steps 2, 3); llm 4 answers from both results."""
    system = "You answer from tools."
    tools = [
        {"name": "weather", "parameters": {"type": "object"}},
        {"name": "clock", "parameters": {"type": "object"}},
    ]
    user = {"role": "user", "content": "Weather and time in Oslo?"}
    asked = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "c1", "name": "weather", "arguments": {"city": "Oslo"}},
            {"id": "c2", "name": "clock", "arguments": {"tz": "Europe/Oslo"}},
        ],
    }
    common = {
        "gen_ai.system_instructions": system,
        "gen_ai.tool.definitions": tools,
        "gen_ai.request.model": "m",
        "gen_ai.request.temperature": 0.0,
    }

    def span(i: int, kind: str, name: str, attrs: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "type": "span",
            "span_id": f"s{i}",
            "parent_id": None,
            "kind": kind,
            "name": name,
            "start_time": 1000.0 + i,
            "end_time": 1000.5 + i,
            "status": "ok",
            "attributes": attrs,
            **extra,
        }

    return write_trace(
        [
            {"type": "run", "schema_version": 1, "run_id": "run-par"},
            span(
                1,
                "llm",
                "chat",
                {**common, "gen_ai.input.messages": [user], "gen_ai.output.messages": [asked]},
            ),
            span(
                2,
                "tool",
                "weather",
                {
                    "gen_ai.tool.name": "weather",
                    "gen_ai.tool.call.id": "c1",
                    "gen_ai.tool.call.arguments": {"city": "Oslo"},
                    "gen_ai.tool.call.result": {"sky": "rain", "c": 7},
                },
            ),
            span(
                3,
                "tool",
                "clock",
                {
                    "gen_ai.tool.name": "clock",
                    "gen_ai.tool.call.id": "c2",
                    "gen_ai.tool.call.arguments": {"tz": "Europe/Oslo"},
                    "gen_ai.tool.call.result": "14:05",
                },
            ),
            span(
                4,
                "llm",
                "chat",
                {
                    **common,
                    "gen_ai.input.messages": [
                        user,
                        asked,
                        {
                            "role": "tool",
                            "tool_call_id": "c1",
                            "name": "weather",
                            "content": '{"sky": "rain", "c": 7}',
                        },
                        {"role": "tool", "tool_call_id": "c2", "name": "clock", "content": "14:05"},
                    ],
                    "gen_ai.output.messages": [
                        {"role": "assistant", "content": "Rainy, 7 C, 14:05."}
                    ],
                },
            ),
        ]
    )


def test_edited_tool_result_flows_into_the_next_request_and_stops_there(write_trace) -> None:
    run = open_run(_parallel_trace(write_trace))
    replay = Replay(plan_fork(run, 2, [{"op": "replace", "path": RESULT + "/sky", "value": "sun"}]))
    assert replay.run() == NEEDS_MODEL
    fork, clock = replay.replayed
    assert (_match(fork), _attrs(fork)["trace_tui.replay.source"]) == ("edited", "edited")
    assert _attrs(fork)["gen_ai.tool.call.result"] == {"sky": "sun", "c": 7}
    # the untouched parallel call is answered from its own recording
    assert (_match(clock), _attrs(clock)["trace_tui.replay.fixture_step"]) == ("exact-args", 3)
    assert _attrs(clock)["gen_ai.tool.call.result"] == "14:05"
    pending = replay.pending
    assert pending is not None and (pending.kind, pending.step_number) == ("model", 4)
    messages = pending.request.messages
    assert messages[2] == {
        "role": "tool",
        "tool_call_id": "c1",
        "name": "weather",
        "content": '{"sky": "sun", "c": 7}',
    }  # formatted like the agent did
    assert messages[3]["content"] == "14:05"
    assert replay.note == (
        "needs a model response at step 4: no recorded response matches the request "
        "(it differs from step 4 in gen_ai.input.messages)"
    )


def test_manual_answers_continue_the_replay(write_trace) -> None:
    run = open_run(_parallel_trace(write_trace))
    replay = Replay(plan_fork(run, 2, [{"op": "replace", "path": RESULT + "/sky", "value": "sun"}]))
    replay.run()
    with pytest.raises(ValueError, match="text, an assistant message"):
        replay.answer(42)
    step = replay.answer("Sunny, 7 C, 14:05.")
    assert (step.number, step.match, step.source) == (4, "manual", "manual")
    assert replay.run() == COMPLETE
    header = replay.header()[1]
    assert header["sources"] == {"model": "fixtures+manual", "tools": "fixtures"}
    assert header["status"] == "complete"
    with pytest.raises(ValueError, match="not waiting"):
        replay.answer("again")


def test_unedited_fork_reuses_every_recorded_answer(write_trace) -> None:
    run = open_run(_parallel_trace(write_trace))
    replay = Replay(plan_fork(run, 1))
    assert replay.run() == COMPLETE
    assert [_match(r) for r in replay.replayed] == [
        "recorded-response",
        "exact-args",
        "exact-args",
        "recorded-response",
    ]
    assert [_attrs(r)["trace_tui.replay.fixture_step"] for r in replay.replayed] == [1, 2, 3, 4]
    assert replay.replayed[0]["attributes"]["trace_tui.replay.forked"] is True


def test_a_responder_answer_is_checked_against_the_tool_fixtures(write_trace) -> None:
    """The model (a function here) asks again with recorded arguments: fixtures answer."""
    run = open_run(_parallel_trace(write_trace))
    model = ScriptedModel([_call("clock", "c9", tz="Europe/Oslo"), "It is 14:05."])
    replay = Replay(
        plan_fork(run, 2, [{"op": "replace", "path": RESULT + "/sky", "value": "sun"}]),
        Sources(model=model),
    )
    assert replay.run() == COMPLETE
    numbers = [(r["kind"], _match(r)) for r in replay.replayed]
    assert numbers == [
        ("tool", "edited"),
        ("tool", "exact-args"),
        ("llm", "live"),
        ("tool", "exact-args-repeat"),
        ("llm", "live"),
    ]
    diverged = replay.replayed[3]
    assert (
        diverged["span_id"].startswith("replay-")
        and _attrs(diverged)["gen_ai.tool.call.id"] == "c9"
    )
    # the generic next request = previous request + assistant answer + tool message
    last = model.requests[-1].messages
    assert last[-2]["tool_calls"][0]["id"] == "c9"
    assert last[-1] == {"role": "tool", "tool_call_id": "c9", "name": "clock", "content": "14:05"}
    assert "diverged from the recording at step 4" in replay.note


def test_a_new_tool_call_stops_with_needs_tool_result_then_live_tools_answer(write_trace) -> None:
    run = open_run(_parallel_trace(write_trace))
    edit = [{"op": "replace", "path": RESULT + "/sky", "value": "sun"}]
    replay = Replay(
        plan_fork(run, 2, edit), Sources(model=ScriptedModel([_call("weather", city="Bergen")]))
    )
    assert replay.run() == NEEDS_TOOL
    assert replay.note == (
        'needs a tool result at step 5: weather with arguments {"city":"Bergen"} '
        "has no recorded result; diverged from the recording at step 4"
    )
    generated_id = _attrs(replay.replayed[-1])["gen_ai.output.messages"][0]["tool_calls"][0]["id"]
    assert generated_id.startswith("call_")  # the model gave none: derived, not random
    tools = LiveTools({"weather": lambda city: {"sky": "fog", "city": city}})
    model = ScriptedModel(["Foggy in Bergen."])
    assert replay.resume(Sources(model=model, tools=tools)) == COMPLETE
    assert [c.arguments for c in tools.calls] == [{"city": "Bergen"}]
    assert model.requests[0].messages[-1]["content"] == '{"sky": "fog", "city": "Bergen"}'
    assert replay.header()[1]["sources"]["tools"] == "fixtures+python:tests.tools"


def test_position_fallback_is_opt_in_and_labelled(write_trace) -> None:
    run = open_run(_parallel_trace(write_trace))
    edit = [
        {"op": "replace", "path": "/attributes/gen_ai.tool.call.arguments/city", "value": "Oslo "}
    ]
    assert Replay(plan_fork(run, 2, edit)).run() == NEEDS_TOOL
    replay = Replay(plan_fork(run, 2, edit), Sources(position_fallback=True))
    replay.run()
    assert _match(replay.replayed[0]) == "position"


def test_edited_tool_arguments_show_in_the_later_assistant_message() -> None:
    run = open_run(SAMPLES / "order_lookup_missing_user_id.jsonl")
    edit = [
        {"op": "add", "path": "/attributes/gen_ai.tool.call.arguments/user_id", "value": "u-1001"}
    ]
    replay = Replay(plan_fork(run, 3, edit))
    assert replay.run() == NEEDS_TOOL and replay.pending.step_number == 3
    assert "lookup_order with arguments" in replay.note and '"user_id":"u-1001"' in replay.note
    replay.answer({"order_number": "1042", "user_id": "u-1001", "status": "in transit"})
    assert replay.run() == NEEDS_MODEL
    messages = replay.pending.request.messages
    assert messages[1]["tool_calls"][0]["arguments"] == {
        "order_number": "1042",
        "user_id": "u-1001",
    }
    assert json.loads(messages[2]["content"])["status"] == "in transit"


def test_system_prompt_edit_carries_forward_but_not_where_the_agent_dropped_it() -> None:
    """system_prompt_evicted: steps 8 and 10 were sent without a system prompt."""
    run = open_run(SAMPLES / "system_prompt_evicted.jsonl")
    recorded = {s.number: s for s in run.steps}

    def echo(request: ModelRequest) -> Any:  # answer what was recorded at that step
        return ModelResponse(
            {
                "gen_ai.output.messages": recorded[request.step_number].attributes[
                    "gen_ai.output.messages"
                ]
            }
        )

    @dataclass
    class Echo:
        label: str = "python:tests:echo"
        seen: list[ModelRequest] = field(default_factory=list)

        def respond(self, request: ModelRequest) -> ModelResponse:
            self.seen.append(request)
            return echo(request)

    model = Echo()
    edit = [
        {"op": "replace", "path": "/attributes/gen_ai.system_instructions", "value": "NEW RULES"}
    ]
    replay = Replay(plan_fork(run, 2, edit), Sources(model=model))
    assert replay.run() == COMPLETE
    systems = {r.step_number: r.system for r in model.seen}
    assert systems == {
        2: "NEW RULES",
        4: "NEW RULES",
        5: "NEW RULES",
        6: "NEW RULES",
        7: "NEW RULES",
    }
    by_number = {n: r for n, r in enumerate(replay.records, start=1)}
    for number in (8, 10):  # evicted: still no system prompt, so the recording answers
        assert "gen_ai.system_instructions" not in by_number[number]["attributes"]
        assert _match(by_number[number]) == "recorded-response"


def test_editing_a_final_answer_replays_nothing_after_it() -> None:
    run = open_run(SAMPLES / "discount_over_cap.jsonl")
    edit = [
        {"op": "replace", "path": "/attributes/gen_ai.output.messages/0/content", "value": "OK"}
    ]
    replay = Replay(plan_fork(run, 8, edit))
    assert replay.run() == COMPLETE
    [step] = replay.replayed
    assert _match(step) == "edited"
    assert replay.note == "replayed 1 step(s) from step 8"


def test_an_edit_no_request_reads_is_reported() -> None:
    run = open_run(SAMPLES / "empty_retrieval_fabrication.jsonl")
    docs = [{"id": "RP-2", "score": 0.9, "content": "Opened electronics: store credit only."}]
    edit = [{"op": "replace", "path": "/attributes/gen_ai.retrieval.documents", "value": docs}]
    replay = Replay(plan_fork(run, 3, edit))
    assert replay.run() == COMPLETE
    assert "the edit at step 3 never reached a later model request" in replay.note
    edit = [{"op": "replace", "path": RESULT + "/documents", "value": docs}]
    assert Replay(plan_fork(run, 3, edit)).run() == NEEDS_MODEL


def test_repeated_identical_calls_take_recorded_results_in_order() -> None:
    run = open_run(SAMPLES / "tool_loop_no_progress.jsonl")
    two = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "x1", "name": "check_shipment_status", "arguments": {"tracking_id": "TRK-88"}},
            {"id": "x2", "name": "check_shipment_status", "arguments": {"tracking_id": "TRK-88"}},
        ],
    }
    edit = [{"op": "replace", "path": "/attributes/gen_ai.output.messages/0", "value": two}]
    replay = Replay(plan_fork(run, 12, edit))
    assert replay.run() == NEEDS_MODEL
    tools = replay.replayed[1:]
    assert [(_match(r), _attrs(r).get("trace_tui.replay.fixture_step")) for r in tools] == [
        ("exact-args", 13),
        ("exact-args-repeat", 13),
    ]


def test_a_failing_source_stops_with_its_message_and_can_be_retried(write_trace) -> None:
    run = open_run(_parallel_trace(write_trace))
    edit = [{"op": "replace", "path": RESULT + "/sky", "value": "sun"}]
    model = ScriptedModel([SourceError("http://x/v1/chat/completions answered HTTP 500: boom")])
    replay = Replay(plan_fork(run, 2, edit), Sources(model=model))
    assert replay.run() == SOURCE_ERROR
    assert replay.note == "step 4: http://x/v1/chat/completions answered HTTP 500: boom"
    assert replay.pending is not None and replay.pending.step_number == 4
    model.answers.append("Sunny.")
    assert replay.resume() == COMPLETE


def test_the_step_limit_stops_and_can_be_raised() -> None:
    run = open_run(SAMPLES / "tool_loop_no_progress.jsonl")
    replay = Replay(plan_fork(run, 2), max_steps=3)
    assert replay.run() == STEP_LIMIT and len(replay.replayed) == 3
    assert replay.resume(max_steps=100) == COMPLETE and len(replay.replayed) == 12


def test_responder_and_tools_from_python_files_on_the_command_line(tmp_path: Path, capsys) -> None:
    trace = tmp_path / "discount_over_cap.jsonl"
    trace.write_bytes((SAMPLES / "discount_over_cap.jsonl").read_bytes())
    (tmp_path / "agent_model.py").write_text(
        "def respond(request):\n"
        "    last = request.messages[-1]\n"
        "    if last['name'] == 'get_loyalty_discount':\n"
        "        return {'content': None, 'tool_calls': [{'id': 'call_new',"
        " 'name': 'apply_discount', 'arguments': {'order_id': 'A-2291', 'percent': 15}}]}\n"
        "    return 'Applied 15% to A-2291.'\n"
    )
    (tmp_path / "agent_tools.py").write_text(
        "def apply_discount(order_id, percent):\n"
        "    return {'order_id': order_id, 'applied_pct': percent}\n"
    )
    args = [
        "fork",
        str(trace),
        "--at",
        "5",
        "--set",
        RESULT + "/discount_pct=15",
        "--responder",
        f"python:{tmp_path / 'agent_model.py'}:respond",
        "--json",
    ]
    assert main(args) == 3
    out = json.loads(capsys.readouterr().out)
    assert out["note"].startswith(
        "needs a tool result at step 7: apply_discount with arguments "
        '{"order_id":"A-2291","percent":15} has no recorded result'
    )
    args += ["--tools", f"python:{tmp_path / 'agent_tools.py'}", "--force"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(s["number"], s["match"]) for s in out["steps"]] == [
        (5, "edited"),
        (6, "live"),
        (7, "live"),
        (8, "live"),
    ]


def test_forking_a_live_trace_stops_at_the_call_still_running(write_trace) -> None:
    lines = (SAMPLES / "discount_over_cap.jsonl").read_text().splitlines()
    cut = next(i for i, line in enumerate(lines) if '"span_start", "span_id": "dis-0006"' in line)
    run = open_run(write_trace(lines[: cut + 1]))
    assert run.steps[-1].status == "running"
    replay = Replay(plan_fork(run, 4))
    assert replay.run() == NEEDS_MODEL
    assert replay.note == (
        "needs a model response at step 6: step 6 has no recorded response (it never finished)"
    )
    last = replay.all_records()[-1]
    assert (last["type"], last["status"], last["attributes"]["trace_tui.replay.pending"]) == (
        "span",
        "unset",
        "model_response",
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"a":1,"b":"é"}', '{"a":2,"b":"é"}'),  # compact, unicode kept
        ('{\n  "a": 1,\n  "b": "\\u00e9"\n}', '{\n  "a": 2,\n  "b": "\\u00e9"\n}'),  # indented
    ],
)
def test_changed_results_are_formatted_like_the_agent_did(
    write_trace, content: str, expected: str
) -> None:
    tool_msg = {"role": "tool", "tool_call_id": "c1", "name": "t", "content": content}
    asked = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c1", "name": "t", "arguments": {}}],
    }
    user = {"role": "user", "content": "go"}
    records = [
        {
            "type": "span",
            "span_id": "l1",
            "kind": "llm",
            "name": "chat",
            "attributes": {"gen_ai.input.messages": [user], "gen_ai.output.messages": [asked]},
        },
        {
            "type": "span",
            "span_id": "t1",
            "kind": "tool",
            "name": "t",
            "attributes": {
                "gen_ai.tool.name": "t",
                "gen_ai.tool.call.id": "c1",
                "gen_ai.tool.call.arguments": {},
                "gen_ai.tool.call.result": {"a": 1, "b": "é"},
            },
        },
        {
            "type": "span",
            "span_id": "l2",
            "kind": "llm",
            "name": "chat",
            "attributes": {
                "gen_ai.input.messages": [user, asked, tool_msg],
                "gen_ai.output.messages": [{"role": "assistant", "content": "done"}],
            },
        },
    ]
    run = open_run(write_trace(records))
    replay = Replay(plan_fork(run, 2, [{"op": "replace", "path": RESULT + "/a", "value": 2}]))
    assert replay.run() == NEEDS_MODEL
    assert replay.pending.request.messages[-1]["content"] == expected
