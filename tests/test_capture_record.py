"""Recording with ``trace_tui.core.capture``: the real OpenAI and Anthropic clients against a
scripted server on 127.0.0.1; the trace is checked field by field against what the server
received and sent (plain and streamed; chat completions, Responses, Messages; tool calls)."""

from __future__ import annotations

import asyncio
import json
import threading
import warnings
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from wire_server import (
    WireServer,
    anthropic_message,
    anthropic_stream,
    chat_completion,
    chat_stream,
    json_reply,
    responses_object,
    responses_stream,
)

from trace_tui.core import capture
from trace_tui.core.export.validate import validate_file
from trace_tui.core.reading.reader import open_run
from trace_tui.core.replay.readiness import readiness

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Find an order",
            "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
        },
    }
]


@capture.tool
def lookup_order(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, "status": "shipped"}


@capture.tool(name="apply_discount")
def discount(order_id: str, percent: int) -> str:
    raise ValueError(f"{percent}% exceeds the cap")


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def sse_text(raw: bytes) -> str:
    return raw.decode()


def test_openai_chat_with_tool_call_recorded_field_by_field(tmp_path: Path) -> None:
    trace = tmp_path / "run.jsonl"
    with WireServer() as srv:
        srv.add(
            json_reply(
                chat_completion(tool_calls=[("call_1", "lookup_order", {"order_id": "A-17"})])
            ),
            chat_stream("It has shipped today."),
        )
        client = openai.OpenAI(
            base_url=srv.url + "/v1",
            api_key="sk-test",
            http_client=capture.http_client(),
            max_retries=0,
        )
        with capture.record(trace, agent="support", version="2.1") as run, run.agent("support"):
            first = client.chat.completions.create(
                model="gpt-4o",
                temperature=0.2,
                max_tokens=300,
                tools=TOOLS,
                messages=[
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Where is A-17?"},
                ],
            )
            call = first.choices[0].message.tool_calls[0]
            result = lookup_order(**json.loads(call.function.arguments))
            stream = client.chat.completions.create(
                model="gpt-4o",
                stream=True,
                stream_options={"include_usage": True},
                messages=[
                    {"role": "user", "content": "Where is A-17?"},
                    first.choices[0].message.model_dump(exclude_none=True),
                    {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)},
                ],
            )
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        seen = srv.seen

    assert text == "It has shipped today. "
    records = lines(trace)
    assert records[0]["type"] == "run" and records[0]["name"] == "support 2.1"
    assert records[0]["environment"]["agent_name"] == "support"
    assert records[0]["environment"]["agent_version"] == "2.1"
    assert records[0]["environment"]["trace_tui.redaction"]["redacted"] is True
    assert [r["type"] for r in records[1:]] == [
        "span_start",
        "span_start",
        "span_end",
        "span_start",
        "span_end",
        "span_start",
        "span_end",
        "span_end",
    ]
    assert validate_file(trace) == []

    run_ = open_run(trace)
    agent, llm1, tool, llm2 = run_.steps
    assert (agent.kind, llm1.kind, tool.kind, llm2.kind) == ("agent", "llm", "tool", "llm")
    assert llm1.parent_id == tool.parent_id == llm2.parent_id == agent.span_id
    sent1, body1 = json.loads(seen[0].sent), seen[0].body
    a = llm1.attributes
    assert a["gen_ai.request.model"] == body1["model"] == "gpt-4o"
    assert a["gen_ai.request.temperature"] == body1["temperature"] == 0.2
    assert a["gen_ai.request.max_tokens"] == body1["max_tokens"] == 300
    assert a["gen_ai.system_instructions"] == body1["messages"][0]["content"]
    assert a["gen_ai.input.messages"] == [
        {"role": "user", "content": body1["messages"][1]["content"]}
    ]
    assert [t["name"] for t in a["gen_ai.tool.definitions"]] == ["lookup_order"]
    assert (
        a["gen_ai.tool.definitions"][0]["parameters"] == body1["tools"][0]["function"]["parameters"]
    )
    sent_call = sent1["choices"][0]["message"]["tool_calls"][0]
    out_call = a["gen_ai.output.messages"][0]["tool_calls"][0]
    assert out_call == {
        "id": sent_call["id"],
        "name": "lookup_order",
        "arguments": json.loads(sent_call["function"]["arguments"]),
    }
    assert a["gen_ai.response.id"] == sent1["id"]
    assert a["gen_ai.response.finish_reasons"] == ["tool_calls"]
    assert a["gen_ai.usage.input_tokens"] == sent1["usage"]["prompt_tokens"]
    assert a["gen_ai.usage.output_tokens"] == sent1["usage"]["completion_tokens"]
    # The raw exchange is kept as the api-exchanges format keeps it.
    assert llm1.source[0]["request_body"] == body1
    assert llm1.source[1]["response_body"] == sent1
    assert llm1.source[1]["response_status"] == 200

    assert tool.attributes["gen_ai.tool.call.id"] == sent_call["id"]
    assert tool.attributes["gen_ai.tool.call.arguments"] == {"order_id": "A-17"}
    assert tool.attributes["gen_ai.tool.call.result"] == result

    body2 = seen[1].body
    b = llm2.attributes
    assert body2["stream"] is True
    assert b["gen_ai.input.messages"][2] == {
        "role": "tool",
        "tool_call_id": sent_call["id"],
        "content": json.dumps(result),
    }
    assert b["gen_ai.output.messages"] == [
        {"role": "assistant", "content": "It has shipped today. "}
    ]
    assert b["gen_ai.usage.output_tokens"] == 9
    assert llm2.source[1]["response_body"] == sse_text(seen[1].sent)
    assert readiness(run_).ready


