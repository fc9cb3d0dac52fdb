"""Indexing the stateful JSON-lines formats (Claude Code, Codex): this tree next to another
trace_tui and the orjson loop, in one run.

``python -m bench.bench_stateful --steps 100000 --compare DIR`` (from the repository root) uses
the session files of ``bench/bench_index.py`` (``bench/generate_sessions.py``, generated once
under ``bench/out/``) and, for each format, alternates ``--rounds`` times: the
``for line in f: orjson.loads(line)`` loop, a full index (``IndexedSource`` updated until
complete) by this tree in a fresh child process, and the same by the trace_tui package found
in ``DIR`` (a folder holding a ``trace_tui`` link to an older commit's files), if given. Each
child reports its index time, its peak RSS over the RSS before indexing (per step), and the
spill's size. Best time of the rounds; ratios are the loop's time over the index's (1.0 = as
fast as the loop). Prints a table and writes ``bench/out/stateful-<steps>.json``.
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

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_index import make_file  # noqa: E402
from bench.measure import reference_loop  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
FORMATS = ("claude-code", "codex")


def child(path: Path, fmt_name: str) -> dict[str, Any]:
    """Index ``path`` here (the child process) and report time, memory and spill."""
    from bench.measure import peak_rss_bytes, rss_bytes
    from trace_tui.core.formats.registry import detect_format
    from trace_tui.core.index.indexer import IndexedSource

    fmt = detect_format(path)
    assert fmt.name == fmt_name, fmt.name
    before = rss_bytes()
    start = time.perf_counter()
    source = IndexedSource(path, fmt)
    while not source.update().complete:
        pass
    seconds = time.perf_counter() - start
    steps = len(source.run)
    spill = source.run._spill
    return {
        "seconds": seconds,
        "steps": steps,
        "rss_per_step": (peak_rss_bytes() - before) / max(steps, 1),
        "spill_mb": (spill.size if spill is not None else 0) / 1e6,
        "columns_per_step": source.run._cols.memory_bytes() / max(steps, 1),
    }


def in_child(path: Path, fmt_name: str, tree: str | None) -> dict[str, Any]:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = tree + os.pathsep + env.get("PYTHONPATH", "")
    code = (
        "import json, sys; from pathlib import Path; sys.path.insert(1, sys.argv[3]); "
        "from bench.bench_stateful import child; "
        "print(json.dumps(child(Path(sys.argv[1]), sys.argv[2])))"
    )
    root = str(Path(__file__).resolve().parent.parent)
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), fmt_name, root],
        env=env, capture_output=True, text=True, check=True, cwd="/",
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def load() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--compare", metavar="DIR")
    parser.add_argument("--formats", nargs="*", default=list(FORMATS))
    args = parser.parse_args()
    results: dict[str, Any] = {"load_before": load(), "steps": args.steps}
    for fmt in args.formats:
        path = make_file(fmt, args.steps)
        best: dict[str, Any] = {}
        for _ in range(args.rounds):
            runs = {"orjson loop": {"seconds": reference_loop(path)},
                    "this tree": in_child(path, fmt, None)}  # fmt: skip
            if args.compare:
                runs["--compare"] = in_child(path, fmt, args.compare)
            for label, run in runs.items():
                if label not in best or run["seconds"] < best[label]["seconds"]:
                    best[label] = run
        loop = best["orjson loop"]["seconds"]
        for run in best.values():
            run["ratio"] = loop / run["seconds"]
        results[fmt] = {"file_mb": path.stat().st_size / 1e6, **best}
    results["load_after"] = load()
    print(f"load before {results['load_before']}, after {results['load_after']}")
    for fmt in args.formats:
        print(f"--- {fmt} ({results[fmt]['file_mb']:.0f} MB, {args.steps} steps)")
        for label, run in results[fmt].items():
            if isinstance(run, dict):
                extra = "".join(f"  {k} {v:.1f}" for k, v in run.items()
                                if k not in ("seconds", "ratio", "steps"))  # fmt: skip
                print(f"{label:>12}: {run['seconds']:7.2f} s  ratio {run['ratio']:.3f}{extra}")
    OUT.mkdir(exist_ok=True)
    (OUT / f"stateful-{args.steps}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
