"""Replay in code: a run recorded through the real SDKs is answered from the trace with no
network (sockets blocked, the server sees nothing), reproduces the outputs, and raises at the
first call whose request changed; concurrent calls come back in the recorded completion
order; traces we did not capture (raw API exchanges, OpenInference) drive it too."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from wire_server import (
    WireServer,
    anthropic_stream,
    chat_completion,
    chat_stream,
    json_reply,
    responses_object,
)

from trace_tui.core import capture
from trace_tui.core.reading.reader import open_run

DATA = Path(__file__).parent / "data" / "foreign"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
        },
    }
]


@capture.tool
def lookup_order(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, "status": "shipped", "eta": "Thursday"}


def support_agent(url: str, question: str = "Where is A-17?") -> list[Any]:
    """A small agent: chat + tool + streamed answer, then an Anthropic and a Responses call."""
    oa = openai.OpenAI(
        base_url=url + "/v1", api_key="sk-test", http_client=capture.http_client(), max_retries=0
    )
    an = anthropic.Anthropic(
        base_url=url, api_key="sk-ant-test", http_client=capture.http_client(), max_retries=0
    )
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Today is 2026-12-02."},
        {"role": "user", "content": question},
    ]
    first = oa.chat.completions.create(
        model="gpt-4o", messages=messages, tools=TOOLS, temperature=0
    )
    message = first.choices[0].message
    messages.append(message.model_dump(exclude_none=True))
    for call in message.tool_calls or ():
        result = lookup_order(**json.loads(call.function.arguments))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    stream = oa.chat.completions.create(
        model="gpt-4o", messages=messages, tools=TOOLS, temperature=0, stream=True
    )
    answer = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    with an.messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=200,
        messages=[{"role": "user", "content": f"Check: {answer}"}],
    ) as st:
        review = st.get_final_message().content[0].text
    summary = oa.responses.create(
        model="gpt-4.1", input=f"Summarise: {review}", temperature=0
    ).output_text
    return [message.tool_calls[0].id if message.tool_calls else None, answer, review, summary]


def script(srv: WireServer) -> None:
    srv.add(
        json_reply(chat_completion(tool_calls=[("call_9", "lookup_order", {"order_id": "A-17"})])),
        chat_stream("A-17 arrives Thursday."),
        anthropic_stream("Looks right."),
        json_reply(responses_object("Arrives Thursday; checked.")),
    )


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[Any], str]]:
    trace = tmp_path_factory.mktemp("capture") / "run.jsonl"
    with WireServer() as srv:
        script(srv)
        with capture.record(trace, agent="support", version="1.0") as run, run.agent("support"):
            outputs = support_agent(srv.url)
        assert len(srv.seen) == 4
        yield trace, outputs, srv.url


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Any socket connect during the test is refused and remembered."""
    attempts: list[Any] = []

    def refuse(self: socket.socket, address: Any) -> None:
        attempts.append(address)
        raise OSError("network blocked in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def test_replay_reproduces_outputs_with_zero_network(
    recorded: tuple[Path, list[Any], str], no_sockets: list[Any]
) -> None:
    trace, outputs, url = recorded
    with capture.replay(trace) as rep:
        assert support_agent(url) == outputs
    assert no_sockets == []
    assert [a.match for a in rep.answers] == [
        "recorded-response",
        "exact-args",
        "recorded-response",
        "recorded-response",
        "recorded-response",
    ]
    assert rep.unused_model_answers() == []


def test_show_calls_the_capture_replay_ready(recorded: tuple[Path, list[Any], str]) -> None:
    from trace_tui.core.replay.readiness import readiness

    assert readiness(open_run(recorded[0])).summary() == "replay-ready"


def test_edited_prompt_raises_at_the_first_changed_call(
    recorded: tuple[Path, list[Any], str], no_sockets: list[Any]
) -> None:
    trace, _, url = recorded
    with capture.replay(trace) as rep, pytest.raises(capture.ReplayMiss) as caught:
        support_agent(url, question="Where is A-18?")
    miss = caught.value
    assert miss.call == "model call #1 (chat gpt-4o)"
    assert miss.nearest_step == 2
    assert "/gen_ai.input.messages/0/content" in str(miss) and "A-18" in str(miss)
    assert rep.answers == [] and no_sockets == []


def test_edited_tool_result_raises_at_the_next_model_call(
    recorded: tuple[Path, list[Any], str], no_sockets: list[Any]
) -> None:
    """The in-code twin of ``fork --set /attributes/gen_ai.tool.call.result/...``."""
    trace, _, url = recorded
    rep = capture.replay(trace)
    rep.edit_tool("lookup_order", {"order_id": "A-17", "status": "lost"})
    with rep, pytest.raises(capture.ReplayMiss) as caught:
        support_agent(url)
    assert caught.value.call == "model call #2 (chat gpt-4o)"
    assert '"status": "lost"' in str(caught.value)
    assert [a.match for a in rep.answers] == ["recorded-response", "edited"]


