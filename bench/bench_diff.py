"""Benchmark of the run diff: align two 100k-step runs, then classify every row.

Not a test: it prints a table and writes JSON to ``bench/out/``; recorded figures go to
``bench/RESULTS.md`` (section "Diff"). Run from the repository root::

    /tmp/venv/bin/python bench/bench_diff.py            # 100k steps, 3 repeats
    /tmp/venv/bin/python bench/bench_diff.py --steps 20000 --repeats 1

Two runs are generated in memory (file reading is the index benchmark's business): a root
agent, then turns of a model call, a tool call and now and then a retrieval. Run B is run A
as a second real run would be: other span ids, tool-call ids and response ids, times shifted,
plus edits: inserted tool calls, removed steps, changed tool results and changed arguments.
Two scenarios: ``varied`` (tool arguments mostly unique, the usual case) and ``repetitive``
(arguments drawn from a small set, so few steps are unique and the fallbacks do the work).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trace_tui.core.diff.align import align_runs, align_signatures, signatures
from trace_tui.core.diff.compare import diff_runs
from trace_tui.core.model.builder import RunBuilder
from trace_tui.core.model.run import Run

OUT = Path(__file__).resolve().parent / "out"
TOOLS = ("lookup_order", "get_customer", "apply_discount", "search_docs", "check_status")


def _turn_records(rng: random.Random, n: int, t: float, variety: int) -> list[dict[str, Any]]:
    """One turn: a model call asking for a tool, the tool call, sometimes a retrieval."""
    tool = TOOLS[n % len(TOOLS)]
    args = {"order_id": f"A-{rng.randrange(variety)}", "verbose": n % 3 == 0}
    recs = [
        {
            "kind": "llm",
            "name": "chat gpt-4o",
            "t": t,
            "attributes": {
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.id": f"resp-{n}",
                "gen_ai.input.messages": [{"role": "user", "content": f"turn {n}"}],
                "gen_ai.output.messages": [
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [{"id": f"call-{n}", "name": tool, "arguments": args}],
                    }
                ],
                "gen_ai.usage.input_tokens": 400 + n % 700,
                "gen_ai.usage.output_tokens": 20 + n % 50,
            },
        },
        {
            "kind": "tool",
            "name": tool,
            "t": t + 0.3,
            "attributes": {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": tool,
                "gen_ai.tool.call.id": f"call-{n}",
                "gen_ai.tool.call.arguments": args,
                "gen_ai.tool.call.result": {"status": "ok", "value": rng.randrange(1000)},
            },
        },
    ]
    if n % 4 == 0:
        recs.append(
            {
                "kind": "retrieval",
                "name": "search",
                "t": t + 0.5,
                "attributes": {
                    "gen_ai.operation.name": "retrieval",
                    "gen_ai.retrieval.query.text": f"policy {rng.randrange(variety)}",
                    "gen_ai.retrieval.documents": [{"id": "d1", "score": 0.5, "content": "text"}],
                },
            }
        )
    return recs


def generate_pair(steps: int, variety: int, seed: int = 7) -> tuple[Run, Run, dict[str, int]]:
    """Runs A and B of about ``steps`` steps each, and the edits made to B."""
    rng = random.Random(seed)
    body: list[dict[str, Any]] = []
    n = 0
    while len(body) < steps - 1:
        body.extend(_turn_records(rng, n, n * 1.0, variety))
        n += 1
    body = body[: steps - 1]
    edited, edits = _edit(body, rng, scale=max(1, steps // 1000))
    return _build(body, "a", 0.0), _build(edited, "b", 3600.0), edits


def _edit(
    body: list[dict[str, Any]], rng: random.Random, scale: int
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """B's steps: A's with inserted tool calls, removed steps, changed results and arguments."""
    out = [dict(r, attributes=dict(r["attributes"])) for r in body]
    edits = {"changed_results": 0, "changed_args": 0, "removed": 0, "inserted": 0}
    for k in rng.sample(range(len(out)), 10 * scale):
        attrs = out[k]["attributes"]
        if out[k]["kind"] == "tool":
            if k % 2:
                attrs["gen_ai.tool.call.result"] = {"status": "changed", "value": -1}
                edits["changed_results"] += 1
            else:
                attrs["gen_ai.tool.call.arguments"] = {
                    **attrs["gen_ai.tool.call.arguments"],
                    "user_id": "u-1",
                }
                edits["changed_args"] += 1
    for k in sorted(rng.sample(range(len(out)), 5 * scale), reverse=True):
        del out[k]
        edits["removed"] += 1
    for k in sorted(rng.sample(range(len(out)), 5 * scale), reverse=True):
        out.insert(
            k,
            {
                "kind": "tool",
                "name": "refund",
                "t": out[k]["t"],
                "attributes": {
                    "gen_ai.tool.name": "refund",
                    "gen_ai.tool.call.arguments": {"order_id": f"R-{k}"},
                    "gen_ai.tool.call.result": "ok",
                },
            },
        )
        edits["inserted"] += 1
    return out, edits


def _build(body: list[dict[str, Any]], prefix: str, shift: float) -> Run:
    run = Run()
    builder = RunBuilder(run)
    builder.add({"type": "run", "schema_version": 1, "run_id": f"run-{prefix}"})
    builder.add(
        {
            "type": "span",
            "span_id": f"{prefix}0",
            "parent_id": None,
            "kind": "agent",
            "name": "agent",
            "start_time": shift,
            "end_time": shift + len(body),
            "status": "ok",
            "attributes": {"gen_ai.agent.name": "bench"},
        }
    )
    for n, rec in enumerate(body, 1):
        attrs = dict(rec["attributes"])
        if "gen_ai.response.id" in attrs:
            attrs["gen_ai.response.id"] = f"{prefix}-{attrs['gen_ai.response.id']}"
        builder.add(
            {
                "type": "span",
                "span_id": f"{prefix}{n}",
                "parent_id": f"{prefix}0",
                "kind": rec["kind"],
                "name": rec["name"],
                "start_time": shift + rec["t"],
                "end_time": shift + rec["t"] + 0.2,
                "status": "ok",
                "attributes": attrs,
            }
        )
    return run


def _time(fn: Callable[[], Any], repeats: int) -> tuple[list[float], list[float], Any]:
    """Wall-clock and CPU seconds of each of ``repeats`` calls, and the last result."""
    walls, cpus, value = [], [], None
    for _ in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        value = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus, value


def bench_scenario(name: str, steps: int, variety: int, repeats: int) -> dict[str, Any]:
    """Time the alignment (signatures + matching) and the full diff of one generated pair."""
    left, right, edits = generate_pair(steps, variety)
    sig_walls, _, (sa, sb) = _time(lambda: (signatures(left), signatures(right)), repeats)
    match_walls, _, _ = _time(lambda: align_signatures(sa, sb), repeats)
    walls, cpus, alignment = _time(lambda: align_runs(left, right), repeats)
    diff_walls, _, diff = _time(lambda: diff_runs(left, right, alignment=alignment), repeats)
    return {
        "scenario": name,
        "left_steps": len(left),
        "right_steps": len(right),
        "edits": edits,
        "counts": diff.counts(),
        "alignment_stats": alignment.stats,
        "align_wall_s": min(walls),
        "align_wall_median_s": statistics.median(walls),
        "align_cpu_s": min(cpus),
        "signatures_wall_s": min(sig_walls),
        "matching_wall_s": min(match_walls),
        "full_diff_wall_s": min(diff_walls),
    }


def main(argv: list[str] | None = None) -> int:
    """Run both scenarios, print a table, write ``bench/out/diff-<time>.json``."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    load_before = _load()
    results = [
        bench_scenario("varied", args.steps, variety=1_000_000, repeats=args.repeats),
        bench_scenario("repetitive", args.steps, variety=20, repeats=args.repeats),
    ]
    load_after = _load()
    print(
        f"{'scenario':<11} {'steps A/B':>15}  {'align':>7} {'median':>7} {'cpu':>7}  "
        f"{'(sigs':>6} {'match)':>7}  {'full diff':>9}  rows =/~/+/-"
    )
    for r in results:
        c = r["counts"]
        print(
            f"{r['scenario']:<11} {r['left_steps']:>7}/{r['right_steps']:<7}  "
            f"{r['align_wall_s']:>6.3f}s {r['align_wall_median_s']:>6.3f}s "
            f"{r['align_cpu_s']:>6.3f}s  {r['signatures_wall_s']:>5.3f}s "
            f"{r['matching_wall_s']:>6.3f}s  {r['full_diff_wall_s']:>8.3f}s  "
            f"{c['same']}/{c['changed']}/{c['added']}/{c['removed']}"
        )
    print(f"load average before/after: {load_before} / {load_after}")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    OUT.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "diff",
        "date": stamp,
        "python": sys.version.split()[0],
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "load_before": load_before,
        "load_after": load_after,
        "results": results,
    }
    path = OUT / f"diff-{stamp}.json"
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


if __name__ == "__main__":
    raise SystemExit(main())
