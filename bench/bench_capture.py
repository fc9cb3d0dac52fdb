"""Benchmark of capture overhead per model call (core/capture): what recording costs the agent.

Not a test: it prints a table and writes JSON to ``bench/out/capture.json``; recorded figures
go to ``bench/RESULTS.md`` (section "Capture overhead"). Run from the repository root::

    .venv/bin/python -m bench.bench_capture                  # 500 calls per client and setting
    .venv/bin/python -m bench.bench_capture --calls 100

The real ``openai`` client makes chat-completion calls (a tool call answer, about 1 KB of
request and response) in two settings, each without and with capture (a ``Recorder`` writing
the trace to a temporary folder, redaction on, as by default; the writer on the calling thread,
the default, and ``background=True``):

* ``in-process``: the client's transport answers from memory (httpx ``MockTransport``), so
  the difference is capture's own work per call: parsing both bodies, building the step,
  masking secrets, writing two lines.
* ``loopback``: a local HTTP server on 127.0.0.1 (a thread of this process) answers, the
  closest thing to a real round trip that needs no network; the overhead is compared with it.

Last, capture's own work without the SDK: the capture transport around the in-memory one,
against the in-memory one alone. Plain and streamed (server-sent events) responses are
measured. Calls alternate between the
two clients so load changes on a shared machine hit both; figures are medians per call, of
wall time and of the calling thread's CPU time (``time.thread_time``), which a busy machine
skews less.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai

from trace_tui.core import capture
from trace_tui.core.capture.transport import httpx_module, transport_classes

MESSAGES = [
    {"role": "system", "content": "You are Acme's order desk. " * 8},
    {"role": "user", "content": "Where is my order A-17? It was due on Monday. " * 4},
]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Look an order up by id.",
            "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
        },
    }
]


def _body() -> dict[str, Any]:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "lookup_order", "arguments": '{"order_id": "A-17"}'},
    }
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1796000000,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "logprobs": None,
                "message": {"role": "assistant", "content": None, "tool_calls": [call]},
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132},
    }


def _stream() -> bytes:
    base = {
        "id": "chatcmpl-s",
        "object": "chat.completion.chunk",
        "created": 1796000000,
        "model": "gpt-4o-2024-08-06",
    }
    words = "Your order A-17 has shipped and arrives on Thursday before noon .".split()
    chunks = [
        {**base, "choices": [{"index": 0, "delta": {"content": w + " "}, "finish_reason": None}]}
        for w in words
    ]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"


PLAIN, STREAM = json.dumps(_body()).encode(), _stream()


def _reply(stream: bool) -> tuple[bytes, str]:
    return (STREAM, "text/event-stream") if stream else (PLAIN, "application/json")


@contextmanager
def loopback() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            request = json.loads(self.rfile.read(int(self.headers["content-length"])))
            data, kind = _reply(bool(request.get("stream")))
            self.send_response(200)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def _mock_transport() -> Any:
    mod = httpx_module()

    def handle(request: Any) -> Any:
        data, kind = _reply(b'"stream":true' in request.content)
        return mod.Response(200, headers={"content-type": kind}, content=data)

    return mod.MockTransport(handle)


def _call(client: openai.OpenAI, stream: bool) -> None:
    if stream:
        for _ in client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, tools=TOOLS, temperature=0, stream=True
        ):
            pass
    else:
        client.chat.completions.create(
            model="gpt-4o", messages=MESSAGES, tools=TOOLS, temperature=0
        )


def _timed(client: openai.OpenAI, stream: bool) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.thread_time()
    _call(client, stream)
    return time.perf_counter() - wall, time.thread_time() - cpu


def measure(
    setting: str, stream: bool, background: bool, calls: int, folder: Path
) -> dict[str, Any]:
    """Interleaved calls (plain, captured, plain, ...); medians of wall and thread CPU time."""
    mod = httpx_module()
    with loopback() as url:
        if setting == "in-process":
            plain_http = mod.Client(transport=_mock_transport())
            capture_http = capture.http_client(inner=_mock_transport())
        else:
            plain_http = mod.Client()
            capture_http = capture.http_client()
        plain = openai.OpenAI(base_url=url, api_key="sk-bench", http_client=plain_http)
        captured = openai.OpenAI(base_url=url, api_key="sk-bench", http_client=capture_http)
        times: dict[str, list[tuple[float, float]]] = {"plain": [], "capture": []}
        trace = folder / f"{setting}-{stream}-{background}.jsonl"
        with capture.record(trace, agent="bench", background=background):
            for _ in range(5):  # warm up both paths (imports, pools)
                _call(plain, stream)
                _call(captured, stream)
            for _ in range(calls):
                times["plain"].append(_timed(plain, stream))
                times["capture"].append(_timed(captured, stream))
    row: dict[str, Any] = {
        "setting": setting,
        "stream": stream,
        "writer": "background" if background else "sync",
        "calls": calls,
    }
    for kind in ("wall", "cpu"):
        index = 0 if kind == "wall" else 1
        base = statistics.median(t[index] for t in times["plain"])
        with_capture = statistics.median(t[index] for t in times["capture"])
        row[f"{kind}_plain_ms"] = base * 1000
        row[f"{kind}_capture_ms"] = with_capture * 1000
        row[f"{kind}_overhead_ms"] = (with_capture - base) * 1000
        row[f"{kind}_overhead_pct"] = 100 * (with_capture - base) / base
    return row


def transport_only(calls: int, folder: Path) -> dict[str, Any]:
    """Capture's own work per call, without the SDK: the transport alone, plain vs capture."""
    mod = httpx_module()
    body = json.dumps({"model": "gpt-4o", "messages": MESSAGES, "tools": TOOLS}).encode()
    url = "http://127.0.0.1/v1/chat/completions"
    inner = _mock_transport()
    sync_cls, _ = transport_classes(mod)
    times: dict[str, list[float]] = {"plain": [], "capture": []}
    with capture.record(folder / "transport.jsonl", agent="bench") as run:
        wrapped = sync_cls(inner, run)
        for _ in range(calls):
            for kind, transport in (("plain", inner), ("capture", wrapped)):
                request = mod.Request("POST", url, content=body)
                start = time.thread_time()
                transport.handle_request(request).read()
                times[kind].append(time.thread_time() - start)
    plain, captured = (statistics.median(times[k]) * 1000 for k in ("plain", "capture"))
    return {
        "setting": "transport",
        "calls": calls,
        "cpu_plain_ms": plain,
        "cpu_capture_ms": captured,
        "cpu_overhead_ms": captured - plain,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="calls per client and setting")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        for setting in ("in-process", "loopback"):
            for stream in (False, True):
                for background in (False, True):
                    rows.append(measure(setting, stream, background, args.calls, Path(folder)))
        only = transport_only(args.calls * 4, Path(folder))
    print("medians per call; cpu = the calling thread's CPU time")
    print(
        f"transport alone (no SDK), cpu: plain {only['cpu_plain_ms']:.3f} ms, with capture "
        f"{only['cpu_capture_ms']:.3f} ms, capture's own work {only['cpu_overhead_ms']:.3f} ms"
    )
    print(
        f"{'setting':<11} {'response':<9} {'writer':<11} {'time':<5} {'plain ms':>9} "
        f"{'capture ms':>11} {'overhead ms':>12} {'overhead %':>11}"
    )
    for r in rows:
        kind = "stream" if r["stream"] else "plain"
        for t in ("wall", "cpu"):
            print(
                f"{r['setting']:<11} {kind:<9} {r['writer']:<11} {t:<5} {r[t + '_plain_ms']:>9.3f} "
                f"{r[t + '_capture_ms']:>11.3f} {r[t + '_overhead_ms']:>12.3f} "
                f"{r[t + '_overhead_pct']:>10.1f}%"
            )
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load": os.getloadavg(),
        "openai": openai.__version__,
    }
    (out / "capture.json").write_text(
        json.dumps({"meta": meta, "rows": rows, "transport": only}, indent=2)
    )


if __name__ == "__main__":
    main()