def test_anthropic_messages_plain_and_streamed_with_tool_use(tmp_path: Path) -> None:
    trace = tmp_path / "run.jsonl"
    with WireServer() as srv:
        srv.add(
            json_reply(
                anthropic_message(
                    "Let me look.", tool=("toolu_1", "lookup_order", {"order_id": "B-2"})
                )
            ),
            anthropic_stream("Found it", tool=("toolu_2", "lookup_order", {"order_id": "C-3"})),
        )
        client = anthropic.Anthropic(
            base_url=srv.url,
            api_key="sk-ant-test",
            http_client=capture.http_client(),
            max_retries=0,
        )
        with capture.record(trace, agent="claude-agent"):
            msg = client.messages.create(
                model="claude-sonnet-4-5",
                max_tokens=512,
                system="Be kind.",
                stop_sequences=["END"],
                tools=[{"name": "lookup_order", "input_schema": {"type": "object"}}],
                messages=[{"role": "user", "content": "Where?"}],
            )
            with client.messages.stream(
                model="claude-sonnet-4-5",
                max_tokens=512,
                messages=[{"role": "user", "content": "Again"}],
            ) as st:
                final = st.get_final_message()
        seen = srv.seen
    assert msg.content[1].input == {"order_id": "B-2"}
    assert final.content[1].input == {"order_id": "C-3"}
    plain, streamed = open_run(trace).steps
    sent = json.loads(seen[0].sent)
    a = plain.attributes
    assert a["gen_ai.provider.name"] == "anthropic"
    assert a["gen_ai.system_instructions"] == seen[0].body["system"] == "Be kind."
    assert a["gen_ai.request.max_tokens"] == 512
    assert a["gen_ai.request.stop_sequences"] == ["END"]
    assert a["gen_ai.output.messages"][0]["content"] == "Let me look."
    assert a["gen_ai.output.messages"][0]["tool_calls"] == [
        {"id": "toolu_1", "name": "lookup_order", "arguments": {"order_id": "B-2"}}
    ]
    assert a["gen_ai.response.finish_reasons"] == [sent["stop_reason"]]
    # input tokens include cache reads (Anthropic reports them apart)
    assert a["gen_ai.usage.input_tokens"] == sent["usage"]["input_tokens"] + 10
    assert a["gen_ai.usage.cache_read.input_tokens"] == 10
    b = streamed.attributes
    assert b["gen_ai.output.messages"][0]["tool_calls"] == [
        {"id": "toolu_2", "name": "lookup_order", "arguments": {"order_id": "C-3"}}
    ]
    assert b["gen_ai.output.messages"][0]["content"] == "Found it "
    assert b["gen_ai.response.finish_reasons"] == ["tool_use"]
    assert streamed.source[1]["response_body"] == seen[1].sent.decode()


def test_openai_responses_plain_and_streamed_async(tmp_path: Path) -> None:
    trace = tmp_path / "run.jsonl"

    async def main(url: str) -> tuple[str, list[str]]:
        client = openai.AsyncOpenAI(
            base_url=url + "/v1",
            api_key="sk-test",
            http_client=capture.async_http_client(),
            max_retries=0,
        )
        plain = await client.responses.create(
            model="gpt-4.1", instructions="Short.", input="What is A-17?", temperature=0.5
        )
        events = [
            e.type
            async for e in await client.responses.create(
                model="gpt-4.1", input="And B?", stream=True
            )
        ]
        return plain.output_text, events

    with WireServer() as srv:
        srv.add(json_reply(responses_object("Shipped.")), responses_stream("Not yet shipped"))
        with capture.record(trace, agent="resp"):
            text, events = asyncio.run(main(srv.url))
        seen = srv.seen
    assert text == "Shipped." and events[-1] == "response.completed"
    plain, streamed = open_run(trace).steps
    a = plain.attributes
    assert a["gen_ai.system_instructions"] == seen[0].body["instructions"]
    assert a["gen_ai.input.messages"] == [{"role": "user", "content": "What is A-17?"}]
    assert a["gen_ai.request.temperature"] == 0.5
    assert a["gen_ai.output.messages"][0]["content"] == "Shipped."
    assert a["gen_ai.response.id"] == json.loads(seen[0].sent)["id"]
    assert streamed.attributes["gen_ai.output.messages"][0]["content"] == "Not yet shipped"
    assert streamed.source[1]["response_body"] == seen[1].sent.decode()


