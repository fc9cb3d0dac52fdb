"""Benchmark of secret redaction (core/text/redact.py): how fast typical trace strings go through.

Not a test: it prints a table and writes JSON to ``bench/out/``; recorded figures go to
``bench/RESULTS.md`` (section "Redaction"). Run from the repository root::

    /tmp/venv/bin/python bench/bench_redact.py                 # 100k strings per scenario
    /tmp/venv/bin/python bench/bench_redact.py --count 20000

Every string is about 1 KB, built from a fixed seed, so runs compare:

* ``prose``: message text without any trigger substring (the fast path).
* ``prose+words``: message text full of trigger words that are not secrets (``tokens``,
  ``keyboard``, ``password`` in prose, ``key:`` labels): every trigger is tried and rejected.
* ``with-secret``: prose with one API key in it.
* ``code``: Python source, as a coding agent's tool results are.
* ``json-escaped``: a raw JSON line (quotes, ``\\n`` escapes, usage counts).
* ``short``: roles, model names, ids (10-20 characters), the bulk of small fields; a few
  hundred distinct values, as in a real trace, so mostly served by the redactor's cache.
* ``short-unique``: every string different (tool-call ids): the cache never helps.
* ``mix``: the above in proportions typical of a trace.

Then :meth:`Redactor.value` over whole step attribute dicts: an LLM step (messages, tool
definitions, usage) and a wire capture (headers with a key, body), per step and per MB of
JSON, and the same with redaction disabled as the floor. Times are the best of
``--repeats`` runs in CPU time of this process, so a busy shared machine skews them less.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trace_tui.core.text.redact import Redactor

OUT = Path(__file__).resolve().parent / "out"
_WORDS = (
    "the order was shipped on thursday and should arrive within three business days while "
    "our support agent checks the refund policy for the customer who asked about delivery"
).split()
_TRIGGER_WORDS = (
    "the model used 1200 input tokens for this answer about keyboards, the password reset "
    "flow, secret santa, token limits and the basic plan; key: value pairs are fine"
).split()
_CODE = (Path(__file__).resolve().parent.parent / "core" / "context_windows.py").read_text(
    encoding="utf-8"
)


def _fill(rng: random.Random, words: list[str], size: int = 1024) -> str:
    out: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(words)
        out.append(word)
        length += len(word) + 1
    return " ".join(out)[:size]


def _key(rng: random.Random) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "sk-proj-" + "".join(rng.choice(alphabet) for _ in range(47)) + "7"


def _json_line(rng: random.Random) -> str:
    message = {"role": "assistant", "content": _fill(rng, _WORDS, 700) + "\n\nThanks!"}
    usage = {"input_tokens": rng.randrange(10_000), "output_tokens": rng.randrange(900)}
    return json.dumps({"message": message, "usage": usage, "stop_reason": "end_turn"})


def build_strings(rng: random.Random, count: int) -> dict[str, list[str]]:
    """``count`` strings per scenario (a few hundred distinct ones, cycled)."""
    distinct = 256
    makers: dict[str, Callable[[], str]] = {
        "prose": lambda: _fill(rng, _WORDS),
        "prose+words": lambda: _fill(rng, _TRIGGER_WORDS),
        "with-secret": lambda: _fill(rng, _WORDS, 500) + f" {_key(rng)} " + _fill(rng, _WORDS, 460),
        "code": lambda: _CODE[(at := rng.randrange(len(_CODE) - 1024)) : at + 1024],
        "json-escaped": lambda: _json_line(rng),
        "short": lambda: (
            rng.choice(["user", "assistant", "gpt-4o-mini", "call_8f2a1c", "A-17"])
            + f"-{rng.randrange(10**6)}"
        ),
    }
    pools = {name: [make() for _ in range(distinct)] for name, make in makers.items()}
    scenarios = {name: [pool[i % distinct] for i in range(count)] for name, pool in pools.items()}
    scenarios["short-unique"] = [f"call_{rng.getrandbits(48):012x}" for _ in range(count)]
    weights = {"prose": 40, "prose+words": 15, "json-escaped": 15, "code": 10, "short": 19}
    weights["with-secret"] = 1
    names = rng.choices(list(weights), weights=list(weights.values()), k=count)
    scenarios["mix"] = [pools[name][i % distinct] for i, name in enumerate(names)]
    return scenarios


def llm_step(rng: random.Random, n: int) -> dict[str, Any]:
    """Attributes of a typical model call."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.request.max_tokens": 1024,
        "gen_ai.system_instructions": _fill(rng, _WORDS, 400),
        "gen_ai.input.messages": [
            {"role": "user", "content": _fill(rng, _WORDS, 300)},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": f"call_{n}", "name": "lookup_order", "arguments": {"order_id": f"A-{n}"}}
            ]},
            {"role": "tool", "tool_call_id": f"call_{n}", "content": _json_line(rng)[:400]},
        ],
        "gen_ai.tool.definitions": [
            {"name": "lookup_order", "description": "Find an order",
             "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}},
        ],
        "gen_ai.output.messages": [{"role": "assistant", "content": _fill(rng, _WORDS, 200)}],
        "gen_ai.usage.input_tokens": rng.randrange(20_000),
        "gen_ai.usage.output_tokens": rng.randrange(1_000),
        "gen_ai.response.finish_reasons": ["stop"],
    }  # fmt: skip


