"""A scripted model API on 127.0.0.1 for the capture tests: OpenAI and Anthropic wire formats.

Each request pops the next scripted reply (JSON, or a server-sent-event stream sent in
chunks) and is kept, with the exact bytes sent back, so tests can compare a recorded trace
field by field with what the server received and sent. The reply builders produce the bodies
of OpenAI chat completions, OpenAI Responses and Anthropic Messages, plain and streamed.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted reply: status, content type and body bytes (SSE streams come in chunks)."""

    body: bytes
    content_type: str = "application/json"
    status: int = 200
    chunks: list[bytes] = field(default_factory=list)


@dataclass
class Seen:
    """A request the server received and the body it sent back."""

    path: str
    headers: dict[str, str]
    body: Any
    sent: bytes


class WireServer:
    """A threaded HTTP server on loopback answering from a script, in order."""

    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def setup(self) -> None:
                super().setup()
                # Small SSE chunks must not wait for delayed ACKs (Nagle).
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length)
                with server.lock:
                    reply = server.script.popleft() if server.script else _missing()
                    server.seen.append(
                        Seen(self.path, dict(self.headers), json.loads(raw or b"null"), reply.body)
                    )
                self.send_response(reply.status)
                self.send_header("content-type", reply.content_type)
                if reply.chunks:
                    self.send_header("transfer-encoding", "chunked")
                    self.end_headers()
                    for chunk in reply.chunks:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.flush()
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> WireServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(self, *replies: Reply) -> None:
        self.script.extend(replies)


def _missing() -> Reply:
    return Reply(json.dumps({"error": {"message": "no scripted reply"}}).encode(), status=500)


def json_reply(obj: Any) -> Reply:
    return Reply(json.dumps(obj).encode())


def sse_reply(events: list[tuple[str | None, Any]], *, done: bool = False) -> Reply:
    """A server-sent-event stream: one chunk per event (``event:`` line when named)."""
    chunks = []
    for name, data in events:
        head = f"event: {name}\n" if name else ""
        chunks.append(f"{head}data: {json.dumps(data)}\n\n".encode())
    if done:
        chunks.append(b"data: [DONE]\n\n")
    return Reply(b"".join(chunks), "text/event-stream", chunks=chunks)


