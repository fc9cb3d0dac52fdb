"""Synthetic native traces for the benchmark: realistic shapes, about 1 KB per step.

A trace is one ``run`` record, a root agent span and then turns of model calls, tool calls
and retrievals, a tenth of them written as ``span_start`` + ``span_end`` pairs, with ISO 8601
times and token usage. A handful of tool results are 1 MB strings, as a real agent that reads a
big file produces. Output is deterministic for a given seed.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson

#: Steps whose tool result is a 1 MB string (at most this many per file).
BIG_PAYLOADS = 4
BIG_PAYLOAD_BYTES = 1024 * 1024
_T0 = datetime(2026, 11, 2, 10, 0, 0, tzinfo=UTC).timestamp()
_TOOLS = ("lookup_order", "get_customer", "apply_discount", "search_docs", "read_file", "run_tests")
_WORDS = (
    "order customer refund shipping discount policy agent status lookup result ticket "
    "window context tool model answer please check again the and of to with for"
).split()


def iso(seconds: float) -> str:
    """An ISO 8601 UTC time with milliseconds, as native traces write it."""
    return (
        datetime.fromtimestamp(seconds, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


_POOL: dict[int, list[str]] = {}


def _text(rng: random.Random, words: int) -> str:
    """Text of ``words`` words, from a pool of 256 variants per length (fast to generate)."""
    pool = _POOL.get(words)
    if pool is None:
        maker = random.Random(words)
        pool = _POOL[words] = [
            " ".join(maker.choice(_WORDS) for _ in range(words)) for _ in range(256)
        ]
    return pool[rng.randrange(256)]


def _llm_attrs(rng: random.Random, turn: int) -> dict[str, object]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-2024-08-06",
        "gen_ai.request.temperature": 0.0,
        "gen_ai.input.messages": [
            {"role": "user", "content": _text(rng, 40)},
            {"role": "assistant", "content": _text(rng, 30)},
        ],
        "gen_ai.output.messages": [
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": f"call_{turn}",
                        "name": rng.choice(_TOOLS),
                        "arguments": {"q": _text(rng, 5)},
                    }
                ],
            }
        ],
        "gen_ai.response.finish_reasons": ["tool_calls"],
        "gen_ai.usage.input_tokens": rng.randint(500, 90_000),
        "gen_ai.usage.output_tokens": rng.randint(10, 900),
    }


def _tool_attrs(rng: random.Random, turn: int, big: bool) -> dict[str, object]:
    result: object = "x" * BIG_PAYLOAD_BYTES if big else {"status": "ok", "text": _text(rng, 40)}
    return {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": rng.choice(_TOOLS),
        "gen_ai.tool.call.id": f"call_{turn}",
        "gen_ai.tool.call.arguments": {"q": _text(rng, 6)},
        "gen_ai.tool.call.result": result,
    }


def records(steps: int, seed: int = 7) -> Iterator[dict[str, object]]:
    """The native records of a synthetic run with ``steps`` steps, in file order."""
    rng = random.Random(seed)
    big_count = BIG_PAYLOADS if steps >= 1000 else 0  # a 5-line trace stays 5 small lines
    big_at = set(rng.sample(range(2, steps), big_count)) if big_count else set()
    yield {
        "type": "run",
        "schema_version": 1,
        "run_id": f"bench-{steps}",
        "name": "benchmark",
        "started_at": iso(_T0),
    }
    yield {
        "type": "span",
        "span_id": "s0",
        "parent_id": None,
        "kind": "agent",
        "name": "agent",
        "start_time": iso(_T0),
        "end_time": iso(_T0 + steps),
        "status": "ok",
        "attributes": {"gen_ai.agent.name": "bench"},
    }
    for n in range(1, steps):
        t = _T0 + n * 0.5
        if n % 2:
            kind, name, attrs = "llm", "chat gpt-4o", _llm_attrs(rng, n)
        else:
            kind, name, attrs = "tool", "tool call", _tool_attrs(rng, n - 1, n in big_at)
        base = {
            "span_id": f"s{n}",
            "parent_id": "s0",
            "kind": kind,
            "name": name,
            "start_time": iso(t),
        }
        if n % 10 == 3:
            yield {"type": "span_start", **base, "attributes": {}}
            yield {
                "type": "span_end",
                "span_id": f"s{n}",
                "end_time": iso(t + 0.4),
                "status": "ok",
                "attributes": attrs,
            }
        else:
            yield {
                "type": "span",
                **base,
                "end_time": iso(t + 0.4),
                "status": "error" if n % 97 == 0 else "ok",
                "attributes": attrs,
            }


def write_trace(path: Path, steps: int, seed: int = 7) -> int:
    """Write a synthetic trace of ``steps`` steps to ``path``; returns its size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with open(path, "wb") as out:
        batch: list[bytes] = []
        for rec in records(steps, seed):
            batch.append(orjson.dumps(rec))
            if len(batch) >= 4096:
                size += out.write(b"\n".join(batch) + b"\n")
                batch.clear()
        if batch:
            size += out.write(b"\n".join(batch) + b"\n")
    return size
