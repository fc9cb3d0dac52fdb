"""Raw provider API exchanges (agenttap dumps): llm steps from bodies, tools reconstructed.

Numbers are read off the files: one model call per ``POST`` to a model API; tool calls =
``tool_use`` blocks / ``tool_calls`` / ``function_call`` items in the responses; usage from
``response_body.usage``.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from trace_tui.core.formats.importers.api_exchanges import ApiExchangeMapper
from trace_tui.core.reading.reader import open_run

FOREIGN = Path(__file__).parent / "data" / "foreign"


def test_agenttap_anthropic_capture() -> None:
    run = open_run(FOREIGN / "wire-exchanges" / "agenttap-wire-orders.jsonl")
    assert run.format_name == "api-exchanges"
    # 2 lines = 2 POST /v1/messages; response 1 has one tool_use (toolu_0005).
    assert len(run.steps_of_kind("llm")) == 2
    (tool,) = run.steps_of_kind("tool")
    assert (tool.tool_name, tool.tool_call_id) == ("lookup_order", "toolu_0005")
    assert tool.tool_arguments == {"query": "my order"}
    # Its result is only in request 2's tool_result block.
    assert tool.tool_result.startswith('{"orders": [{"order_id": "4421"')
    assert not tool.is_error and tool.status == "ok"
    # usage 300 + 350 in (no cache), 25 + 25 out.
    totals = run.token_totals()
    assert (totals.input_tokens, totals.output_tokens) == (650, 50)
    first = run.steps_of_kind("llm")[0]
    assert first.system_prompt.startswith("You are a support agent")
    assert first.parameters == {"temperature": 0.0, "max_tokens": 1024}
    assert [t["name"] for t in first.tool_definitions] == [
        "lookup_order",
        "calculate_discount",
        "apply_discount",
    ]
    assert first.attr("url.full").endswith("/v1/messages")
    assert first.source["response_status"] == 200


def test_openai_chat_parallel_tool_calls() -> None:
    run = open_run(FOREIGN / "handmade" / "openai-chat-wire.jsonl")
    # 2 chat completions + 1 GET /v1/models (an other step); response 1 has call_w and call_t.
    assert len(run.steps_of_kind("llm")) == 2 and len(run.steps_of_kind("other")) == 1
    tools = run.steps_of_kind("tool")
    assert [(t.tool_name, t.tool_result) for t in tools] == [
        ("get_weather", '{"sky":"rain","c":12}'),
        ("get_time", "14:05"),
    ]
    # OpenAI prompt_tokens already include cached_tokens: 100 + 180 in, 40 + 100 cached.
    totals = run.token_totals()
    assert (totals.input_tokens, totals.output_tokens, totals.cache_read_tokens) == (280, 50, 140)
    first = run.steps_of_kind("llm")[0]
    assert first.system_prompt == "You are a travel assistant."
    assert first.parameters == {"temperature": 0.2, "seed": 7, "max_tokens": 256}
    # The tool ran between response 1 (t=1800000000.8) and request 2 (t=1800000001.5).
    assert abs(tools[0].duration - 0.7) < 1e-6


def test_openai_responses_streamed_response() -> None:
    run = open_run(FOREIGN / "handmade" / "openai-responses-wire.jsonl")
    first, second = run.steps_of_kind("llm")
    assert first.system_prompt == "You answer order questions."
    (tool,) = run.steps_of_kind("tool")
    assert (tool.tool_name, tool.tool_call_id, tool.tool_result) == (
        "lookup_order",
        "fc_17",
        '{"status":"shipped"}',
    )
    # Response 2 is an SSE capture; response.completed carries the output and usage.
    assert second.output_messages[0].content == "Order 17 has shipped."
    assert (second.usage.input_tokens, second.usage.cache_read_tokens) == (260, 200)
    assert run.token_totals().input_tokens == 460


def test_anthropic_stream_tool_error_and_http_error() -> None:
    run = open_run(FOREIGN / "handmade" / "anthropic-stream-wire.jsonl")
    first, second = run.steps_of_kind("llm")
    # Streamed: text "Checking" + tool_use run_sql whose input arrives as two JSON deltas.
    assert first.output_messages[0].content == "Checking"
    assert first.output_tool_calls[0].arguments == {"q": "select 1"}
    # message_start usage: 10 uncached + 900 read + 90 written; message_delta: 40 out.
    assert (first.usage.input_tokens, first.usage.output_tokens) == (1000, 40)
    (tool,) = run.steps_of_kind("tool")
    assert tool.is_error and tool.tool_result == "permission denied"  # tool_result is_error
    assert second.is_error and "529" in second.error  # the API call itself failed


def test_mapper_opens_tool_steps_before_the_next_request() -> None:
    lines = (FOREIGN / "wire-exchanges" / "agenttap-wire-orders.jsonl").read_bytes().splitlines()
    mapper = ApiExchangeMapper()
    first = list(mapper.feed(orjson.loads(lines[0]), offset=0, line=1))
    assert [(r["type"], r["kind"]) for r in first] == [("span", "llm"), ("span_start", "tool")]
    second = list(mapper.feed(orjson.loads(lines[1]), offset=len(lines[0]) + 1, line=2))
    assert [r["type"] for r in second] == ["span_end", "span"]
