"""Index speed and memory of every JSON-lines format, next to the orjson loop and grep, in one run.

``python -m bench.bench_index --format otlp --steps 1000000`` (from the repository root)
generates a file of that format and size under ``bench/out/`` (git-ignored, generated once and
reused; native and OTLP files are those of ``bench/bench_search.py``, with a rare word in the
last step), then measures on that same file, in one run:

* ``for line in f: orjson.loads(line)`` (the issue's reference, ``bench/measure.py``);
* ``grep -c -F WORD`` (a word in many lines);
* CPU seconds next to wall seconds for each (``cpu_ratio_*``: less disturbed by a loaded
  machine than wall-clock ratios);
* trace-tui's full index (``IndexedSource`` with the format detected, updated until complete)
  in a fresh child process, with its peak RSS over the RSS before indexing, per step, and the
  per-step facts the screen needs (``RunFacts.scan`` from the columns) after it: index + facts
  is what the app waits for before it is fully loaded.

Formats: ``native``, ``otlp``, ``claude-code``, ``codex``, ``api-exchanges``. ``--rounds N``
alternates reference and index N times and keeps the best of each (memory from the first).
``--full`` also indexes the file once with the light decoders off (``use_light=False``), for
the light path's gain measured in the same run.
Prints a table and writes ``bench/out/index-<format>-<steps>.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_search import make_file as search_file  # noqa: E402
from bench.generate_sessions import MAKERS, write_session  # noqa: E402
from bench.measure import peak_rss_bytes, reference_loop, rss_bytes  # noqa: E402
from bench.run import machine  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
FORMATS = ("native", "otlp", *MAKERS)
#: The format name trace-tui gives each generated file.
DETECTED = {"native": "native", "otlp": "otlp-jsonl", "claude-code": "claude-code",
            "codex": "codex", "api-exchanges": "api-exchanges"}
WORD = "refund"


def make_file(fmt: str, steps: int) -> Path:
    """The benchmark file of ``fmt`` with about ``steps`` steps (generated once)."""
    if fmt in ("native", "otlp"):
        return search_file(fmt, steps)
    path = OUT / f"index-{fmt}-{steps}.jsonl"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        write_session(fmt, tmp, steps)
        os.replace(tmp, path)
    return path


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def grep_count(path: Path, word: str) -> tuple[float, float, int]:
    """Seconds, CPU seconds and result of ``grep -c -F word path``."""
    start, cpu = time.perf_counter(), children_cpu()
    out = subprocess.run(["grep", "-c", "-F", word, str(path)], capture_output=True, text=True,
                         check=False)
    return time.perf_counter() - start, children_cpu() - cpu, int(out.stdout.strip() or 0)


def reference_cpu(path: Path) -> tuple[float, float]:
    """Seconds and CPU seconds of the orjson loop (``bench/measure.py``)."""
    cpu = time.process_time()
    seconds = reference_loop(path)
    return seconds, time.process_time() - cpu


def index_here(path: Path, full: bool = False) -> dict[str, Any]:
    """Index ``path`` completely in this (fresh) process: time, memory, facts, problems.

    ``full`` turns the light decoders off (``use_light=False``): every record fully mapped.
    """
    from trace_tui.core.index.indexer import IndexedSource
    from trace_tui.core.navigation.run_facts import RunFacts

    gc.collect()
    base_rss = rss_bytes()
    start, cpu = time.perf_counter(), time.process_time()
    source = IndexedSource(path, use_light=False) if full else IndexedSource(path)
    updates = 0
    while not source.update().complete:
        updates += 1
    index_s, index_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    peak = peak_rss_bytes()
    steps = len(source.run)
    facts = RunFacts()
    start = time.perf_counter()
    while facts.scan(source.run, chunk=1_000_000):
        pass
    facts_s = time.perf_counter() - start
    gc.collect()
    result = {
        "format_detected": source.format_name,
        "steps": steps,
        "index_s": index_s,
        "index_cpu_s": index_cpu_s,
        "updates": updates + 1,
        "facts_s": facts_s,
        "base_rss_bytes": base_rss,
        "peak_rss_bytes": peak,
        "peak_rss_per_step": (peak - base_rss) / max(steps, 1),
        "rss_after_per_step": (rss_bytes() - base_rss) / max(steps, 1),
        "columns_bytes_per_step": source.run.memory_bytes() / max(steps, 1),
        "spill_bytes": source.run._spill.size if source.run._spill is not None else 0,
        "problems": len(source.run.problems),
        "first_problems": [p.message for p in source.run.problems[:3]],
        "errors": facts.error_count,
    }
    source.close()
    return result


def index_in_child(path: Path, full: bool = False) -> dict[str, Any]:
    """:func:`index_here` in a fresh interpreter (a clean peak RSS)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_index", "--child", str(path),
         *(["--full"] if full else [])],
        check=True, capture_output=True, text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure(fmt: str, steps: int, rounds: int, word: str, full: bool = False) -> dict[str, Any]:
    """Every measurement on one file (see the module doc)."""
    OUT.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    path = make_file(fmt, steps)
    result: dict[str, Any] = {"format": fmt, "file": path.name, "bytes": path.stat().st_size,
                              "generate_s": time.perf_counter() - start, "machine": machine()}
    refs, indexes, greps, child = [], [], [], None
    ref_cpu, index_cpu, grep_cpu = [], [], []
    for _ in range(rounds):
        seconds, cpu = reference_cpu(path)
        refs.append(seconds)
        ref_cpu.append(cpu)
        seconds, cpu, count = grep_count(path, word)
        greps.append(seconds)
        grep_cpu.append(cpu)
        run = index_in_child(path)
        child = child or run
        indexes.append(run["index_s"])
        index_cpu.append(run["index_cpu_s"])
    assert child is not None
    result.update(child)
    result.update({
        "orjson_s_all": refs, "index_s_all": indexes, "grep_s_all": greps,
        "orjson_s": min(refs), "index_s": min(indexes), "grep_s": min(greps),
        "orjson_cpu_s": min(ref_cpu), "index_cpu_s": min(index_cpu),
        "grep_cpu_s": min(grep_cpu),
        "grep_word": word, "grep_count": count, "rounds": rounds,
        "loadavg_at_end": os.getloadavg(),
    })
    result["cpu_ratio_index_vs_orjson"] = result["orjson_cpu_s"] / result["index_cpu_s"]
    result["loaded_s"] = result["index_s"] + result["facts_s"]
    result["ratio_index_vs_orjson"] = result["orjson_s"] / result["index_s"]
    result["ratio_loaded_vs_orjson"] = result["loaded_s"] / result["orjson_s"]
    result["ratio_index_vs_grep"] = result["index_s"] / max(result["grep_s"], 1e-9)
    if full:  # the same file through the full mappers, after the rounds (same run)
        slow = index_in_child(path, full=True)
        result["full"] = slow
        result["ratio_full_vs_orjson"] = result["orjson_s"] / slow["index_s"]
        result["light_speedup"] = slow["index_s"] / result["index_s"]
        result["light_speedup_cpu"] = slow["index_cpu_s"] / result["index_cpu_s"]
    result["mb_per_s"] = result["bytes"] / 1e6 / result["index_s"]
    result["steps_per_s"] = result["steps"] / result["index_s"]
    return result


