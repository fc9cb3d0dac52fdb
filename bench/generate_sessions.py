"""Synthetic agent sessions for the benchmarks: Claude Code, Codex rollouts, raw API exchanges.

Shapes follow the real samples in ``shared/samples`` (``claude-code-2.1.328_orders.jsonl``,
``codex-0.169.0_orders.jsonl``, ``agenttap-wire-orders.jsonl``) and FORMATS.md, so trace-tui
detects each file as its format and indexes it without problems:

* **Claude Code** (2.1.328): a session of turns. A turn is a prompt, an attachment, rounds of
  ``api-request-blob`` + ``api-request`` (``base``/``keep``/``tail``), an assistant text line
  and a ``tool_use`` line sharing one ``message.id``, the ``tool_result`` user line with
  ``toolUseResult``; then the answer and a ``last-prompt`` record. Every line links to the
  previous one by ``parentUuid``. Every 20 turns the context is compacted (``compact_boundary``
  + ``isCompactSummary``), as long sessions are, which starts a new request chain.
* **Codex** (0.169.0): ``session_meta`` with base instructions, then turns: ``task_started``,
  ``turn_context``, the user prompt, rounds of ``reasoning`` + ``function_call``,
  ``token_usage_record``, ``token_count``, ``function_call_output``; the answer,
  ``task_complete``. Every 20 turns a ``compacted`` line replaces the history.
* **API exchanges** (agenttap ``TappedCall`` dumps): conversations of a few tool rounds, every
  request carrying the conversation so far; two in three through Anthropic Messages, one
  through OpenAI chat completions.

``steps`` is the number of steps trace-tui's index shows (each writer counts the steps its
records make); the files are about 1.2-2 KB per step. Output is deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from bench.generate import _T0, _TOOLS, _text, iso

#: Turns between two compactions (keeps the context, and the importers' per-call copies of
#: it, the size a real session's context has).
COMPACT_EVERY = 20


def _uuid(kind: int, n: int) -> str:
    mid = f"{n >> 32 & 0xFFFF:04x}-4{n >> 20 & 0xFFF:03x}-8{n >> 8 & 0xFFF:03x}"
    return f"{kind:08x}-{mid}-{n:012x}"


def _hash(n: int) -> str:
    return f"{n:064x}"


# ---------------------------------------------------------------------------- Claude Code
_CC_SESSION = "36c0f558-637e-45df-a117-b02b61aa02eb"
_CC_COMMON = {"userType": "external", "entrypoint": "cli", "cwd": "/home/dev/shop",
              "sessionId": _CC_SESSION, "version": "2.1.328", "gitBranch": "main"}
_CC_PARAMS = {"model": "claude-sonnet-4-5",
              "betas": ["claude-code-20250219", "interleaved-thinking-2025-05-14",
                        "context-management-2025-06-27"],
              "max_tokens": 32000, "thinking": {"budget_tokens": 31999, "type": "enabled"}}
_CC_USAGE_EXTRA = {"output_tokens_details": {"thinking_tokens": 0},
                   "server_tool_use": {"web_search_requests": 0, "web_fetch_requests": 0},
                   "service_tier": "standard",
                   "cache_creation": {"ephemeral_1h_input_tokens": 0,
                                      "ephemeral_5m_input_tokens": 0}}
_CC_SHAPE = "d326245c4a845f3bba503fb67c65985a2f9ae91a0f5f2610d6c17a4f29fe7610"


class _Clock:
    def __init__(self) -> None:
        self.t = _T0

    def tick(self, seconds: float) -> str:
        self.t += seconds
        return iso(self.t)


def claude_code_lines(steps: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Claude Code transcript lines making ``steps`` steps (a little more: whole turns)."""
    rng, clock = random.Random(seed), _Clock()
    n = [0]

    def new_uuid() -> str:
        n[0] += 1
        return _uuid(0xCC, n[0])

    yield {"type": "queue-operation", "operation": "enqueue", "timestamp": clock.tick(0),
           "sessionId": _CC_SESSION, "content": "Fix the failing order tests"}
    yield {"type": "queue-operation", "operation": "dequeue", "timestamp": clock.tick(0.01),
           "sessionId": _CC_SESSION}
    yield {"type": "api-request-shape", "sessionId": _CC_SESSION, "shapeHash": _CC_SHAPE,
           "timestamp": clock.tick(0.01), "version": "2.1.328", "shape": {
               "system": [{"type": "text", "text": "You are a Claude agent, built on Anthropic's "
                           "Claude Agent SDK. " + " ".join(["Use the tools to help."] * 60)}],
               "tools": [{"name": t, "description": f"Run {t} in the working directory.",
                          "input_schema": {"type": "object", "properties": {
                              "command": {"type": "string"}, "description": {"type": "string"}},
                              "required": ["command"]}} for t in _TOOLS]}}
    made, turn, parent, base, keep = 2, 0, None, None, 0
    while made < steps:
        turn += 1
        if turn % COMPACT_EVERY == 0:
            boundary = new_uuid()
            yield {"type": "system", "subtype": "compact_boundary", "timestamp": clock.tick(1),
                   "parentUuid": None, "logicalParentUuid": parent, "isSidechain": False,
                   **_CC_COMMON, "uuid": boundary, "content": "Conversation compacted",
                   "level": "info", "compactMetadata": {"trigger": "auto", "preTokens": 150000}}
            parent = new_uuid()
            yield {"parentUuid": boundary, "isSidechain": False, "type": "user",
                   "message": {"role": "user", "content": [{"type": "text", "text": (
                       "This session is being continued from a previous conversation that ran "
                       "out of context. Summary: " + _text(rng, 40))}]},
                   "uuid": parent, "timestamp": clock.tick(0.1), "isCompactSummary": True,
                   **_CC_COMMON}
            made, base, keep = made + 2, None, 0
        prompt_id, prompt = _uuid(0xDD, turn), _text(rng, 12)
        uuid = new_uuid()
        yield {"parentUuid": parent, "isSidechain": False, "promptId": prompt_id, "type": "user",
               "message": {"role": "user", "content": prompt}, "uuid": uuid,
               "timestamp": clock.tick(5), "permissionMode": "default",
               "promptSource": "user", **_CC_COMMON}
        parent = uuid
        uuid = new_uuid()
        yield {"parentUuid": parent, "isSidechain": False,
               "attachment": {"type": "edited_text_file", "filename": "/home/dev/shop/orders.py",
                              "snippet": _text(rng, 30)},
               "type": "attachment", "uuid": uuid, "timestamp": clock.tick(0.01), **_CC_COMMON}
        parent, made = uuid, made + 2
        blob: dict[str, Any] = {"role": "user", "content": [{"type": "text", "text": prompt}]}
        rounds = rng.randint(1, 6)
        for r in range(rounds + 1):
            n[0] += 1
            blob_hash, request = _hash(n[0]), _uuid(0xEE, n[0])
            yield {"type": "api-request-blob", "sessionId": _CC_SESSION, "hash": blob_hash,
                   "message": blob}
            tail = [blob_hash] if base is None else [_hash(n[0] + 10**9), blob_hash]
            yield {"type": "api-request", "sessionId": _CC_SESSION, "id": request,
                   "timestamp": clock.tick(0.02), "version": "2.1.328", "querySource": "user",
                   "shapeHash": _CC_SHAPE, "params": _CC_PARAMS,
                   **({"base": base} if base else {}), "keep": keep, "tail": tail,
                   "cacheControl": [{"path": ["system", 0], "value": {"type": "ephemeral"}}],
                   "requestDigest": _hash(n[0] + 2 * 10**9)}
            keep, base = keep + len(tail), request
            message_id = f"msg_{n[0]:024x}"
            usage = {"input_tokens": rng.randint(200, 9000),
                     "cache_creation_input_tokens": rng.randint(0, 2000),
                     "cache_read_input_tokens": rng.randint(0, 90_000),
                     "output_tokens": rng.randint(10, 900), **_CC_USAGE_EXTRA}
            final = r == rounds
            text = {"type": "text", "text": _text(rng, 30 if final else 15)}
            blocks: list[dict[str, Any]] = [text]
            if not final:
                tool = rng.choice(_TOOLS)
                blocks.append({"type": "tool_use", "id": f"toolu_{n[0]:020x}", "name": tool,
                               "input": {"command": _text(rng, 6), "description": _text(rng, 4)}})
            for i, block in enumerate(blocks):
                uuid = new_uuid()
                yield {"parentUuid": parent, "isSidechain": False,
                       "message": {"id": message_id, "type": "message", "role": "assistant",
                                   "model": "claude-sonnet-4-5", "content": [block],
                                   "stop_reason": "end_turn" if final else "tool_use",
                                   "stop_sequence": None, "usage": usage},
                       "apiBlockIndex": i, "requestRef": request,
                       "requestedModel": "claude-sonnet-4-5", "type": "assistant", "uuid": uuid,
                       "timestamp": clock.tick(rng.uniform(0.5, 4)), **_CC_COMMON}
                parent = uuid
            made += len(blocks)
            if final:
                break
            use = blocks[1]
            output = _text(rng, 50)
            error = rng.random() < 0.02
            result = {"tool_use_id": use["id"], "type": "tool_result", "content": output,
                      "is_error": error}
            uuid = new_uuid()
            yield {"parentUuid": parent, "isSidechain": False, "promptId": prompt_id,
                   "type": "user", "message": {"role": "user", "content": [result]},
                   "uuid": uuid, "timestamp": clock.tick(rng.uniform(0.05, 3)),
                   "toolUseResult": {"stdout": output, "stderr": "", "interrupted": False,
                                     "isImage": False},
                   "sourceToolAssistantUUID": parent, **_CC_COMMON}
            parent, blob = uuid, {"role": "user", "content": [result]}
        yield {"type": "last-prompt", "lastPrompt": prompt, "leafUuid": parent,
               "sessionId": _CC_SESSION}
        made += 1


