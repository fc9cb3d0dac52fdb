"""Benchmark ``trace-tui triage``: a night of 10,000 runs (~1 GB), then 100 new files.

Generates the night with :mod:`bench.night` under ``bench/out/night`` (padding every model
call's input so the runs total about 1 GB), then times, in this order and each from a cold
cache file: the first triage of everything, and a second triage after 100 new runs were added
(only those are read). Prints the numbers and writes them to ``bench/out/triage.json``.

    python -m bench.bench_triage [--runs 10000] [--pad 33000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from bench.night import generate
from trace_tui.core.triage.collect import find_files, summarise_all
from trace_tui.core.triage.grouping import group_failures

OUT = Path(__file__).parent / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--pad", type=int, default=33_000)
    args = parser.parse_args()
    night = OUT / "night"
    if not (night / "manifest.json").exists() or \
            json.loads((night / "manifest.json").read_text()).get("size") != [args.runs, args.pad]:
        shutil.rmtree(night, ignore_errors=True)
        began = time.monotonic()
        generate(night, args.runs, seed=7, pad=args.pad)
        manifest = json.loads((night / "manifest.json").read_text())
        manifest["size"] = [args.runs, args.pad]
        (night / "manifest.json").write_text(json.dumps(manifest))
        print(f"generated {args.runs:,} runs in {time.monotonic() - began:.0f} s")
    cache = OUT / "triage-cache.jsonl"
    cache.unlink(missing_ok=True)
    files = find_files([str(night / "runs")])
    size = sum(f.stat().st_size for f in files)
    began = time.monotonic()
    summaries, read = summarise_all(find_files([str(night / "runs")]),
                                    policy=str(night / "policy.yaml"), cache=cache)
    groups = group_failures(summaries)
    first = time.monotonic() - began
    extra = night / "runs" / "late"
    shutil.rmtree(extra, ignore_errors=True)
    extra.mkdir()
    for number, source in enumerate(files[:100]):
        shutil.copy(source, extra / f"late-{number:03d}{source.suffix}")
    began = time.monotonic()
    again, read_again = summarise_all(find_files([str(night / "runs")]),
                                      policy=str(night / "policy.yaml"), cache=cache)
    group_failures(again)
    second = time.monotonic() - began
    shutil.rmtree(extra)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
        "load": round(os.getloadavg()[0], 1), "runs": len(files), "bytes": size,
        "first_seconds": round(first, 1), "first_read": read, "groups": len(groups),
        "second_seconds": round(second, 2), "second_read": read_again,
    }
    print(json.dumps(result, indent=2))
    (OUT / "triage.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
