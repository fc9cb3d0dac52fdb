"""A scripted stand-in for the OpenAI chat completions API on 127.0.0.1, so the example runs
offline. It speaks the real wire format (JSON, or server-sent events when ``stream`` is set):

* the last message is the user's: it asks for the ``lookup_order`` tool with the order id
  found in the question;
* the last message is a tool result: it answers with the order's status from that result.

Start it with :func:`serve` (a context manager yielding the base URL).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def reply_to(request: dict[str, Any], n: int) -> dict[str, Any]:
    """The assistant message (and finish reason) this scripted model gives."""
    last = request["messages"][-1]
    if last["role"] == "tool":
        order = json.loads(last["content"])
        text = f"Order {order['order_id']} is {order['status']}."
        if order.get("eta"):
            text += f" It arrives {order['eta']}."
        return {"role": "assistant", "content": text}
    found = re.search(r"[A-Z]-\d+", str(last.get("content")))
    args = json.dumps({"order_id": found.group(0) if found else "unknown"})
    call = {
        "id": f"call_{n:03d}",
        "type": "function",
        "function": {"name": "lookup_order", "arguments": args},
    }
    return {"role": "assistant", "content": None, "tool_calls": [call]}


def _completion(message: dict[str, Any], n: int) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{n:03d}",
        "object": "chat.completion",
        "created": 1796000000 + n,
        "model": "scripted-1",
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
            }
        ],
        "usage": {"prompt_tokens": 42, "completion_tokens": 9, "total_tokens": 51},
    }


def _events(body: dict[str, Any]) -> bytes:
    base = {k: body[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}
    choice = body["choices"][0]
    message = choice["message"]
    chunks: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
    for word in (message.get("content") or "").split(" ") if message.get("content") else ():
        chunks.append({"content": word + " "})
    for i, call in enumerate(message.get("tool_calls") or ()):
        chunks.append({"tool_calls": [{"index": i, **call}]})
    out = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in chunks]
    out.append(
        {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}]}
    )
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in out) + b"data: [DONE]\n\n"


@contextlib.contextmanager
def serve(pace: float = 0.0) -> Iterator[str]:
    """Run the scripted model on a free loopback port; ``pace`` seconds of "thinking" a call."""
    counter = iter(range(1, 1_000_000))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            request = json.loads(self.rfile.read(int(self.headers["content-length"])))
            time.sleep(pace)
            n = next(counter)
            body = _completion(reply_to(request, n), n)
            data = _events(body) if request.get("stream") else json.dumps(body).encode()
            self.send_response(200)
            kind = "text/event-stream" if request.get("stream") else "application/json"
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
