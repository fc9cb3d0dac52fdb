"""A live responder against a real HTTP server on loopback: a small OpenAI-compatible stub
started by the test proves the request trace-tui sends is the *edited* context.

The stub binds 127.0.0.1 on a free port, answers at most ``MAX_REQUESTS`` requests with the
canned replies it was given, records every request (headers and JSON body), and is shut down
by the fixture; each socket has a timeout so nothing can hang the suite.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from support import SAMPLES
from trace_tui.cli.commands import main
from trace_tui.core.reading.reader import open_run
from trace_tui.core.replay.engine import COMPLETE, NEEDS_TOOL, SOURCE_ERROR, Replay, Sources
from trace_tui.core.replay.fork import plan_fork
from trace_tui.core.replay.responders import OpenAICompatibleResponder

MAX_REQUESTS = 10
EDIT = {"op": "replace", "path": "/attributes/gen_ai.tool.call.result/discount_pct", "value": 15}


class StubServer(ThreadingHTTPServer):
    """Holds the canned replies and what was received."""

    daemon_threads = True
    timeout = 5

    def __init__(self, replies: list[tuple[int, Any]]) -> None:
        super().__init__(("127.0.0.1", 0), StubHandler)
        self.replies = replies
        self.received: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class StubHandler(BaseHTTPRequestHandler):
    """POST /v1/chat/completions -> the next canned reply."""

    server: StubServer
    timeout = 5

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length))
        self.server.received.append(
            {"path": self.path, "headers": dict(self.headers), "body": body}
        )
        status, reply = (
            self.server.replies.pop(0)
            if self.server.replies and len(self.server.received) <= MAX_REQUESTS
            else (503, {"error": "no more canned replies"})
        )
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Keep the test output quiet."""


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer([])
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def completion(message: dict[str, Any], finish: str) -> tuple[int, dict[str, Any]]:
    return 200, {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "model": "stub-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 500, "completion_tokens": 20, "total_tokens": 520},
    }


APPLY_15 = completion(
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_live",
                "type": "function",
                "function": {
                    "name": "apply_discount",
                    "arguments": '{"order_id": "A-2291", "percent": 15}',
                },
            }
        ],
    },
    "tool_calls",
)


def test_the_endpoint_receives_the_edited_context(stub: StubServer) -> None:
    stub.replies.append(APPLY_15)
    responder = OpenAICompatibleResponder(stub.url, environ={"OPENAI_API_KEY": "sk-test-123"})
    run = open_run(SAMPLES / "discount_over_cap.jsonl")
    replay = Replay(plan_fork(run, 5, [EDIT]), Sources(model=responder))
    assert replay.run() == NEEDS_TOOL  # the live answer asks for 15 %, never recorded
    [request] = stub.received
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test-123"
    body = request["body"]
    assert body["model"] == "gpt-4o-2024-08-06"
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["seed"]) == (
        0.0,
        1.0,
        1024,
        7,
    )
    messages = body["messages"]
    assert messages[0]["role"] == "system" and "Discounts above 20%" in messages[0]["content"]
    assert messages[2]["tool_calls"][0] == {
        "id": "call_cust",
        "type": "function",
        "function": {"name": "get_customer", "arguments": '{"customer_id": "C-118"}'},
    }
    assert messages[-1] == {
        "role": "tool",
        "tool_call_id": "call_disc",
        "content": '{"customer_id": "C-118", "discount_pct": 15, "source": "loyalty_v2"}',
    }
    assert [t["function"]["name"] for t in body["tools"]] == [
        "get_customer",
        "get_loyalty_discount",
        "apply_discount",
    ]
    step6 = replay.replayed[1]["attributes"]
    assert step6["trace_tui.replay.match"] == "live"
    assert step6["trace_tui.replay.source"] == f"openai-compatible:{stub.url}"
    assert step6["gen_ai.output.messages"][0]["tool_calls"][0]["arguments"] == {
        "order_id": "A-2291",
        "percent": 15,
    }
    assert (step6["gen_ai.usage.input_tokens"], step6["gen_ai.response.model"]) == (
        500,
        "stub-model",
    )
    assert "sk-test-123" not in json.dumps(replay.all_records())


def test_fork_command_with_a_live_model_and_the_key_from_an_env_var(
    stub: StubServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stub.replies += [
        APPLY_15,
        completion({"role": "assistant", "content": "Done: 15% applied."}, "stop"),
    ]
    (tmp_path / "shop_tools.py").write_text(
        "def apply_discount(order_id, percent):\n    return {'ok': True, 'percent': percent}\n"
    )
    monkeypatch.setenv("STUB_KEY", "sk-env")
    trace = tmp_path / "d.jsonl"
    trace.write_bytes((SAMPLES / "discount_over_cap.jsonl").read_bytes())
    code = main(
        [
            "fork",
            str(trace),
            "--at",
            "5",
            "--set",
            "/attributes/gen_ai.tool.call.result/discount_pct=15",
            "--model",
            f"openai-compatible:{stub.url}",
            "--api-key-env",
            "STUB_KEY",
            "--model-name",
            "local-7b",
            "--tools",
            f"python:{tmp_path / 'shop_tools.py'}",
            "--json",
        ]
    )
    assert code == 0, capsys.readouterr()
    out = json.loads(capsys.readouterr().out)
    assert [s["match"] for s in out["steps"]] == ["edited", "live", "live", "live"]
    assert [r["body"]["model"] for r in stub.received] == ["local-7b", "local-7b"]
    assert {r["headers"]["Authorization"] for r in stub.received} == {"Bearer sk-env"}
    second = stub.received[1]["body"]["messages"]
    assert second[-2]["tool_calls"][0]["id"] == "call_live"
    assert second[-1] == {
        "role": "tool",
        "tool_call_id": "call_live",
        "content": '{"ok": true, "percent": 15}',
    }
    # replaying the saved branch offline reuses the live answers: no new request, same bytes
    branch = Path(out["branch"])
    saved = branch.read_bytes()
    assert main(["replay", str(branch)]) == 0
    assert branch.read_bytes() == saved and len(stub.received) == 2


def test_an_endpoint_error_stops_the_replay_with_its_message(stub: StubServer) -> None:
    stub.replies.append((500, {"error": "model overloaded"}))
    run = open_run(SAMPLES / "discount_over_cap.jsonl")
    replay = Replay(
        plan_fork(run, 5, [EDIT]), Sources(model=OpenAICompatibleResponder(stub.url, environ={}))
    )
    assert replay.run() == SOURCE_ERROR
    assert replay.note.startswith(f"step 6: {stub.url}/chat/completions answered HTTP 500:")
    assert "Authorization" not in stub.received[0]["headers"]  # no key in the environment
    stub.replies.append(completion({"role": "assistant", "content": "Sorry."}, "stop"))
    assert replay.resume() == COMPLETE