# --------------------------------------------------------------------------- OpenAI chat
def chat_completion(
    content: str | None = None, tool_calls: list[tuple[str, str, dict[str, Any]]] = (), **kw: Any
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
            for cid, n, a in tool_calls
        ]
    return {
        "id": kw.get("id", "chatcmpl-1"),
        "object": "chat.completion",
        "created": 1795384124,
        "model": kw.get("model", "gpt-4o-2024-08-06"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if tool_calls else "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 50, "completion_tokens": 7, "total_tokens": 57},
    }


def chat_stream(
    content: str | None = None, tool_calls: list[tuple[str, str, dict[str, Any]]] = (), **kw: Any
) -> Reply:
    base = {
        "id": kw.get("id", "chatcmpl-s1"),
        "object": "chat.completion.chunk",
        "created": 1795384124,
        "model": "gpt-4o-2024-08-06",
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    events: list[tuple[str | None, Any]] = [(None, chunk({"role": "assistant", "content": ""}))]
    for piece in (content or "").split(" ") if content else ():
        events.append((None, chunk({"content": piece + " "})))
    for i, (cid, name, args) in enumerate(tool_calls):
        text = json.dumps(args)
        fn = {"name": name, "arguments": ""}
        events.append(
            (
                None,
                chunk(
                    {"tool_calls": [{"index": i, "id": cid, "type": "function", "function": fn}]}
                ),
            )
        )
        for part in (text[: len(text) // 2], text[len(text) // 2 :]):
            events.append(
                (None, chunk({"tool_calls": [{"index": i, "function": {"arguments": part}}]}))
            )
    events.append((None, chunk({}, "tool_calls" if tool_calls else "stop")))
    events.append(
        (
            None,
            {
                **base,
                "choices": [],
                "usage": {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49},
            },
        )
    )
    return sse_reply(events, done=True)


# --------------------------------------------------------------------------- OpenAI Responses
def responses_object(
    text: str | None = None,
    call: tuple[str, str, dict[str, Any]] | None = None,
    rid: str = "resp_1",
) -> dict[str, Any]:
    output: list[dict[str, Any]] = []
    if call:
        cid, name, args = call
        output.append(
            {
                "type": "function_call",
                "id": "fc_1",
                "call_id": cid,
                "name": name,
                "arguments": json.dumps(args),
                "status": "completed",
            }
        )
    if text is not None:
        output.append(
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        )
    return {
        "id": rid,
        "object": "response",
        "created_at": 1795384124,
        "status": "completed",
        "model": "gpt-4.1-2025-04-14",
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
        "usage": {
            "input_tokens": 30,
            "output_tokens": 5,
            "total_tokens": 35,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }


def responses_stream(text: str, rid: str = "resp_s1") -> Reply:
    final = responses_object(text, rid=rid)
    created = {**final, "status": "in_progress", "output": [], "usage": None}
    item = final["output"][0]
    empty_item = {**item, "status": "in_progress", "content": []}
    part = {"type": "output_text", "text": "", "annotations": []}
    events: list[tuple[str | None, Any]] = [
        (
            "response.created",
            {"type": "response.created", "sequence_number": 0, "response": created},
        ),
        (
            "response.output_item.added",
            {
                "type": "response.output_item.added",
                "sequence_number": 1,
                "output_index": 0,
                "item": empty_item,
            },
        ),
        (
            "response.content_part.added",
            {
                "type": "response.content_part.added",
                "sequence_number": 2,
                "item_id": "msg_1",
                "output_index": 0,
                "content_index": 0,
                "part": part,
            },
        ),
    ]
    n = 3
    for piece in text.split(" "):
        events.append(
            (
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "sequence_number": n,
                    "item_id": "msg_1",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": piece + " ",
                    "logprobs": [],
                },
            )
        )
        n += 1
    events.append(
        (
            "response.completed",
            {"type": "response.completed", "sequence_number": n, "response": final},
        )
    )
    return sse_reply(events)


# --------------------------------------------------------------------------- Anthropic
def anthropic_message(
    text: str | None = None,
    tool: tuple[str, str, dict[str, Any]] | None = None,
    mid: str = "msg_01",
) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if text is not None:
        content.append({"type": "text", "text": text})
    if tool:
        tid, name, args = tool
        content.append({"type": "tool_use", "id": tid, "name": name, "input": args})
    return {
        "id": mid,
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": content,
        "stop_reason": "tool_use" if tool else "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 300,
            "output_tokens": 25,
            "cache_read_input_tokens": 10,
            "cache_creation_input_tokens": 0,
        },
    }


def anthropic_stream(
    text: str, tool: tuple[str, str, dict[str, Any]] | None = None, mid: str = "msg_s1"
) -> Reply:
    start = {
        **anthropic_message(mid=mid),
        "content": [],
        "stop_reason": None,
        "usage": {"input_tokens": 120, "output_tokens": 1},
    }
    events: list[tuple[str | None, Any]] = [
        ("message_start", {"type": "message_start", "message": start}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
    ]
    for piece in text.split(" "):
        events.append(
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": piece + " "},
                },
            )
        )
    events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
    if tool:
        tid, name, args = tool
        events.append(
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 1,
                    "content_block": {"type": "tool_use", "id": tid, "name": name, "input": {}},
                },
            )
        )
        raw = json.dumps(args)
        for part in (raw[:5], raw[5:]):
            events.append(
                (
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 1,
                        "delta": {"type": "input_json_delta", "partial_json": part},
                    },
                )
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": 1}))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use" if tool else "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 15},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    return sse_reply(events)
