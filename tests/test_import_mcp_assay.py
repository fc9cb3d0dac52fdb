"""MCP JSON-RPC sessions (as ``assay import --format inspector`` reads them) and Assay traces.

Counted by hand from the JSON: ``tools/call`` requests (ids 1, 2, 4), responses by id (1, 3,
4): request 2 never gets one (Assay records ``timeout/no_response``), response 3 has no
request. The Assay trace is that import's golden output: 3 ``step`` + 3 ``tool_call`` records,
one with ``error: "timeout/no_response"``.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from trace_tui.core.reading.reader import open_run

FOREIGN = Path(__file__).parent / "data" / "foreign"


def test_inspector_session() -> None:
    run = open_run(FOREIGN / "mcp-inspector" / "assay_edge_case_inspector_session.json")
    assert run.format_name == "mcp-inspector"
    tools = run.steps_of_kind("tool")
    assert [t.tool_name for t in tools] == ["valid_tool", "orphan_request", "complex_tool"]
    assert [t.is_error for t in tools] == [False, True, False]
    assert tools[1].error == "no response (timeout/no_response)"
    assert tools[0].tool_result == {"content": [{"type": "text", "text": "Result 1"}]}
    assert tools[2].tool_arguments["user"]["roles"] == ["admin", "editor"]
    # The notification and the orphan error response are other steps, not dropped.
    others = run.steps_of_kind("other")
    assert [o.name for o in others] == ["notifications/initialized", "response without a request"]
    assert others[1].is_error and "-32603" in others[1].error


def test_assay_trace_matches_the_inspector_import() -> None:
    run = open_run(FOREIGN / "assay" / "assay_edge_case.trace.jsonl")
    assert run.format_name == "assay"
    tools = run.steps_of_kind("tool")
    assert [t.tool_name for t in tools] == ["valid_tool", "orphan_request", "complex_tool"]
    assert [t.is_error for t in tools] == [False, True, False]
    assert tools[1].error == "timeout/no_response"
    assert tools[2].tool_arguments == {
        "active": True,
        "user": {"name": "Alice", "roles": ["admin", "editor"]},
    }
    (episode,) = run.steps_of_kind("agent")
    assert all(run.parent_of(t) is episode for t in tools)
    assert max(run.depth_of(s) for s in run.steps) == 1
    assert run.info.run_id == "edge_case"


def test_mcp_jsonrpc_lines_and_tool_errors(tmp_path: Path) -> None:
    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "timestamp_ms": 1800000000000},
        {
            "jsonrpc": "2.0",
            "id": 1,
            "result": {"tools": [{"name": "read", "inputSchema": {"type": "object"}}]},
        },
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "read", "arguments": {"p": "/x"}},
        },
        {
            "jsonrpc": "2.0",
            "id": 2,
            "result": {"isError": True, "content": [{"type": "text", "text": "ENOENT"}]},
        },
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "read", "arguments": {}},
        },
        {"jsonrpc": "2.0", "id": 3, "error": {"code": -32602, "message": "bad params"}},
        {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progress": 1}},
    ]
    path = tmp_path / "mcp.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps(x) for x in lines) + b"\n")
    run = open_run(path)
    assert run.format_name == "mcp-jsonl"
    tools = run.steps_of_kind("tool")
    assert [t.is_error for t in tools] == [True, True]
    assert "ENOENT" in tools[0].error and "-32602" in tools[1].error
    listing = run.steps[0]
    assert listing.name == "tools/list" and listing.tool_definitions[0]["name"] == "read"
    assert len(run.steps_of_kind("other")) == 2  # tools/list and the notification
