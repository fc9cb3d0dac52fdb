"""Generate agent-framework traces offline, with the real packages, into OTLP JSON lines.

One incident, three frameworks: an agent looks up an order (tool 1), tries a refund (tool 2,
which fails), and answers. Each framework runs against a scripted OpenAI-compatible
chat-completions endpoint on 127.0.0.1 (three model calls: call ``lookup_order``, call
``refund_order``, answer), with its OpenTelemetry / OpenInference instrumentation:

* ``openai-agents.jsonl``: the OpenAI Agents SDK + ``openinference-instrumentation-openai-agents``;
* ``langgraph.jsonl``: a LangGraph ReAct agent on ``langchain-openai`` +
  ``openinference-instrumentation-langchain``;
* ``pydantic-ai.jsonl``: pydantic-ai's own GenAI instrumentation (``parts`` messages).

Spans are exported as each one ends (a ``SimpleSpanProcessor``), one
``{"resourceSpans": ...}`` object per line with hex ids, the shape the Collector's file exporter
writes: the root span ends last, so it comes last in the file.

Run: ``python tests/data/frameworks/generate.py [OUT_DIR]`` (needs the ``frameworks`` extra;
the default OUT_DIR is this folder). Nothing leaves the machine: the model is the local server,
and the Agents SDK's own trace export is replaced by the instrumentation's processor.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ORDER = "A-1042"
ANSWER = f"Order {ORDER} was delivered; the refund failed: refunds are closed for this order."


# --------------------------------------------------------------------------- the model
def scripted_reply(body: dict[str, Any]) -> dict[str, Any]:
    """The chat-completions answer to a request: by how many tool results it already has."""
    messages = body.get("messages") or []
    results = sum(1 for m in messages if m.get("role") == "tool")
    n = results + 1
    if results == 0:
        message = _calls("call_lookup_1", "lookup_order", {"order_id": ORDER})
    elif results == 1:
        message = _calls("call_refund_2", "refund_order", {"order_id": ORDER, "amount": 30})
    else:
        message = {"role": "assistant", "content": ANSWER}
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    return {
        "id": f"chatcmpl-scripted-{n}",
        "object": "chat.completion",
        "created": 1_767_000_000 + n,
        "model": body.get("model") or "gpt-4o-mini",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 50 * n, "completion_tokens": 10 + n, "total_tokens": 60 * n},
    }


def _calls(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
            }
        ],
    }


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if not self.path.endswith("/chat/completions"):
            self.send_error(404, "only /v1/chat/completions is scripted")
            return
        data = json.dumps(scripted_reply(body)).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@contextmanager
def scripted_model() -> Iterator[str]:
    """A scripted OpenAI-compatible endpoint on 127.0.0.1; yields its base URL (``.../v1``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- the exporter
def _hex(value: str) -> str:
    return base64.b64decode(value).hex() if value else ""


def _hex_ids(node: Any) -> Any:
    """Protobuf JSON writes ids in base64; the OTLP file format (and the Collector) use hex."""
    if isinstance(node, dict):
        return {
            k: _hex(v) if k in ("traceId", "spanId", "parentSpanId") else _hex_ids(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids(v) for v in node]
    return node


class FileSpanExporter:
    """Writes each export batch as one OTLP/JSON line, like the Collector's file exporter."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_bytes(b"")

    def export(self, spans: Sequence[Any]) -> Any:
        from google.protobuf.json_format import MessageToDict
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
        from opentelemetry.sdk.trace.export import SpanExportResult

        data = _hex_ids(MessageToDict(encode_spans(spans)))
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(data, separators=(",", ":"), sort_keys=False) + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True


def tracer_provider(path: Path, service: str) -> Any:
    """A tracer provider exporting every span to ``path`` as it ends."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(path)))  # type: ignore[arg-type]
    return provider


# --------------------------------------------------------------------------- the tools
def lookup_order(order_id: str) -> str:
    """Look up an order's status."""
    return json.dumps({"order_id": order_id, "status": "delivered", "total": 30})


def refund_order(order_id: str, amount: float) -> str:
    """Refund an order."""
    raise RuntimeError(f"refunds are closed for order {order_id}")


# --------------------------------------------------------------------------- the frameworks
def openai_agents(base_url: str, out: Path) -> None:
    """The OpenAI Agents SDK, traced by OpenInference."""
    from agents import (
        Agent,
        OpenAIChatCompletionsModel,
        Runner,
        function_tool,
        set_tracing_export_api_key,
    )
    from openai import AsyncOpenAI
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    set_tracing_export_api_key("unused")
    provider = tracer_provider(out, "orders-agent")
    instrumentor = OpenAIAgentsInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        client = AsyncOpenAI(base_url=base_url, api_key="scripted", max_retries=0)
        model = OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client)

        def failed(ctx: Any, error: Exception) -> str:
            return f"Error: {error}"

        agent = Agent(
            name="orders",
            instructions="You help with orders. Use the tools.",
            model=model,
            tools=[
                function_tool(lookup_order),
                function_tool(refund_order, failure_error_function=failed),
            ],
        )
        result = Runner.run_sync(agent, f"Refund order {ORDER}")
        assert result.final_output == ANSWER, result.final_output
    finally:
        instrumentor.uninstrument()
        provider.shutdown()


def langgraph(base_url: str, out: Path) -> None:
    """A LangGraph ReAct agent on langchain-openai, traced by OpenInference."""
    from langchain_core.tools import ToolException, tool
    from langchain_openai import ChatOpenAI
    from langgraph.prebuilt import create_react_agent
    from openinference.instrumentation.langchain import LangChainInstrumentor

    provider = tracer_provider(out, "orders-agent")
    instrumentor = LangChainInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        model = ChatOpenAI(
            model="gpt-4o-mini", base_url=base_url, api_key="scripted", max_retries=0
        )  # type: ignore[call-arg]

        def refund_order(order_id: str, amount: float) -> str:
            """Refund an order."""
            raise ToolException(f"refunds are closed for order {order_id}")

        refund = tool(refund_order)
        refund.handle_tool_error = True
        agent = create_react_agent(
            model, [tool(lookup_order), refund], prompt="You help with orders. Use the tools."
        )
        state = agent.invoke({"messages": [("user", f"Refund order {ORDER}")]})
        assert state["messages"][-1].content == ANSWER, state["messages"][-1]
    finally:
        instrumentor.uninstrument()
        provider.shutdown()


def pydantic_ai(base_url: str, out: Path) -> None:
    """A pydantic-ai agent with its own OpenTelemetry GenAI instrumentation."""
    from pydantic_ai import Agent, ModelRetry
    from pydantic_ai.models.instrumented import InstrumentationSettings
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    provider = tracer_provider(out, "orders-agent")
    try:
        model = OpenAIChatModel(
            "gpt-4o-mini", provider=OpenAIProvider(base_url=base_url, api_key="scripted")
        )
        agent = Agent(model, instructions="You help with orders. Use the tools.")
        agent.instrument = InstrumentationSettings(tracer_provider=provider)
        agent.tool_plain(lookup_order)

        @agent.tool_plain(retries=1)
        def refund_order(order_id: str, amount: float) -> str:
            """Refund an order."""
            raise ModelRetry(f"refunds are closed for order {order_id}")

        result = asyncio.run(agent.run(f"Refund order {ORDER}"))
        assert result.output == ANSWER, result.output
    finally:
        provider.shutdown()


FRAMEWORKS = {
    "openai-agents.jsonl": openai_agents,
    "langgraph.jsonl": langgraph,
    "pydantic-ai.jsonl": pydantic_ai,
}


def generate(out_dir: Path, names: Sequence[str] = tuple(FRAMEWORKS)) -> list[Path]:
    """Run each framework against the scripted model; returns the files written."""
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with scripted_model() as base_url:
        for name in names:
            FRAMEWORKS[name](base_url, out_dir / name)
            written.append(out_dir / name)
    return written


if __name__ == "__main__":
    for path in generate(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(path)