# ---------------------------------------------------------------------------- Codex
_CX_SESSION = "01a20547-9b94-7383-a0e1-5b672c1f0059"
_CX_INSTRUCTIONS = (
    "You are a coding agent running in the Codex CLI, a terminal-based coding assistant. "
    "Codex CLI is an open source project led by OpenAI. You are expected to be precise, safe, "
    "and helpful.\n\n# How you work\n\n" + " ".join(["Keep going until the task is done."] * 40)
)


def _cx_usage(rng: random.Random) -> dict[str, int]:
    inp, out = rng.randint(2000, 90_000), rng.randint(10, 900)
    cached = rng.randint(0, inp)
    return {"input_tokens": inp, "cached_input_tokens": cached, "cache_write_input_tokens": 0,
            "output_tokens": out, "reasoning_output_tokens": rng.randint(0, out),
            "total_tokens": inp + out}


def codex_lines(steps: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Codex rollout lines making ``steps`` steps (a little more: whole turns)."""
    rng, clock = random.Random(seed), _Clock()
    ordinal = [0]

    def line(kind: str, payload: dict[str, Any], dt: float) -> dict[str, Any]:
        ordinal[0] += 1
        return {"timestamp": clock.tick(dt), "ordinal": ordinal[0] - 1, "type": kind,
                "payload": payload}

    yield line("session_meta", {
        "session_id": _CX_SESSION, "id": _CX_SESSION, "timestamp": iso(_T0),
        "cwd": "/home/dev/shop", "originator": "codex_cli_rs", "cli_version": "0.169.0",
        "source": "cli", "model_provider": "openai",
        "base_instructions": {"text": _CX_INSTRUCTIONS}}, 0)
    made, turn, total = 0, 0, dict.fromkeys(_cx_usage(rng), 0)
    while made < steps:
        turn += 1
        turn_id = _uuid(0xC0, turn)
        if turn % COMPACT_EVERY == 0:
            yield line("compacted", {"message": _text(rng, 40), "replacement_history": [
                {"type": "message", "role": "user",
                 "content": [{"type": "input_text", "text": _text(rng, 40)}]}]}, 1)
            made += 1
        yield line("event_msg", {"type": "task_started", "turn_id": turn_id,
                                 "model_context_window": 258400,
                                 "collaboration_mode_kind": "default"}, 5)
        yield line("turn_context", {"turn_id": turn_id, "cwd": "/home/dev/shop",
                                    "approval_policy": "on-request",
                                    "sandbox_policy": {"type": "workspace-write"},
                                    "model": "gpt-5-codex", "effort": "medium",
                                    "summary": "auto"}, 0.01)
        prompt = _text(rng, 12)
        yield line("response_item", {"type": "message", "role": "user", "content": [
            {"type": "input_text", "text": prompt}]}, 0.01)
        yield line("event_msg", {"type": "user_message", "message": prompt, "images": []}, 0)
        made += 1
        rounds = rng.randint(1, 6)
        for r in range(rounds + 1):
            yield line("response_item", {
                "type": "reasoning", "summary": [{"type": "summary_text",
                                                  "text": _text(rng, 15)}],
                "content": None, "encrypted_content": "gAAAAB" + "x" * 160}, rng.uniform(0.5, 4))
            if r < rounds:
                call_id = f"call_{turn:06d}_{r}"
                yield line("response_item", {
                    "type": "function_call", "name": "exec_command", "call_id": call_id,
                    "arguments": orjson.dumps({"cmd": _text(rng, 6),
                                               "workdir": "/home/dev/shop"}).decode()}, 0.01)
                made += 2
            else:
                answer = _text(rng, 30)
                yield line("response_item", {"type": "message", "role": "assistant", "content": [
                    {"type": "output_text", "text": answer, "annotations": []}]}, 0.01)
                yield line("event_msg", {"type": "agent_message", "message": answer}, 0)
                made += 1
            usage = _cx_usage(rng)
            total = {k: total[k] + v for k, v in usage.items()}
            yield line("token_usage_record", {
                "thread_id": _CX_SESSION, "turn_id": turn_id, "session_id": _CX_SESSION,
                "response_id": f"resp_{turn}_{r}", "usage": usage}, 0.001)
            yield line("event_msg", {"type": "token_count", "info": {
                "total_token_usage": total, "last_token_usage": usage,
                "model_context_window": 258400}, "rate_limits": None}, 0.001)
            if r < rounds:
                code = 1 if rng.random() < 0.02 else 0
                yield line("response_item", {
                    "type": "function_call_output", "call_id": call_id,
                    "output": (f"Chunk ID: {turn:06x}\nWall time: 0.0100 seconds\n"
                               f"Process exited with code {code}\nOutput:\n{_text(rng, 40)}\n")},
                    rng.uniform(0.05, 3))
        yield line("event_msg", {"type": "task_complete", "turn_id": turn_id,
                                 "last_agent_message": answer}, 0.01)


# ---------------------------------------------------------------------------- API exchanges
_HEADERS = {"host": "api.anthropic.com", "accept-encoding": "gzip, deflate, zstd",
            "connection": "keep-alive", "accept": "application/json",
            "content-type": "application/json", "user-agent": "Anthropic/Python 0.74.1",
            "x-stainless-lang": "python", "x-stainless-package-version": "0.74.1",
            "x-stainless-os": "Linux", "x-stainless-arch": "x64",
            "x-stainless-runtime": "CPython", "x-stainless-runtime-version": "3.11.7",
            "x-api-key": "***REDACTED***", "anthropic-version": "2023-06-01",
            "x-stainless-retry-count": "0"}
_RESPONSE_HEADERS = {"date": "Sun, 22 Nov 2026 21:48:44 GMT",
                     "content-type": "application/json", "request-id": "req_011CV"}
_SYSTEM = "You are a support agent for an online shop. Never promise more than policy allows."
_SCHEMA = {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}


def _anthropic(model_in: list[dict[str, Any]], reply: str, call: dict[str, Any] | None,
               n: int, rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    request = {"max_tokens": 1024, "messages": model_in, "model": "claude-sonnet-4-5",
               "system": _SYSTEM, "temperature": 0,
               "tools": [{"name": t, "description": f"Run {t}", "input_schema": _SCHEMA}
                         for t in _TOOLS[:3]]}
    content: list[dict[str, Any]] = [{"type": "text", "text": reply}]
    if call:
        content.append({"type": "tool_use", **call})
    response = {"id": f"msg_{n:08d}", "type": "message", "role": "assistant",
                "model": "claude-sonnet-4-5", "content": content,
                "stop_reason": "tool_use" if call else "end_turn", "stop_sequence": None,
                "usage": {"input_tokens": rng.randint(300, 9000),
                          "output_tokens": rng.randint(10, 900),
                          "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}
    return request, response


def _openai(model_in: list[dict[str, Any]], reply: str, call: dict[str, Any] | None,
            n: int, rng: random.Random) -> tuple[dict[str, Any], dict[str, Any]]:
    request = {"model": "gpt-4o", "messages": [{"role": "system", "content": _SYSTEM},
                                               *model_in], "temperature": 0,
               "tools": [{"type": "function", "function": {
                   "name": t, "description": f"Run {t}", "parameters": _SCHEMA}}
                   for t in _TOOLS[:3]]}
    message: dict[str, Any] = {"role": "assistant", "content": reply, "refusal": None}
    if call:
        message["tool_calls"] = [{"id": call["id"], "type": "function", "function": {
            "name": call["name"], "arguments": orjson.dumps(call["input"]).decode()}}]
    prompt, completion = rng.randint(300, 9000), rng.randint(10, 900)
    response = {"id": f"chatcmpl-{n:08d}", "object": "chat.completion", "created": 1795384124,
                "model": "gpt-4o-2024-08-06", "choices": [{
                    "index": 0, "message": message,
                    "finish_reason": "tool_calls" if call else "stop"}],
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                          "total_tokens": prompt + completion}}
    return request, response


def _followup(openai: bool, call: dict[str, Any], reply: str,
              result: str) -> list[dict[str, Any]]:
    """The assistant turn and the tool result the next request carries."""
    if openai:
        return [{"role": "assistant", "content": reply, "tool_calls": [{
                    "id": call["id"], "type": "function", "function": {
                        "name": call["name"], "arguments": orjson.dumps(call["input"]).decode()}}]},
                {"role": "tool", "tool_call_id": call["id"], "content": result}]
    return [{"role": "assistant", "content": [{"type": "text", "text": reply},
                                              {"type": "tool_use", **call}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call["id"],
                                          "content": result}]}]


def api_exchange_lines(steps: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Exchange lines making ``steps`` steps (a little more: whole conversations)."""
    rng, t, n, made = random.Random(seed), _T0, 0, 0
    while made < steps:
        openai = rng.random() < 1 / 3
        build = _openai if openai else _anthropic
        url = ("https://api.openai.com/v1/chat/completions" if openai
               else "https://api.anthropic.com/v1/messages")
        messages: list[dict[str, Any]] = [{"role": "user", "content": _text(rng, 12)}]
        rounds = rng.randint(1, 4)
        for r in range(rounds + 1):
            n += 1
            call = None if r == rounds else {
                "id": f"toolu_{n:012d}", "name": rng.choice(_TOOLS[:3]),
                "input": {"query": _text(rng, 5)}}
            reply = _text(rng, 25 if call is None else 8)
            request, response = build(list(messages), reply, call, n, rng)
            elapsed = rng.uniform(400, 6000)
            t += rng.uniform(0.2, 3)
            yield {"timestamp": round(t, 6), "method": "POST", "url": url,
                   "request_headers": _HEADERS, "request_body": request,
                   "response_status": 200, "response_headers": _RESPONSE_HEADERS,
                   "response_body": response, "elapsed_ms": elapsed}
            t += elapsed / 1000
            made += 1 + (call is not None)
            if call is not None:
                messages += _followup(openai, call, reply, _text(rng, 30))


# ---------------------------------------------------------------------------- writing
LineMaker = Callable[[int, int], Iterator[dict[str, Any]]]
MAKERS: dict[str, LineMaker] = {
    "claude-code": claude_code_lines,
    "codex": codex_lines,
    "api-exchanges": api_exchange_lines,
}


def write_lines(path: Path, lines: Iterator[dict[str, Any]]) -> int:
    """Write records as JSON lines (in batches); returns the size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with open(path, "wb") as out:
        batch: list[bytes] = []
        for rec in lines:
            batch.append(orjson.dumps(rec))
            if len(batch) >= 4096:
                size += out.write(b"\n".join(batch) + b"\n")
                batch.clear()
        if batch:
            size += out.write(b"\n".join(batch) + b"\n")
    return size


def write_session(fmt: str, path: Path, steps: int, seed: int = 7) -> int:
    """Write a ``fmt`` file (a key of :data:`MAKERS`) of about ``steps`` steps; its size."""
    return write_lines(path, MAKERS[fmt](steps, seed))