def wire_step(rng: random.Random, n: int) -> dict[str, Any]:
    """Attributes of a captured HTTP exchange, with an API key in its headers."""
    return {
        "url": "https://api.anthropic.com/v1/messages",
        "request_headers": {
            "content-type": "application/json", "x-api-key": _key(rng),
            "anthropic-version": "2023-06-01", "user-agent": "Anthropic/Python 0.74.1",
        },
        "request_body": {"model": "claude-sonnet-4-5", "max_tokens": 1024,
                         "messages": [{"role": "user", "content": _fill(rng, _WORDS, 500)}]},
        "response_status": 200,
        "response_body": {"id": f"msg_{n}",
                          "content": [{"type": "text", "text": _fill(rng, _WORDS)}],
                          "usage": {"input_tokens": 300, "output_tokens": 25}},
    }  # fmt: skip


def _best_of(repeats: int, fn: Callable[[], None]) -> float:
    """Best CPU time of ``repeats`` runs (CPU time: the machine may be shared)."""
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


def bench_strings(red: Redactor, strings: list[str], repeats: int) -> dict[str, float]:
    text = red.text

    def run() -> None:
        for s in strings:
            text(s)

    seconds = _best_of(repeats, run)
    size = sum(len(s) for s in strings)
    return {
        "count": len(strings),
        "mb": size / 1e6,
        "seconds": seconds,
        "per_item_us": seconds / len(strings) * 1e6,
        "items_per_s": len(strings) / seconds,
        "mb_per_s": size / 1e6 / seconds,
    }


def bench_values(red: Redactor, steps: list[dict[str, Any]], repeats: int) -> dict[str, float]:
    value = red.value

    def run() -> None:
        for step in steps:
            value(step)

    seconds = _best_of(repeats, run)
    size = sum(len(json.dumps(step)) for step in steps)
    return {
        "count": len(steps),
        "mb": size / 1e6,
        "seconds": seconds,
        "per_item_us": seconds / len(steps) * 1e6,
        "items_per_s": len(steps) / seconds,
        "mb_per_s": size / 1e6 / seconds,
    }


def main(argv: list[str] | None = None) -> int:
    """Run every scenario, print a table, write ``bench/out/redact-<time>.json``."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--count", type=int, default=100_000, help="strings per scenario")
    parser.add_argument("--steps", type=int, default=20_000, help="step dicts per scenario")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    rng = random.Random(8)
    red, off = Redactor(), Redactor(enabled=False)
    results: list[dict[str, Any]] = []
    for name, strings in build_strings(rng, args.count).items():
        results.append({"scenario": f"text: {name}", **bench_strings(red, strings, args.repeats)})
    for name, make in (("llm step", llm_step), ("wire step", wire_step)):
        pool = [make(rng, n) for n in range(256)]
        steps = [pool[i % len(pool)] for i in range(args.steps)]
        results.append({"scenario": f"value: {name}", **bench_values(red, steps, args.repeats)})
        floor = bench_values(off, steps, args.repeats)
        results.append({"scenario": f"value: {name} (disabled)", **floor})
    print(f"{'scenario':<32} {'items':>8} {'MB':>7} {'µs/item':>9} {'items/s':>10} {'MB/s':>7}")
    for r in results:
        print(
            f"{r['scenario']:<32} {r['count']:>8} {r['mb']:>7.1f} {r['per_item_us']:>9.2f} "
            f"{r['items_per_s']:>10.0f} {r['mb_per_s']:>7.1f}"
        )
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    OUT.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "redact",
        "date": stamp,
        "python": sys.version.split()[0],
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "results": results,
    }
    path = OUT / f"redact-{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
