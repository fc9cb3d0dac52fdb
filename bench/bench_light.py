"""A light decoder against its format's mapper and the orjson loop, in process CPU time, in one run.

``python -m bench.bench_light --format api-exchanges --steps 100000 --rounds 3`` (from the
repository root) takes the file ``bench/bench_index.py`` generates for that format and size
(``bench/out/``, generated once), then alternates, ``--rounds`` times:

* ``for line in f: orjson.loads(line)`` (the issue's reference);
* the full index with the format's light decoder (``IndexedSource``, as the app indexes);
* the full index with the mapper only (``IndexedSource(use_light=False)``: the path before the
  light decoder).

Each is timed with ``time.process_time()`` (this process's CPU time), so a machine shared with
other work inflates the three alike less than wall time would; the best round of each counts.
Prints the ratios and writes ``bench/out/light-<format>-<steps>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_index import FORMATS, OUT, make_file  # noqa: E402
from bench.run import machine  # noqa: E402


def _orjson_loop(path: Path) -> float:
    import orjson

    start = time.process_time()
    with open(path, "rb") as f:
        for line in f:
            orjson.loads(line)
    return time.process_time() - start


def _index(path: Path, light: bool) -> tuple[float, int, int]:
    """CPU seconds to index ``path``, its steps, and how many came through the light decoder."""
    from trace_tui.core.index.columns import ORIGIN_SOURCE_LINE
    from trace_tui.core.index.indexer import IndexedSource

    start = time.process_time()
    source = IndexedSource(path, use_light=light)
    while not source.update().complete:
        pass
    seconds = time.process_time() - start
    steps = len(source.run)
    taken = source.run._cols.origin.count(ORIGIN_SOURCE_LINE)
    source.close()
    return seconds, steps, taken


def measure(fmt: str, steps: int, rounds: int) -> dict[str, Any]:
    """Every measurement on one file (see the module doc)."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = make_file(fmt, steps)
    result: dict[str, Any] = {"format": fmt, "file": path.name, "bytes": path.stat().st_size,
                              "machine": machine(), "rounds": rounds}
    refs, lights, fulls = [], [], []
    for _ in range(rounds):
        refs.append(_orjson_loop(path))
        seconds, count, taken = _index(path, True)
        lights.append(seconds)
        fulls.append(_index(path, False)[0])
    result.update({
        "steps": count, "light_steps": taken,
        "orjson_cpu_s_all": refs, "light_cpu_s_all": lights, "mapper_cpu_s_all": fulls,
        "orjson_cpu_s": min(refs), "light_cpu_s": min(lights), "mapper_cpu_s": min(fulls),
        "loadavg_at_end": os.getloadavg(),
    })
    result["light_vs_orjson"] = result["orjson_cpu_s"] / result["light_cpu_s"]
    result["mapper_vs_orjson"] = result["orjson_cpu_s"] / result["mapper_cpu_s"]
    result["light_vs_mapper"] = result["mapper_cpu_s"] / result["light_cpu_s"]
    return result


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module doc)."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_light",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("--format", choices=[f for f in FORMATS if f != "native"],
                        default="api-exchanges")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    r = measure(args.format, args.steps, args.rounds)
    target = OUT / f"light-{args.format}-{args.steps}.json"
    target.write_text(json.dumps(r, indent=2))
    m = r["machine"]
    print(f"{m['date']}  {m['nproc']} cores  {m['cpu']}  load {m['loadavg_at_start']} -> "
          f"{r['loadavg_at_end']}")
    print(f"{r['file']}: {r['steps']:,} steps ({r['light_steps']:,} light), "
          f"{r['bytes'] / 1e6:,.0f} MB, best of {r['rounds']} (process CPU)")
    print(f"  orjson loop   {r['orjson_cpu_s']:8.2f} s")
    print(f"  light index   {r['light_cpu_s']:8.2f} s   = {r['light_vs_orjson']:.2f}x the orjson "
          f"loop's throughput, {r['light_vs_mapper']:.1f}x the mapper's")
    print(f"  mapper index  {r['mapper_cpu_s']:8.2f} s   = {r['mapper_vs_orjson']:.2f}x")
    print(f"written {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