def test_edited_tool_result_with_an_answer_gives_the_new_outcome(
    recorded: tuple[Path, list[Any], str], no_sockets: list[Any]
) -> None:
    trace, _, url = recorded
    rep = capture.replay(
        trace, responder=lambda request: "Sorry, A-17 is lost.", normalisers=["timestamps"]
    )
    rep.edit_tool("lookup_order", {"order_id": "A-17", "status": "lost"})
    with rep:
        out = support_agent(url)
    assert out[1] == "Sorry, A-17 is lost."
    assert [a.match for a in rep.answers][:3] == ["recorded-response", "edited", "live"]


def test_normalised_timestamp_still_matches(
    recorded: tuple[Path, list[Any], str], no_sockets: list[Any]
) -> None:
    """The agent's system prompt holds today's date; a recording from another day matches."""
    trace, outputs, url = recorded
    text = Path(trace).read_text().replace("2026-12-02", "2026-12-01")
    older = Path(trace).with_name("older.jsonl")
    older.write_text(text)
    with capture.replay(older):
        assert support_agent(url) == outputs
    with capture.replay(older, normalisers=()), pytest.raises(capture.ReplayMiss):
        support_agent(url)


def test_concurrent_calls_answered_in_recorded_completion_order(tmp_path: Path) -> None:
    """Three overlapping calls that finished C, A, B in the recording finish so in replay."""
    trace = tmp_path / "fan.jsonl"
    ends = {"A": "02.400", "B": "02.900", "C": "02.200"}
    records = [{"type": "run", "schema_version": 1, "run_id": "fan"}]
    for i, (name, end) in enumerate(ends.items()):
        records.append(
            {
                "type": "span",
                "span_id": f"s{i}",
                "kind": "llm",
                "name": "chat",
                "start_time": f"2026-11-02T10:00:02.00{i}Z",
                "end_time": f"2026-11-02T10:00:{end}Z",
                "status": "ok",
                "attributes": {
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.input.messages": [{"role": "user", "content": name}],
                    "gen_ai.output.messages": [{"role": "assistant", "content": f"answer {name}"}],
                },
            }
        )
    trace.write_text("".join(json.dumps(r) + "\n" for r in records))
    finished: list[str] = []

    async def fan_out() -> None:
        client = openai.AsyncOpenAI(
            base_url="http://127.0.0.1:9/v1",
            api_key="x",
            http_client=capture.async_http_client(),
            max_retries=0,
        )

        async def ask(name: str) -> None:
            reply = await client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": name}]
            )
            finished.append(reply.choices[0].message.content or "")

        await asyncio.gather(ask("A"), ask("B"), ask("C"))

    with capture.replay(trace):
        asyncio.run(fan_out())
    assert finished == ["answer C", "answer A", "answer B"]


@pytest.mark.parametrize("converted", [False, True], ids=["as-captured", "converted"])
def test_replay_from_raw_api_exchanges_we_did_not_capture(
    no_sockets: list[Any], converted: bool, tmp_path: Path
) -> None:
    """agenttap's Anthropic wire capture (as it is, and after ``trace-tui convert``, with and
    without its source records) drives the Anthropic client and the tool."""
    path = DATA / "wire-exchanges" / "agenttap-wire-orders.jsonl"
    source = path
    if converted:
        from trace_tui.core.export.convert import convert_file

        source = tmp_path / "converted.jsonl"
        convert_file(path, source, include_source=False)
    bodies = [json.loads(line)["request_body"] for line in path.read_text().splitlines()]
    for body in bodies:  # this SDK release takes temperature only as an extra body field
        body["extra_body"] = {"temperature": body.pop("temperature")}
    client = anthropic.Anthropic(
        base_url="http://127.0.0.1:9", api_key="x", http_client=capture.http_client(), max_retries=0
    )

    @capture.tool
    def lookup_order(query: str) -> Any:
        raise AssertionError("a replayed tool is not called")

    with capture.replay(source) as rep:
        first = client.messages.create(**bodies[0])
        use = next(b for b in first.content if b.type == "tool_use")
        result = lookup_order(**use.input)
        second = client.messages.create(**bodies[1])
    assert use.name == "lookup_order" and "4421" in json.dumps(result)
    assert second.content[0].text == "Order #4421 is shipped and arrives Thursday."
    assert [a.step for a in rep.answers] == [1, 2, 3]


