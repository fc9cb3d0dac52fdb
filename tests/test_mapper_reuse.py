"""Importers reuse work between model calls (converted messages, shapes) without changing what
each call's step says: the reused values equal a fresh conversion at every call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from bench.generate_sessions import claude_code_lines
from trace_tui.core.formats.importers.claude_code import ClaudeCodeMapper
from trace_tui.core.formats.importers.claude_code_context import RequestStore
from trace_tui.core.formats.shared.messages import normalize_messages, normalize_tools, text_of
from trace_tui.core.io.jsonl import decode_bytes

SAMPLE = Path(__file__).parent / "data" / "foreign" / "claude-code"
SAMPLE = SAMPLE / "claude-code-2.1.328_orders.jsonl"


def fresh_messages(store: RequestStore, request_id: str) -> list[dict[str, Any]]:
    """What the request's messages convert to, from scratch."""
    req = store._requests[request_id]
    return normalize_messages(
        [{"role": m.get("role"), "content": m.get("content")} for m in req.messages
         if isinstance(m, dict)]
    )  # fmt: skip


def check_session(lines: list[dict[str, Any]]) -> int:
    mapper = ClaudeCodeMapper()
    checked = 0
    for k, line in enumerate(lines):
        for record in mapper.feed(line, offset=k, line=k + 1):
            ref = line.get("requestRef")
            if record.get("type") != "span_start" or record.get("kind") != "llm" or not ref:
                continue
            attrs = record["attributes"]
            assert attrs["gen_ai.input.messages"] == fresh_messages(mapper._requests, ref)
            shape = mapper._requests._shapes.get(mapper._requests._requests[ref].shape_hash or "")
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


def test_a_response_that_grows_is_converted_again() -> None:
    store = RequestStore()
    store.add_request({"id": "r1", "tail": []})
    store.add_response("r1", {"id": "m1", "content": [{"type": "text", "text": "one"}]})
    store.add_request({"id": "r2", "base": "r1", "keep": 0, "tail": ["missing-blob"]})
    first = store.attributes("r2")
    assert first is not None
    assert first["gen_ai.input.messages"] == [{"role": "assistant", "content": "one"}]
    store.add_response("r1", {"id": "m1", "content": [{"type": "text", "text": "two"}]})
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
    """Only recent requests keep whole message lists; one based on an old request still gets
    that request's first ``keep`` messages, the very objects."""
    store = RequestStore()
    blobs = []
    for n in range(40):
        blob = {"role": "user" if n % 2 == 0 else "assistant", "content": f"m{n}"}
        blobs.append(blob)
        store.add_blob({"hash": f"h{n}", "message": blob})
        base = {"base": f"r{n - 1}", "keep": n} if n else {}
        store.add_request({"id": f"r{n}", "tail": [f"h{n}"], **base})
    store.add_request({"id": "late", "base": "r3", "keep": 2, "tail": ["h39"]})
    late = store._requests["late"].messages
    assert late == [blobs[0], blobs[1], blobs[39]]
    assert all(a is b for a, b in zip(late, [blobs[0], blobs[1], blobs[39]], strict=True))
    assert store._requests["r3"].full is None  # an old request keeps its tail only
    whole = store._requests["r39"].messages
    assert len(whole) == 40 and all(a is b for a, b in zip(whole, blobs, strict=True))
    attrs = store.attributes("r10")
    assert attrs is not None
    assert [m["content"] for m in attrs["gen_ai.input.messages"]] == [f"m{n}" for n in range(11)]
