"""This tree's index next to another trace_tui's and the orjson loop, in CPU seconds, one run.

``python -m bench.bench_trees FILE --other DIR [--rounds N]`` (from the repository root). ``DIR``
holds a ``trace_tui`` package (for a checkout ``/x/co`` of another commit: a folder with a
symlink ``trace_tui -> /x/co``). Each round times ``for line in f: orjson.loads(line)`` here,
then indexes FILE completely (``IndexedSource``, format detected) in a fresh child process of
each tree: CPU seconds, peak RSS over the RSS before indexing and the RSS after, per step. CPU
time is what a loaded shared machine distorts least; ratios are against the same round's loop.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
CHILD = r"""
import gc, json, resource, sys, time
from trace_tui.core.index.indexer import IndexedSource
def rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096
gc.collect(); base = rss(); start = time.process_time()
source = IndexedSource(sys.argv[1])
while not source.update().complete:
    pass
cpu = time.process_time() - start; n = len(source.run)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"cpu_s": cpu, "steps": n, "peak_per_step": (peak - base) / n,
                  "after_per_step": (rss() - base) / n, "problems": len(source.run.problems)}))
"""


def index_cpu(path: Path, package_dir: str | None) -> dict[str, Any]:
    env = dict(os.environ)
    if package_dir:
        env["PYTHONPATH"] = package_dir
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True,
                         text=True, env=env, check=True, cwd="/")  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def loop_cpu(path: Path) -> float:
    start = time.process_time()
    with open(path, "rb") as fh:
        for line in fh:
            orjson.loads(line)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--other", required=True, help="a folder holding another trace_tui")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    print(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load", os.getloadavg())
    for _ in range(args.rounds):
        loop = loop_cpu(args.file)
        here, other = index_cpu(args.file, None), index_cpu(args.file, args.other)
        for name, r in (("this tree", here), ("other", other)):
            print(f"{name:>9}: {r['cpu_s']:6.2f} s = {loop / r['cpu_s']:.3f}x the orjson loop "
                  f"({loop:.2f} s), peak {r['peak_per_step']:.0f} B/step, after "
                  f"{r['after_per_step']:.0f} B/step, {r['steps']} steps, "
                  f"{r['problems']} problems", flush=True)  # fmt: skip
    print("load", os.getloadavg())


if __name__ == "__main__":
    main()
