"""The API exchange light decoder: tool calls joined across lines exactly as the mapper joins
them (issue 15).

Every file here is indexed both ways (light decoder, and the mapper with ``use_light=False``)
and compared column by column and step by step (``test_light_decoders._same_both_ways``); the
files put a call's result one, two or many lines later, in parallel, twice, never, with ids
the bytes cannot vouch for, and around chunk and slice boundaries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_light_decoders import _index, _same_both_ways

from bench.generate_sessions import write_session
from trace_tui.core.formats import detect_format
from trace_tui.core.index.columns import ORIGIN_SOURCE_LINE

ANTHROPIC = "https://api.anthropic.com/v1/messages"
CHAT = "https://api.openai.com/v1/chat/completions"


def _anthropic(n: int, history: list[dict[str, Any]], calls: list[tuple[Any, str]],
               status: int = 200) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": f"step {n} é"}]
    content += [{"type": "tool_use", "id": cid, "name": name, "input": {"q": n}}
                for cid, name in calls]
    body: dict[str, Any] = {"id": f"msg_{n}", "type": "message", "model": "claude-x",
                            "content": content, "stop_reason": "tool_use" if calls else "end",
                            "usage": {"input_tokens": 10 + n, "output_tokens": n,
                                      "cache_read_input_tokens": n % 3}}
    if status >= 400:
        body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    return {"timestamp": 1_800_000_000 + n, "method": "POST", "url": ANTHROPIC,
            "request_body": {"model": "claude-x", "max_tokens": 100, "system": "s",
                             "messages": list(history)},
            "response_status": status, "response_body": body, "elapsed_ms": 500 + n}


def _result(call_id: Any, text: str, error: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id, "content": text}
    if error:
        block["is_error"] = True
    return {"role": "user", "content": [block]}


def _call(call_id: Any, name: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": "tool_use", "id": call_id, "name": name,
                                              "input": {}}]}


def _write(path: Path, lines: list[dict[str, Any] | bytes]) -> Path:
    path.write_bytes(b"".join((x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n"
                             for x in lines))
    return path


def _tricky_session() -> list[dict[str, Any] | bytes]:
    """Calls answered at once, two lines later, in parallel, twice, never; an error result;
    an HTTP failure; a plain HTTP exchange in between."""
    history: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
    lines: list[dict[str, Any] | bytes] = []
    lines.append(_anthropic(1, history, [("toolu_a", "lookup")]))
    history += [_call("toolu_a", "lookup"), _result("toolu_a", "A done")]
    lines.append(_anthropic(2, history, [("toolu_b", "search"), ("toolu_c", "fetch")]))
    lines.append({"timestamp": 1_800_000_002.5, "method": "GET", "url": "https://x/v1/models",
                  "request_body": None, "response_status": 200, "response_body": {"data": []},
                  "elapsed_ms": 5})
    history += [_call("toolu_b", "search"), _result("toolu_b", "B failed", error=True)]
    lines.append(_anthropic(3, history, [("toolu_d", "lookup")]))  # toolu_c still waits
    history += [_call("toolu_c", "fetch"), _result("toolu_c", "C late"),
                _result("toolu_c", "C twice")]
    lines.append(_anthropic(4, history, [("toolu_lost", "fetch")], status=529))
    history += [_call("toolu_d", "lookup"), _result("toolu_d", "D done")]
    lines.append(_anthropic(5, history, [("toolu_a", "again")]))  # an id used before
    history += [_result("toolu_a", "A again"), _result("toolu_unknown", "nobody asked")]
    lines.append(_anthropic(6, history, [("toolu_never", "fetch")]))
    return lines


def test_tool_calls_across_lines_are_joined_as_the_mapper_joins_them(tmp_path: Path) -> None:
    path = _write(tmp_path / "wire.jsonl", _tricky_session() * 3)
    assert detect_format(path).name == "api-exchanges"
    taken = _same_both_ways(path)
    source = _index(path, detect_format(path), True)
    try:
        run = source.run
        assert taken == len(run) - 2  # every step but those of the first line
        ids = [run.step(i).span_id for i in range(len(run))]
        assert ids[:4] == ["wire-1", "wire-1-tool-1", "wire-2", "wire-2-tool-1"]
        tools = [run.step(i) for i in range(len(run)) if run.step(i).kind == "tool"]
        by_id = {(t.span_id, t.tool_call_id): t for t in tools}
        assert by_id[("wire-2-tool-1", "toolu_b")].is_error
        assert by_id[("wire-2-tool-2", "toolu_c")].tool_result == "C late"
        # an id used twice: the first result the request holds ends it (the mapper's rule)
        assert by_id[("wire-6-tool-1", "toolu_a")].tool_result == "A done"
        assert by_id[("wire-7-tool-1", "toolu_never")].status == "running"
        assert run.step(ids.index("wire-5")).is_error  # HTTP 529
    finally:
        source.close()


@pytest.mark.parametrize(
    "call_id",
    ["1234", "None", "1e5", "toolu/slash", "tóolu", 17, "toolu_\\u0041"],
)
def test_ids_the_bytes_cannot_vouch_for_go_through_the_mapper(
    tmp_path: Path, call_id: Any
) -> None:
    history: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
    lines: list[dict[str, Any] | bytes] = [_anthropic(0, history, [])]
    history_two = [*history, _call(call_id, "lookup"), _result(call_id, "done")]
    lines += [_anthropic(1, history, [(call_id, "lookup")]), _anthropic(2, history_two, [])]
    if call_id == "toolu_\\u0041":  # the result's id written with an escaped plain letter
        lines = [lines[0], _anthropic(1, history, [("toolu_A", "lookup")]),
                 orjson.dumps(_anthropic(2, history_two, [])).replace(b"toolu_\\\\u0041",
                                                                      b"toolu_\\u0041")]
    path = _write(tmp_path / "ids.jsonl", lines * 2)
    _same_both_ways(path)
    source = _index(path, detect_format(path), True)
    try:
        tools = [source.run.step(i) for i in range(len(source.run))]
        assert [t.status for t in tools if t.kind == "tool"] == ["ok", "ok"]
    finally:
        source.close()


def test_chat_completions_with_parallel_results(tmp_path: Path) -> None:
    def line(n: int, messages: list[dict[str, Any]], calls: list[str]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": None}
        if calls:
            message["tool_calls"] = [{"id": c, "type": "function",
                                      "function": {"name": f"fn_{c}", "arguments": "{}"}}
                                     for c in calls]
        return {"timestamp": 1_800_000_000 + n, "method": "POST", "url": CHAT,
                "request_body": {"model": "gpt-x", "messages": messages},
                "response_status": 200, "response_body": {
                    "object": "chat.completion", "model": "gpt-x-1",
                    "choices": [{"message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": n, "completion_tokens": 2}},
                "elapsed_ms": 100}

    first: list[dict[str, Any]] = [{"role": "system", "content": "s"},
                                   {"role": "user", "content": "q"}]
    second = [*first, {"role": "assistant", "tool_calls": [{"id": "call_1"}, {"id": "call_2"}]},
              {"role": "tool", "tool_call_id": "call_2", "content": "two"},
              {"role": "tool", "tool_call_id": "call_1", "content": "one"}]
    lines: list[dict[str, Any] | bytes] = [line(0, first, [])]
    for n in range(1, 200, 2):
        lines += [line(n, first, ["call_1", "call_2"]), line(n + 1, second, [])]
    path = _write(tmp_path / "chat.jsonl", lines)
    assert _same_both_ways(path) == 100 * 3 + 100  # all but line 1: calls, then results


def test_a_generated_session_takes_the_light_path_across_slices(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    write_session("api-exchanges", path, 4000)  # about 6 MB: several slices and chunks
    taken = _same_both_ways(path)
    source = _index(path, detect_format(path), True)
    try:
        count = len(source.run)
        assert taken >= count - 2  # all but the first line's steps (one or two)
        assert source.run._cols.origin.count(ORIGIN_SOURCE_LINE) == taken
        assert any(source.run._cols.end_offsets(i) for i in range(count))
    finally:
        source.close()


_JUNK = [
    b"", b"{", b"[1]", b'{"x": 1}', b'  {"method": "GET"}',
    b'{"request_body": "{\\"messages\\": []}"}',
    b'{"method": "POST", "url": "https://api.anthropic.com/v1/messages", "request_body": '
    b'{"messages": {"role": "tool", "tool_call_id": "toolu_000000000002"}}, "response_body": null}',
    b'{"method": 7, "url": null, "request_body": [1], "response_body": "data: x"}',
    b'{"timestamp": "1800000000", "elapsed_ms": "12", "url": "/v1/chat/completions", '
    b'"request_body": {"messages": [{"role": "TOOL", "tool_call_id": "toolu_000000000003", '
    b'"content": "late"}]}, "response_status": "500", "response_body": {"error": "boom"}}',
    b'{"url": "/v1/responses", "request_body": {"input": [{"type": "function_call_output", '
    b'"call_id": "toolu_000000000005", "output": [{"type": "text", "text": "x"}]}]}, '
    b'"response_body": {"object": "response", "output": [{"type": "function_call", '
    b'"call_id": "fc_1", "name": "f", "arguments": "{}"}]}}',
    b'{"timestamp": 123456789012345678901234, "url": "/v1/messages", "response_body": {}}',
]


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    cut=st.floats(0.0, 1.0),
    repeat=st.lists(st.integers(0, 1000), max_size=3),
    junk=st.lists(st.tuples(st.integers(0, 1000), st.sampled_from(_JUNK)), max_size=4),
)
def test_light_path_equals_the_mapper_on_damaged_sessions(
    tmp_path: Path, cut: float, repeat: list[int], junk: list[tuple[int, bytes]]
) -> None:
    source = tmp_path / "session.jsonl"
    if not source.exists():
        write_session("api-exchanges", source, 120)
    lines = source.read_bytes().splitlines()
    for at in repeat:  # a line written twice: its tool calls wait twice, its results end one
        lines.insert(at % (len(lines) + 1), lines[at % len(lines)])
    for at, text in junk:
        lines.insert(1 + at % len(lines), text)
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / "cut.jsonl"
    path.write_bytes(data[: max(1, int(len(data) * cut))])
    try:
        detect_format(path)
    except Exception:
        return
    _same_both_ways(path)


def test_a_call_id_asked_again_while_waiting_replaces_the_first_call(tmp_path: Path) -> None:
    # The mapper keeps one waiting call per id: the second ask replaces the first, whose step
    # stays running; the result ends the second, and the same result again (the history of a
    # later request) ends nothing. Found by the hypothesis test (a line written twice).
    history: list[dict[str, Any]] = [{"role": "user", "content": "go"}]
    asked = _anthropic(1, history, [("toolu_same", "lookup")])
    answered = [*history, _call("toolu_same", "lookup"), _result("toolu_same", "done")]
    lines: list[dict[str, Any] | bytes] = [asked, asked, _anthropic(2, answered, []),
                                           _anthropic(3, answered, []), _anthropic(4, answered, [])]
    path = _write(tmp_path / "again.jsonl", lines)  # line 1 (the mapper's) asks first
    _same_both_ways(path)
    source = _index(path, detect_format(path), True)
    try:
        run = source.run
        status = {run.step(i).span_id: run.step(i).status for i in range(len(run))}
        assert status["wire-1-tool-1"] == "running" and status["wire-2-tool-1"] == "ok"
    finally:
        source.close()


def test_crlf_lines_take_the_light_path_and_agree(tmp_path: Path) -> None:
    source = tmp_path / "session.jsonl"
    write_session("api-exchanges", source, 300)
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(source.read_bytes().replace(b"\n", b"\r\n"))
    assert _same_both_ways(path) >= 290  # the spilled ends keep the line's \r: still JSON