def test_replay_from_openinference_spans(no_sockets: list[Any]) -> None:
    """An OpenInference trace (no raw bodies) answers the OpenAI client from its attributes."""
    path = DATA / "openinference" / "openinference-orders.jsonl"
    run = open_run(path)
    first_call = run.steps_of_kind("llm")[0]  # steps are in run order: the root agent first
    tools = [{"type": "function", "function": t} for t in first_call.tool_definitions]
    client = openai.OpenAI(
        base_url="http://127.0.0.1:9/v1",
        api_key="x",
        http_client=capture.http_client(),
        max_retries=0,
    )

    @capture.tool
    def lookup_order(query: str) -> Any:
        raise AssertionError("a replayed tool is not called")

    with capture.replay(path):
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": first_call.system_prompt},
            {"role": "user", "content": "Where is my order?"},
        ]
        kwargs: dict[str, Any] = {
            "model": "gpt-4o-mini",
            "temperature": 0.7,
            "seed": 42,
            "tools": tools,
        }
        first = client.chat.completions.create(messages=messages, **kwargs)
        call = first.choices[0].message.tool_calls[0]
        result = lookup_order(**json.loads(call.function.arguments))
        messages += [
            first.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)},
        ]
        final = client.chat.completions.create(messages=messages, **kwargs)
    assert final.choices[0].message.content == "Order #4421 is shipped and arrives Thursday."


def test_a_non_model_request_is_refused(no_sockets: list[Any], recorded: Any) -> None:
    client = openai.OpenAI(
        base_url="http://127.0.0.1:9/v1",
        api_key="x",
        http_client=capture.http_client(),
        max_retries=0,
    )
    with capture.replay(recorded[0]), pytest.raises(capture.ReplayMiss, match="not a model API"):
        client.models.list()
    assert no_sockets == []


def test_fork_show_and_diff_work_unchanged_on_a_capture(
    recorded: tuple[Path, list[Any], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from trace_tui.cli.commands import main

    trace = tmp_path / "run.jsonl"
    trace.write_bytes(recorded[0].read_bytes())
    assert main(["show", str(trace)]) == 0
    assert "replay:    replay-ready" in capsys.readouterr().out
    same, edited = tmp_path / "same", tmp_path / "edited"
    assert main(["fork", str(trace), "--at", "3", "--branches-dir", str(same)]) == 0
    assert "status: complete" in capsys.readouterr().out
    edit = "/attributes/gen_ai.tool.call.result/status=lost"
    assert (
        main(["fork", str(trace), "--at", "3", "--set", edit, "--branches-dir", str(edited)]) == 3
    )
    assert "needs a model response at step 4" in capsys.readouterr().out
    (branch,) = same.glob("*.jsonl")
    assert main(["diff", str(trace), str(branch), "--plain"]) == 0


def test_tools_retrievers_and_failures_replay_without_running(tmp_path: Path) -> None:
    """Async tools, retrievers and a recorded exception come back from the recording."""
    trace = tmp_path / "tools.jsonl"
    calls: list[str] = []

    @capture.tool
    async def fetch(order_id: str) -> dict[str, Any]:
        calls.append("fetch")
        return {"order_id": order_id, "total": 42.5}

    @capture.retriever
    def search(query: str) -> list[str]:
        calls.append("search")
        return [f"policy about {query}"]

    @capture.tool
    def refund(order_id: str, amount: float) -> str:
        calls.append("refund")
        raise ValueError(f"refund of {amount} exceeds the cap")

    async def agent() -> tuple[Any, Any, str]:
        order = await fetch("A-1")
        docs = search("refunds")
        try:
            refund("A-1", amount=order["total"])
            failure = ""
        except ValueError as exc:
            failure = str(exc)
        return order, docs, failure

    with capture.record(trace, agent="tools"):
        recorded = asyncio.run(agent())
    assert calls == ["fetch", "search", "refund"]
    calls.clear()
    with capture.replay(trace) as rep:
        assert asyncio.run(agent()) == recorded
    assert calls == []
    assert [a.match for a in rep.answers] == ["exact-args"] * 3
    with capture.replay(trace), pytest.raises(capture.ReplayMiss, match="nearest recorded call"):
        asyncio.run(fetch("A-2"))


def test_a_secret_in_a_prompt_is_masked_and_still_replays(tmp_path: Path) -> None:
    secret = "sk-proj-" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4"
    trace = tmp_path / "secret.jsonl"

    def ask(url: str) -> str:
        client = openai.OpenAI(
            base_url=url + "/v1",
            api_key="sk-test",
            http_client=capture.http_client(),
            max_retries=0,
        )
        reply = client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": f"Is {secret} valid?"}]
        )
        return reply.choices[0].message.content or ""

    with WireServer() as srv:
        srv.add(json_reply(chat_completion(f"No, {secret} was revoked.")))
        with capture.record(trace, agent="a"):
            said = ask(srv.url)
        text = trace.read_text()
        assert secret not in text and text.count("«redacted:") >= 4
        with capture.replay(trace):
            assert ask(srv.url).startswith("No, «redacted:")
        assert len(srv.seen) == 1
    assert said == f"No, {secret} was revoked."
