"""MCP JSON-RPC sessions: Inspector-style exports and JSON-RPC lines, read as Assay reads them.

An ``mcp-inspector`` file is a JSON array of JSON-RPC 2.0 messages, or an object with an
``events`` (or older ``messages``) array; items may be wrapped as ``{"message": …,
"response": …}`` history entries. An ``mcp-jsonl`` file has one JSON-RPC message per line.

A ``tools/call`` request starts a ``tool`` step (``params.name`` / ``params.arguments``); the
response with the same ``id`` ends it: ``result.isError`` or a JSON-RPC ``error`` makes it an
error. A request never answered is an error "no response" (as ``assay import`` records it).
``tools/list`` results carry the tool schemas; every other message (notifications, other
methods, responses with no request) becomes an ``other`` step.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from trace_tui.core.formats.base import Head, TraceFormat
from trace_tui.core.formats.shared.common import (
    as_dict,
    as_text,
    opt_int,
    problem,
    span,
    span_end,
    span_start,
)
from trace_tui.core.formats.shared.documents import load_document
from trace_tui.core.formats.shared.messages import normalize_tools
from trace_tui.core.formats.shared.sniff import doc_shape


class McpMapper:
    """Joins JSON-RPC requests to their responses by id, one message at a time."""

    def __init__(self) -> None:
        self._n = 0
        self._open: dict[str, tuple[str, str]] = {}  # request id -> (step id, method)

    def feed(self, record: dict[str, Any], *, offset: int, line: int) -> Iterable[dict[str, Any]]:
        """Native records for one JSON-RPC message (or one history entry holding a pair)."""
        if isinstance(record.get("message"), dict) and "jsonrpc" not in record:
            out = list(self._message(record["message"], record))
            if isinstance(record.get("response"), dict):
                out += self._message(record["response"], record)
            return out
        return self._message(record, record)

    def finish(self) -> Iterable[dict[str, Any]]:
        """Requests that never got a response end as errors."""
        out = [
            span_end(step, error="no response (timeout/no_response)")
            for step, _ in self._open.values()
        ]
        self._open.clear()
        return out

    def _message(self, msg: dict[str, Any], raw: dict[str, Any]) -> list[dict[str, Any]]:
        when = _time(msg) or _time(raw)
        method = msg.get("method")
        msg_id = msg.get("id")
        self._n += 1
        if isinstance(method, str) and msg_id is not None:
            return [self._request(msg, str(msg_id), method, when)]
        if msg_id is not None and ("result" in msg or "error" in msg):
            return self._response(msg, str(msg_id), when)
        label = method if isinstance(method, str) else "JSON-RPC message"
        kind = "notification" if isinstance(method, str) else "unrecognised"
        return [
            span(
                f"mcp-{self._n}",
                "other",
                label,
                start=when,
                end=when,
                attributes={
                    "mcp.method": method,
                    "mcp.message": kind,
                    "mcp.params": msg.get("params"),
                },
                source=msg,
            )
        ]

    def _request(self, msg: dict[str, Any], msg_id: str, method: str, when: Any) -> dict[str, Any]:
        step = f"mcp-{self._n}"
        self._open[msg_id] = (step, method)
        params = as_dict(msg.get("params"))
        if method == "tools/call":
            name = str(params.get("name") or "tool")
            return span_start(
                step,
                "tool",
                name,
                start=when,
                source=msg,
                attributes={
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": name,
                    "gen_ai.tool.call.id": msg_id,
                    "gen_ai.tool.call.arguments": params.get("arguments"),
                    "mcp.method": method,
                },
            )
        return span_start(
            step,
            "other",
            method,
            start=when,
            source=msg,
            attributes={"mcp.method": method, "mcp.params": params or None},
        )

    def _response(self, msg: dict[str, Any], msg_id: str, when: Any) -> list[dict[str, Any]]:
        error = msg.get("error")
        error_text = _error_text(error) if error is not None else None
        result = msg.get("result")
        opened = self._open.pop(msg_id, None)
        if opened is None:
            return [
                span(
                    f"mcp-{self._n}",
                    "other",
                    "response without a request",
                    start=when,
                    end=when,
                    error=error_text,
                    source=msg,
                    attributes={"mcp.id": msg_id, "mcp.result": result, "mcp.error": error},
                )
            ]
        step, method = opened
        if method == "tools/call":
            if isinstance(result, dict) and result.get("isError") is True:
                error_text = as_text(result.get("content")) or "tool reported an error"
            attrs: dict[str, Any] = {"gen_ai.tool.call.result": result if error is None else error}
        elif method == "tools/list" and isinstance(result, dict):
            attrs = {
                "gen_ai.tool.definitions": normalize_tools(result.get("tools")),
                "mcp.result": result,
            }
        else:
            attrs = {"mcp.result": result if error is None else error}
        return [span_end(step, end=when, error=error_text, attributes=attrs, source=msg)]


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return f"JSON-RPC error {error.get('code')}: {error.get('message')}"
    return str(error)


def _time(msg: dict[str, Any]) -> float | None:
    value = msg.get("timestamp_ms", msg.get("timestamp"))
    number = opt_int(value)
    return number / 1000 if number else None


def read_inspector(path: Path) -> Iterator[dict[str, Any]]:
    """An Inspector-style session document: an array, or ``{"events"|"messages": [...]}``."""
    value, note = load_document(path)
    items = value
    if isinstance(value, dict):
        items = value.get("events", value.get("messages"))
    if not isinstance(items, list):
        yield problem("the document holds no array of JSON-RPC messages")
        items = []
    mapper = McpMapper()
    for index, item in enumerate(items, 1):
        if isinstance(item, dict):
            yield from mapper.feed(item, offset=0, line=index)
        else:
            yield problem(
                f"item {index} is a JSON {type(item).__name__}, not a JSON-RPC object; skipped"
            )
    yield from mapper.finish()
    if note:
        yield problem(note)


def detect_inspector(head: Head) -> bool:
    """A JSON array (or ``events``/``messages`` array) whose first item is JSON-RPC 2.0."""
    shape = doc_shape(head.data)
    return any(
        shape.value(*prefix, "jsonrpc") == "2.0" or shape.has(*prefix, "message", "jsonrpc")
        for prefix in (("[]",), ("events", "[]"), ("messages", "[]"))
    )


def detect_mcp_jsonl(head: Head) -> bool:
    """JSON lines whose first record is a JSON-RPC 2.0 message."""
    rec = head.first_record
    return isinstance(rec, dict) and rec.get("jsonrpc") == "2.0"


MCP_INSPECTOR = TraceFormat(
    name="mcp-inspector",
    title="MCP JSON-RPC session: array or {events: [...]} (as `assay import` reads it)",
    detect=detect_inspector,
    read_document=read_inspector,
)

MCP_JSONL = TraceFormat(
    name="mcp-jsonl",
    title="MCP JSON-RPC messages, one per line",
    detect=detect_mcp_jsonl,
    mapper=McpMapper,
)
