"""Importers reuse work between model calls (converted messages, shapes) without changing what
each call's step says: the reused values equal a fresh conversion at every call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from bench.generate_sessions import claude_code_lines
from trace_tui.core.formats.importers.claude_code import ClaudeCodeMapper
from trace_tui.core.formats.importers.claude_code_refs import SourceLines
from trace_tui.core.formats.importers.claude_code_requests import RequestStore
from trace_tui.core.formats.shared.messages import normalize_messages, normalize_tools, text_of
from trace_tui.core.io.jsonl import decode_bytes

SAMPLE = Path(__file__).parent / "data" / "foreign" / "claude-code"
SAMPLE = SAMPLE / "claude-code-2.1.328_orders.jsonl"


def fresh_messages(store: RequestStore, request_id: str) -> list[dict[str, Any]]:
    """What the request's messages convert to, from scratch."""
    return normalize_messages(
        [{"role": m.get("role"), "content": m.get("content")} for m in store.messages(request_id)
         if isinstance(m, dict)]
    )  # fmt: skip


def check_session(lines: list[dict[str, Any]]) -> int:
    mapper = ClaudeCodeMapper()
    checked = 0
    shapes: dict[str, Any] = {}
    for k, line in enumerate(lines):
        if line.get("type") == "api-request":
            shapes[line.get("id")] = line.get("shapeHash")
        for record in mapper.feed(line, offset=k, line=k + 1):
            ref = line.get("requestRef")
            if record.get("type") != "span_start" or record.get("kind") != "llm" or not ref:
                continue
            attrs = record["attributes"]
            assert attrs["gen_ai.input.messages"] == fresh_messages(mapper._requests, ref)
            shape = mapper._requests._shapes.get(shapes.get(ref) or "")
            if shape is not None:
                assert attrs["gen_ai.system_instructions"] == text_of(shape.get("system"))
                assert attrs["gen_ai.tool.definitions"] == normalize_tools(shape.get("tools"))
            checked += 1
    return checked


def test_sample_requests_equal_a_fresh_conversion() -> None:
    lines = [decode_bytes(raw, 0, 1) for raw in SAMPLE.read_bytes().splitlines()]
    assert check_session([v for v in lines if isinstance(v, dict)]) == 2


def test_long_session_requests_equal_a_fresh_conversion() -> None:
    assert check_session(list(claude_code_lines(600, seed=3))) > 100


class _Store:
    """A request store fed records as the mapper feeds it (lines kept parsed)."""

    def __init__(self) -> None:
        self.lines = SourceLines()
        self.store = RequestStore(self.lines)

    def blob(self, rec: dict[str, Any]) -> None:
        self.store.add_blob(rec, self.lines.ref(0))

    def request(self, rec: dict[str, Any]) -> None:
        self.store.add_request(rec, self.lines.ref(0))

    def response(self, request_id: str, message_id: str, content: list[Any]) -> None:
        ref = self.lines.ref(0)
        self.lines.keep(ref, {"message": {"id": message_id, "content": content}})
        self.store.add_response(request_id, message_id, ref)


def test_a_response_that_grows_is_converted_again() -> None:
    feed = _Store()
    store = feed.store
    feed.request({"id": "r1", "tail": []})
    feed.response("r1", "m1", [{"type": "text", "text": "one"}])
    feed.request({"id": "r2", "base": "r1", "keep": 0, "tail": ["missing-blob"]})
    first = store.attributes("r2")
    assert first is not None
    assert first["gen_ai.input.messages"] == [{"role": "assistant", "content": "one"}]
    feed.response("r1", "m1", [{"type": "text", "text": "two"}])
    again = store.attributes("r2")
    assert again is not None
    assert again["gen_ai.input.messages"] == fresh_messages(store, "r2")
    assert len(again["gen_ai.input.messages"][0]["content"]) == 2


def test_codex_input_is_what_it_was_when_the_call_started() -> None:
    """A call that starts right after a call ended (no new input) continues the last message;
    the history is never changed in place, so the earlier call's input keeps what it had."""
    from trace_tui.core.formats.importers.codex import CodexMapper

    def item(payload: dict[str, Any]) -> dict[str, Any]:
        return {"timestamp": "2026-01-01T00:00:00Z", "type": "response_item", "payload": payload}

    def reasoning(text: str) -> dict[str, Any]:
        return item({"type": "reasoning", "summary": [{"type": "summary_text", "text": text}]})

    mapper = CodexMapper()
    lines = [
        item({"type": "message", "role": "user", "content": [{"type": "input_text",
                                                               "text": "hello"}]}),
        reasoning("first"),
        {"timestamp": "2026-01-01T00:00:01Z", "type": "event_msg",
         "payload": {"type": "task_complete"}},
        reasoning("second"),
        reasoning("third"),
        item({"type": "message", "role": "user", "content": [{"type": "input_text",
                                                               "text": "again"}]}),
        reasoning("fourth"),
    ]  # fmt: skip
    inputs = []
    for k, line in enumerate(lines):
        for record in mapper.feed(line, offset=k, line=k + 1):
            if record.get("type") == "span_start" and record.get("kind") == "llm":
                inputs.append(orjson.loads(orjson.dumps(record["attributes"]
                                                        ["gen_ai.input.messages"])))  # fmt: skip
    texts = [[str(m.get("content")) for m in messages] for messages in inputs]
    assert len(texts) == 3
    assert texts[0] == ["hello"]
    assert "first" in texts[1][1] and "second" in texts[1][1] and "third" not in texts[1][1]
    assert "third" in texts[2][1] and texts[2][2] == "again"


def test_requests_based_on_old_requests_rebuild_their_messages() -> None:
    """Only recent requests keep their message list resolved; one based on an old request
    still gets that request's first ``keep`` messages, the very objects."""
    feed = _Store()
    store = feed.store
    blobs = []
    for n in range(40):
        blob = {"role": "user" if n % 2 == 0 else "assistant", "content": f"m{n}"}
        blobs.append(blob)
        feed.blob({"hash": f"h{n}", "message": blob})
        base = {"base": f"r{n - 1}", "keep": n} if n else {}
        feed.request({"id": f"r{n}", "tail": [f"h{n}"], **base})
    assert "r3" not in store._resolved  # an old request keeps its line and responses only
    feed.request({"id": "late", "base": "r3", "keep": 2, "tail": ["h39"]})
    late = store.messages("late")
    assert late == [blobs[0], blobs[1], blobs[39]]
    assert all(a is b for a, b in zip(late, [blobs[0], blobs[1], blobs[39]], strict=True))
    whole = store.messages("r39")
    assert len(whole) == 40 and all(a is b for a, b in zip(whole, blobs, strict=True))
    attrs = store.attributes("r10")
    assert attrs is not None
    assert [m["content"] for m in attrs["gen_ai.input.messages"]] == [f"m{n}" for n in range(11)]