def print_result(r: dict[str, Any]) -> None:
    """The human-readable summary of one run."""
    m = r["machine"]
    print(f"{m['date']}  {m['nproc']} cores  {m['cpu']}  load {m['loadavg_at_start']} -> "
          f"{r['loadavg_at_end']}")
    print(f"{r['file']}: {r['format_detected']}, {r['steps']:,} steps, {r['bytes'] / 1e6:,.0f} MB, "
          f"{r['problems']} problems, {r['errors']:,} error steps")
    print(f"  orjson loop   {r['orjson_s']:8.2f} s")
    print(f"  grep -c       {r['grep_s']:8.2f} s   "
          f"({r['grep_count']:,} lines with {r['grep_word']!r})")
    print(f"  index         {r['index_s']:8.2f} s   = {r['ratio_index_vs_orjson']:.2f}x the orjson "
          f"loop's throughput ({r['cpu_ratio_index_vs_orjson']:.2f}x in CPU seconds), "
          f"{r['ratio_index_vs_grep']:.0f}x grep's time, {r['mb_per_s']:.0f} MB/s")
    print(f"  + facts       {r['facts_s']:8.2f} s   loaded {r['loaded_s']:.2f} s = "
          f"{r['ratio_loaded_vs_orjson']:.2f}x the orjson loop's time")
    print(f"  memory        peak RSS {r['peak_rss_per_step']:.0f} B/step over the base "
          f"({r['peak_rss_bytes'] / 1e6:,.0f} MB peak), after {r['rss_after_per_step']:.0f} "
          f"B/step, columns {r['columns_bytes_per_step']:.0f} B/step, spill "
          f"{r.get('spill_bytes', 0) / 1e6:,.1f} MB")
    if "full" in r:
        f = r["full"]
        print(f"  full mappers  {f['index_s']:8.2f} s   = {r['ratio_full_vs_orjson']:.2f}x the "
              f"orjson loop's throughput; light path {r['light_speedup']:.1f}x faster "
              f"({r['light_speedup_cpu']:.1f}x in CPU seconds); peak RSS "
              f"{f['peak_rss_per_step']:.0f} B/step, spill {f.get('spill_bytes', 0) / 1e6:,.1f} "
              f"MB, {f['problems']} problems")


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module doc)."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_index",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("--format", choices=FORMATS, default="otlp")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--word", default=WORD)
    parser.add_argument("--full", action="store_true",
                        help="also index with the light decoders off (use_light=False)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(index_here(args.child, args.full)))
        return 0
    result = measure(args.format, args.steps, args.rounds, args.word, args.full)
    target = OUT / f"index-{args.format}-{args.steps}.json"
    target.write_text(json.dumps(result, indent=2))
    print_result(result)
    print(f"written {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
