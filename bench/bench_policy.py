"""Benchmark: 1,000 policy rules over a 1M-step trace, against the time to index it.

    python -m bench.bench_policy          # 1M steps (writes bench/out/synthetic-1000000.jsonl)
    python -m bench.bench_policy --steps 100000 --rounds 1

Target (issue 17): checking 1,000 rules takes at most 2× the time of indexing the trace. Each
round indexes the file (``IndexedSource``, one process, no helper), then checks the indexed run
with a 1,000-rule policy (allow/deny patterns, argument schemas and constraints, and every
sequence rule type), then runs the whole ``trace-tui check`` path (index and check together);
the best of the rounds is reported. A second policy adds ``require_system_prompt``, which has
to parse every model call, to show what a payload rule costs. Prints a table and writes JSON to
``bench/out/policy-<date>.json``; results go to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from bench.generate import write_trace
from trace_tui.core.formats import format_by_name
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.policy.evaluate import PolicyEvaluator
from trace_tui.core.policy.loader import load_policy
from trace_tui.core.policy.model import Policy

OUT = Path(__file__).resolve().parent / "out"
TOOLS = ("lookup_order", "get_customer", "apply_discount", "search_docs", "read_file", "run_tests")


def policy_text(rules: int = 1000, system_prompt: bool = False) -> str:
    """A policy of exactly ``rules`` rules over the generator's tools (see the module doc)."""
    allow = [*TOOLS] + [f"tool_{i}_*" for i in range(244)]  # 250
    deny = [f"exec_{i}" if i % 3 == 0 else f"*shell{i}*" if i % 3 == 1 else f"*_sudo{i}"
            for i in range(250)]  # fmt: skip
    lines = ["version: '2.0'", "name: bench-1000", "tools:", f"  allow: {json.dumps(allow)}",
             f"  deny: {json.dumps(deny)}", "schemas:",
             "  apply_discount: {type: object, properties: {q: {type: string, maxLength: 500}},"
             " required: [q]}",
             "  lookup_order: {type: object, properties: {q: {type: string}}, required: [q]}",
             "constraints:", "  - tool: read_file", "    params:", "      q: {regex: '^[a-z ]+$'}",
             "enforcement: {unconstrained_tools: allow}", "sequences:"]  # fmt: skip
    sequence: list[str] = []
    kinds = ("max_calls", "before", "never_after", "blocklist", "eventually", "after",
             "sequence", "require")  # fmt: skip
    budget = rules - len(allow) - len(deny) - 3 - 1 - (1 if system_prompt else 0)
    for n in range(budget):
        kind, a, b = kinds[n % len(kinds)], TOOLS[n % 6], TOOLS[(n + 1) % 6]
        ghost = f"ghost_{n}"
        rule = {
            "max_calls": f"{{type: max_calls, tool: {a}, max: 10000000}}",
            "before": f"{{type: before, first: {a}, then: {ghost}}}",
            "never_after": f"{{type: never_after, trigger: {ghost}, forbidden: {a}}}",
            "blocklist": f"{{type: blocklist, pattern: admin_{n}}}",
            "eventually": f"{{type: eventually, tool: {a}, within: 1000}}",
            "after": f"{{type: after, trigger: {a}, then: {b}, within: 100}}",
            "sequence": f"{{type: sequence, tools: [{a}, {b}]}}",
            "require": f"{{type: require, tool: {a}}}",
        }[kind]
        sequence.append(f"  - {rule}")
    sequence.append("  - {type: no_progress, max: 3}")
    if system_prompt:
        sequence.append("  - {type: require_system_prompt}")
    return "\n".join(lines + sequence) + "\n"


def index(path: Path) -> tuple[IndexedSource, float]:
    """Index ``path`` to the end; the source and the seconds it took."""
    gc.collect()
    start = time.perf_counter()
    source = IndexedSource(path, format_by_name("native"), workers=0)
    while not source.update().complete:
        pass
    return source, time.perf_counter() - start


def check(source: IndexedSource, policy: Policy) -> tuple[float, dict[str, int]]:
    """Check an indexed run; seconds and verdict counts."""
    gc.collect()
    start = time.perf_counter()
    evaluator = PolicyEvaluator(policy)
    evaluator.finish(source.run)
    seconds = time.perf_counter() - start
    report = evaluator.report(len(source.run))
    counts = {v: report.count(v) for v in ("allowed", "warned", "blocked")}
    return seconds, counts


def end_to_end(path: Path, policy: Policy) -> float:
    """``trace-tui check``'s path: index while checking, then the end-of-run rules."""
    from trace_tui.cli.check import check_file

    gc.collect()
    start = time.perf_counter()
    check_file(str(path), policy)
    return time.perf_counter() - start


def main() -> None:
    """Run the benchmark (see the module doc)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    trace = OUT / f"synthetic-{args.steps}.jsonl"
    if not trace.exists():
        print(f"generating {trace} ...", flush=True)
        write_trace(trace, args.steps)
    policies = {}
    for label, heavy in (("1000 rules", False), ("1000 rules + require_system_prompt", True)):
        policy_path = OUT / f"policy-{'heavy' if heavy else 'light'}.yaml"
        policy_path.write_text(policy_text(1000, heavy))
        policies[label] = load_policy(policy_path)
        assert policies[label].rule_count == 1000, policies[label].rule_count
    best: dict[str, float] = {}
    counts: dict[str, dict[str, int]] = {}
    for _ in range(args.rounds):
        source, seconds = index(trace)
        best["index"] = min(best.get("index", seconds), seconds)
        for label, policy in policies.items():
            seconds, counts[label] = check(source, policy)
            best[label] = min(best.get(label, seconds), seconds)
        source.close()
        seconds = end_to_end(trace, policies["1000 rules"])
        best["check command"] = min(best.get("check command", seconds), seconds)
    base = best["index"]
    print(f"{'what':<40} {'seconds':>8} {'÷ index':>8}")
    for name, seconds in best.items():
        print(f"{name:<40} {seconds:8.2f} {seconds / base:8.2f}")
    print("verdicts:", counts)
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "load_average": os.getloadavg(),
        "steps": args.steps,
        "bytes": trace.stat().st_size,
        "rounds": args.rounds,
        "seconds": best,
        "ratio_to_index": {k: v / base for k, v in best.items()},
        "verdicts": counts,
    }
    path = OUT / f"policy-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