def test_tool_exception_recorded_and_reraised(tmp_path: Path) -> None:
    trace = tmp_path / "run.jsonl"
    with capture.record(trace, agent="a"), pytest.raises(ValueError, match="exceeds"):
        discount("A-1", percent=35)
    (step,) = open_run(trace).steps
    assert step.name == "apply_discount" and step.status == "error"
    assert step.attributes["gen_ai.tool.call.arguments"] == {"order_id": "A-1", "percent": 35}
    assert step.error == "ValueError: 35% exceeds the cap"


def test_retrieval_nested_spans_threads_and_tasks(tmp_path: Path) -> None:
    trace = tmp_path / "run.jsonl"

    @capture.retriever
    def search(query: str, k: int = 3) -> list[str]:
        return [f"doc about {query}"] if query != "nothing" else []

    async def fan_out() -> None:
        async def one(i: int) -> None:
            with capture.active_session().chain(f"task{i}"):  # type: ignore[union-attr]
                search(f"t{i}")

        await asyncio.gather(*(one(i) for i in range(3)))

    with capture.record(trace, agent="rag") as run, run.agent("rag"):
        search("refunds")
        search("nothing")
        worker = threading.Thread(target=search, args=("from a thread",))
        worker.start()
        worker.join()
        asyncio.run(fan_out())
    steps = open_run(trace).steps
    root = steps[0]
    by_name = {s.name + str(s.attributes.get("gen_ai.retrieval.query.text")): s for s in steps}
    refunds = by_name["searchrefunds"]
    assert refunds.kind == "retrieval"
    assert refunds.attributes["gen_ai.retrieval.documents"] == [{"content": "doc about refunds"}]
    assert by_name["searchnothing"].attributes["gen_ai.retrieval.documents"] == []
    assert by_name["searchfrom a thread"].parent_id == root.span_id
    for i in range(3):
        chain = by_name[f"task{i}None"]
        assert chain.parent_id == root.span_id
        assert by_name[f"searcht{i}"].parent_id == chain.span_id
    assert all(s.status == "ok" for s in steps)


def test_write_failure_is_one_warning_and_the_agent_goes_on(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with capture.record(blocker / "run.jsonl", agent="a"):
            assert lookup_order("A-1") == {"order_id": "A-1", "status": "shipped"}
            assert lookup_order("A-2")["order_id"] == "A-2"
    assert [w.category for w in caught] == [capture.CaptureWarning]


def test_secrets_masked_by_default_and_opt_out(tmp_path: Path) -> None:
    secret = "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6"
    masked, raw = tmp_path / "masked.jsonl", tmp_path / "raw.jsonl"
    with capture.record(masked, agent="a"):
        lookup_order(secret)
    with capture.record(raw, agent="a", redact=False):
        lookup_order(secret)
    assert secret not in masked.read_text() and "«redacted:" in masked.read_text()
    assert secret in raw.read_text()
    assert lines(raw)[0]["environment"]["trace_tui.redaction"]["redacted"] is False


def test_background_writer_writes_every_record_in_order_masked(tmp_path: Path) -> None:
    """``background=True``: what the agent passed is written as it was at the call, in order."""
    secret = "sk-proj-" + "Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6"
    trace = tmp_path / "run.jsonl"
    args: dict[str, Any] = {"order_id": secret}

    @capture.tool
    def mutate(order: dict[str, Any]) -> dict[str, Any]:
        return order

    with capture.record(trace, agent="a", background=True) as run, run.agent("a"):
        workers = [threading.Thread(target=lookup_order, args=(f"T-{i}",)) for i in range(4)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        mutate(args)
        args["order_id"] = "changed later"
    text = trace.read_text()
    records = lines(trace)
    assert secret not in text and "changed later" not in text
    started = [r["span_id"] for r in records if r["type"] == "span_start"]
    ended = [r["span_id"] for r in records if r["type"] == "span_end"]
    assert sorted(started) == sorted(ended) and len(started) == 6
    for span_id in started:
        kinds = [r["type"] for r in records if r.get("span_id") == span_id]
        assert kinds == ["span_start", "span_end"]


def test_a_tool_call_with_a_secret_argument_still_links_to_its_call(tmp_path: Path) -> None:
    secret = "sk-proj-" + "M1n2B3v4C5x6Z7l8K9j0H1g2F3d4S5a6"
    trace = tmp_path / "run.jsonl"
    with WireServer() as srv:
        srv.add(
            json_reply(
                chat_completion(
                    tool_calls=[
                        ("call_a", "lookup_order", {"order_id": "A-1"}),
                        ("call_b", "lookup_order", {"order_id": secret}),
                    ]
                )
            )
        )
        client = openai.OpenAI(
            base_url=srv.url + "/v1",
            api_key="sk-test",
            http_client=capture.http_client(),
            max_retries=0,
        )
        with capture.record(trace, agent="a"):
            reply = client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "both"}]
            )
            for call in reversed(reply.choices[0].message.tool_calls or []):
                lookup_order(**json.loads(call.function.arguments))
    llm, first, second = open_run(trace).steps
    assert [first.tool_call_id, second.tool_call_id] == ["call_b", "call_a"]
    assert secret not in trace.read_text()
