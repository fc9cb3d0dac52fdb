"""A Claude Code session with one huge line: time and peak memory to index it and open the step.

``python -m bench.bench_huge_line --mb 200`` writes ``bench/out/huge-<mb>.jsonl`` (git-ignored):
the real Claude Code sample from ``tests/data/foreign`` with one plain user message replaced by
``--mb`` megabytes of pasted text, then, in a fresh child process, indexes it
(``IndexedSource``) and loads every step (``run.step(i)``, what the inspector does), and reports
wall time and peak RSS (``ru_maxrss``) next to the line's size. The target: peak RSS under 3×
the line.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

OUT = Path(__file__).resolve().parent / "out"
SAMPLE = (Path(__file__).resolve().parent.parent / "tests" / "data" / "foreign" / "claude-code"
          / "claude-code-2.1.328_orders.jsonl")


def make(mb: int) -> tuple[Path, int]:
    """The session file and the size of its huge line."""
    path = OUT / f"huge-{mb}.jsonl"
    lines = SAMPLE.read_bytes().splitlines()
    pasted = "PASTED " + "a line of a pasted source file, repeated\n" * (mb * 1024 * 1024 // 41)
    for k, raw in enumerate(lines):
        record = json.loads(raw)
        message = record.get("message") or {}
        if record.get("type") == "user" and isinstance(message.get("content"), str):
            message["content"] = pasted
            lines[k] = json.dumps(record).encode()
            huge = len(lines[k])
            break
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, huge


def _text_size(value: object) -> int:
    """Characters of every string in ``value`` (no copy of it is made)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(_text_size(v) for v in value.values())
    if isinstance(value, list):
        return sum(_text_size(v) for v in value)
    return 0


def child(path: str) -> None:
    """Index and load every step; print one JSON object."""
    from trace_tui.core.index.indexer import IndexedSource

    start = time.perf_counter()
    source = IndexedSource(Path(path))
    while not source.update().complete:
        pass
    indexed = time.perf_counter() - start
    rss_indexed = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    biggest = 0
    for index in range(len(source.run)):
        step = source.run.step(index)
        biggest = max(biggest, _text_size(step.attributes))
    loaded = time.perf_counter() - start
    print(json.dumps({"steps": len(source.run), "problems": len(source.run.problems),
                      "index_s": indexed, "index_and_load_s": loaded,
                      "peak_rss_after_index": rss_indexed,
                      "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      "biggest_step_text": biggest}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--make", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    if args.make:
        print(make(args.mb)[1])
        return
    # children inherit the peak RSS of the process that forks them: keep this one small
    made = subprocess.run([sys.executable, "-m", "bench.bench_huge_line", "--make", "--mb",
                           str(args.mb)], capture_output=True, text=True, check=True)
    path, huge = OUT / f"huge-{args.mb}.jsonl", int(made.stdout)
    base = subprocess.run([sys.executable, "-c", "import resource, trace_tui.core.index.indexer;"
                           "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)"],
                          capture_output=True, text=True, check=True)
    out = subprocess.run([sys.executable, "-m", "bench.bench_huge_line", "--child", str(path)],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    result["line_bytes"] = huge
    result["base_rss"] = int(base.stdout)
    result["peak_over_line"] = (result["peak_rss"] - result["base_rss"]) / huge
    result["load"] = Path("/proc/loadavg").read_text().split()[:3]
    (OUT / f"huge-{args.mb}.json").write_text(json.dumps(result, indent=2))
    for key, value in result.items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
