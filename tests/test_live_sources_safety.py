"""Issue 13, items 8 and 9: live sources run nothing and send nothing unasked.

``--tools python:MODULE`` exposes only functions the module defines (or lists in ``TOOLS``),
never one it imports (``from subprocess import run``). ``--model`` never follows a redirect,
so the API key reaches only the URL given, and a URL with a query string gets
``/chat/completions`` in its path. Servers are ours, on loopback.
"""

from __future__ import annotations

import json
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from trace_tui.core.replay.exchange import ModelRequest, ToolCallRequest
from trace_tui.core.replay.responders import (
    OpenAICompatibleResponder,
    PythonTools,
    SourceError,
    chat_completions_url,
)

REPLY = {"choices": [{"message": {"role": "assistant", "content": "hi"},
                      "finish_reason": "stop"}]}


def test_imported_functions_are_not_tools(tmp_path: Path) -> None:
    module = tmp_path / "my_tools.py"
    module.write_text(textwrap.dedent("""
        from subprocess import run
        from os import system as system
        import shutil

        def lookup(order_id):
            return {"order": order_id}
    """))
    tools = PythonTools(str(module))
    assert set(tools.tools) == {"lookup"}
    call = ToolCallRequest("run", {"args": ["touch", "x"]}, step_number=3)
    assert tools.call(call) is None


def test_tools_table_registers_imported_functions_explicitly(tmp_path: Path) -> None:
    module = tmp_path / "table_tools.py"
    module.write_text("from json import dumps\nTOOLS = {'dump': dumps}\n")
    assert set(PythonTools(str(module)).tools) == {"dump"}


class Recorder(ThreadingHTTPServer):
    daemon_threads = True
    timeout = 5

    def __init__(self, redirect_to: str | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.redirect_to = redirect_to
        self.seen: list[dict[str, Any]] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: Recorder
    timeout = 5

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.seen.append({"path": self.path, "headers": dict(self.headers)})
        if self.server.redirect_to and len(self.server.seen) < 5:
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = json.dumps(REPLY).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet."""


def _serve(server: Recorder) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    return thread


@pytest.fixture
def servers() -> Iterator[tuple[Recorder, Recorder]]:
    other = Recorder()
    first = Recorder(redirect_to=f"{other.base}/steal/chat/completions")
    threads = [_serve(first), _serve(other)]
    yield first, other
    for server in (first, other):
        server.shutdown()
        server.server_close()
    for thread in threads:
        thread.join(timeout=5)


def _request() -> ModelRequest:
    return ModelRequest(
        {"gen_ai.request.model": "m",
         "gen_ai.input.messages": [{"role": "user", "content": "hello"}]},
        step_number=2,
    )


def test_a_redirect_is_not_followed_and_the_key_stays_home(
    servers: tuple[Recorder, Recorder],
) -> None:
    first, other = servers
    responder = OpenAICompatibleResponder(f"{first.base}/v1", environ={"OPENAI_API_KEY": "sk-k"})
    with pytest.raises(SourceError, match="redirect"):
        responder.respond(_request())
    assert len(first.seen) == 1 and first.seen[0]["headers"]["Authorization"] == "Bearer sk-k"
    assert other.seen == []


def test_a_query_string_stays_after_the_path(servers: tuple[Recorder, Recorder]) -> None:
    _, other = servers
    responder = OpenAICompatibleResponder(f"{other.base}/v1?api-version=2024-06-01", environ={})
    assert responder.respond(_request()) is not None
    assert other.seen[0]["path"] == "/v1/chat/completions?api-version=2024-06-01"
    assert chat_completions_url("http://h/v1/chat/completions/?a=1") == (
        "http://h/v1/chat/completions?a=1"
    )
