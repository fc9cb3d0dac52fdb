"""Run the benchmark: ``python -m bench.run`` (or ``python bench/run.py``) from the repo root.

Generates synthetic native traces (10k, 100k and 1M steps by default; ``--sizes 10k,100k`` for
a subset) in ``bench/out/`` (git-ignored; ``--out DIR`` elsewhere), then measures, for each:
indexing wall time and throughput next to an ``orjson.loads``-per-line reference loop on the
same file in the same run (the ratio is what matters on a shared machine), index memory per
step and peak RSS (in a fresh child process), and the time to the app's first screen on a
5-line file and on the largest file; then tail latency (append to visible in the model) at
1,000 and 10,000 steps/s. Prints a table and writes ``bench/out/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # ``python bench/run.py``: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import write_trace  # noqa: E402
from bench.measure import first_screen, index_in_child, tail_latency  # noqa: E402

TARGETS = {
    "ratio": 2.5,
    "index_1m_seconds": 4.0,
    "bytes_per_step": 200,
    "tail_p99_ms": 100,
    "first_screen_seconds": 1.0,
}


def parse_sizes(text: str) -> list[int]:
    """``10k,100k,1m`` -> ``[10000, 100000, 1000000]``."""
    scale = {"k": 1_000, "m": 1_000_000}
    out = []
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        out.append(int(float(part[:-1]) * scale[part[-1]]) if part[-1] in scale else int(part))
    return out


def machine() -> dict[str, Any]:
    """nproc, CPU model, Python version and load, for the results file."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def trace_for(out: Path, steps: int) -> Path:
    """The synthetic trace with ``steps`` steps (generated once, reused afterwards)."""
    path = out / f"synthetic-{steps}.jsonl"
    if not path.exists():
        print(f"generating {path.name} ...", file=sys.stderr, flush=True)
        write_trace(path.with_suffix(".tmp"), steps)
        path.with_suffix(".tmp").rename(path)
    return path


def run(sizes: list[int], out: Path, rates: list[int], tail_seconds: float) -> dict[str, Any]:
    """Every measurement; returns the results dict (also printed as a table)."""
    results: dict[str, Any] = {"machine": machine(), "targets": TARGETS, "index": [], "tail": []}
    for steps in sizes:
        path = trace_for(out, steps)
        print(f"indexing {path.name} ...", file=sys.stderr, flush=True)
        results["index"].append({"file": path.name, **index_in_child(path)})
    small = out / "five-lines.jsonl"
    write_trace(small, 4)
    results["first_screen"] = {"5 lines": first_screen(small, "agent")}
    if sizes:
        largest = trace_for(out, max(sizes))
        results["first_screen"][largest.name] = first_screen(largest, "agent")
    for rate in rates:
        print(f"tail latency at {rate}/s ...", file=sys.stderr, flush=True)
        results["tail"].append(tail_latency(out, rate, int(rate * tail_seconds)))
    results["machine"]["loadavg_at_end"] = os.getloadavg()
    return results


def print_table(results: dict[str, Any]) -> None:
    """The human-readable summary."""
    m = results["machine"]
    print(
        f"\n{m['date']}  {m['nproc']} cores  {m['cpu']}  Python {m['python']}  "
        f"load {m['loadavg_at_start'][0]:.2f}"
    )
    print(
        f"\n{'file':<26}{'steps':>9}{'MB':>6}{'index s':>9}{'ref s':>8}"
        f"{'ratio':>8}{'steps/s':>10}{'B/step':>8}{'RSS/step':>9}"
        f"{'peak MB':>9}{'first s':>9}"
    )
    for r in results["index"]:
        print(
            f"{r['file']:<26}{r['steps']:>9}{r['bytes'] / 1e6:>6.0f}{r['index_seconds']:>9.2f}"
            f"{r['reference_seconds']:>8.2f}{r['ratio']:>8.2f}{r['steps_per_second']:>10.0f}"
            f"{r['index_bytes_per_step']:>8.0f}{r['rss_delta_per_step']:>9.0f}"
            f"{r['peak_rss_bytes'] / 1e6:>9.0f}{r['first_update_seconds']:>9.3f}"
        )
    print("  (ratio = ref / index: above 1, indexing beats merely parsing every line)")
    print("\nfirst screen (real app, headless):")
    for name, r in results["first_screen"].items():
        print(f"  {name:<28} " + (f"{r['seconds']:.3f} s" if "seconds" in r else r["skipped"]))
    print("\ntail latency, append -> visible in the model:")
    for r in results["tail"]:
        if r["p50_ms"] is None:
            print(f"  {r['rate']:>6}/s  nothing seen")
            continue
        print(
            f"  {r['rate']:>6}/s  p50 {r['p50_ms']:.1f} ms  p99 {r['p99_ms']:.1f} ms  "
            f"max {r['max_ms']:.1f} ms  ({r['seen']}/{r['steps']} steps)"
        )


def main(argv: list[str] | None = None) -> int:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10k,100k,1m", help="trace sizes (default 10k,100k,1m)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out")
    parser.add_argument("--rates", default="1000,10000", help="tail append rates, steps/s")
    parser.add_argument("--tail-seconds", type=float, default=5.0, help="length of each tail run")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = run(parse_sizes(args.sizes), args.out, parse_sizes(args.rates), args.tail_seconds)
    print_table(results)
    target = args.out / "results.json"
    target.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
