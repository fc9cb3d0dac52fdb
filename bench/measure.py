"""The measurements: indexing vs an orjson reference loop, memory, first screen, tail latency.

Each measurement that needs a clean memory picture (peak RSS, index bytes per step) runs in a
fresh child process (``python -m bench.measure index FILE``) and prints one JSON object.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from trace_tui.core.formats.native import NATIVE
from trace_tui.core.index.indexer import IndexedSource


def rss_bytes() -> int:
    """Current resident set size of this process."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reference_loop(path: Path) -> float:
    """Seconds for ``for line in file: orjson.loads(line)`` (the issue's reference)."""
    start = time.perf_counter()
    with open(path, "rb") as fh:
        for line in fh:
            orjson.loads(line)
    return time.perf_counter() - start


def index_file(path: Path) -> dict[str, Any]:
    """Index ``path`` completely; wall time, steps, memory (run this in a fresh process)."""
    gc.collect()
    base_rss = rss_bytes()
    start = time.perf_counter()
    source = IndexedSource(path, NATIVE)
    first = source.update()
    first_at = time.perf_counter() - start
    updates = 1
    while not source.update().complete:
        updates += 1
    seconds = time.perf_counter() - start
    steps = len(source.run)
    gc.collect()
    result = {
        "steps": steps,
        "bytes": path.stat().st_size,
        "index_seconds": seconds,
        "first_update_seconds": first_at,
        "first_update_steps": first.added,
        "updates": updates,
        "rss_delta_per_step": (rss_bytes() - base_rss) / max(steps, 1),
        "index_bytes_per_step": source.run.memory_bytes() / max(steps, 1),
        "peak_rss_bytes": peak_rss_bytes(),
        "problems": len(source.run.problems),
    }
    probe = time.perf_counter()
    for i in range(0, steps, max(1, steps // 1000)):
        source.run.row(i)
    result["row_microseconds"] = (time.perf_counter() - probe) / 1000 * 1e6
    probe = time.perf_counter()
    source.run.step(steps // 2)
    result["step_milliseconds"] = (time.perf_counter() - probe) * 1e3
    source.close()
    return result


def index_and_reference(path: Path, rounds: int = 2) -> dict[str, Any]:
    """Alternate the reference loop and indexing.

    ``rounds`` times each, keeping the best of each: alternating in one process, on the same
    file, makes the ratios fair on a busy machine. Memory figures come from the first
    indexing (the process was fresh then).
    """
    result: dict[str, Any] = {}
    references, singles = [], []
    for _ in range(rounds):
        references.append(reference_loop(path))
        run = index_file(path)
        result = result or run
        singles.append(run["index_seconds"])
    result["reference_seconds_all"] = references
    result["single_seconds_all"] = singles
    result["reference_seconds"] = min(references)
    result["index_seconds"] = min(singles)
    result["loadavg"] = os.getloadavg()
    return result


def index_in_child(path: Path) -> dict[str, Any]:
    """:func:`index_and_reference` in a fresh interpreter (clean peak RSS)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.measure", "index", str(path)],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["ratio"] = result["reference_seconds"] / result["index_seconds"]
    result["steps_per_second"] = result["steps"] / result["index_seconds"]
    result["mb_per_second"] = result["bytes"] / result["index_seconds"] / 1e6
    return result


# ----------------------------------------------------------------- tail latency
def tail_latency(directory: Path, rate: int, steps: int) -> dict[str, Any]:
    """Append ``steps`` at ``rate``/s from a child process; latency until visible in the model.

    The writer stamps each record with ``time.monotonic()`` (system-wide on Linux) in its
    ``start_time``; the reader computes ``now - start_time`` when the step first shows in
    ``len(run)``. The reader loop is the one the app runs: ``update()`` then ``wait()``.
    """
    path = directory / f"tail-{rate}.jsonl"
    path.write_bytes(b"")
    source = IndexedSource(path, NATIVE, follow=True)
    source.update()
    writer = subprocess.Popen(
        [sys.executable, "-m", "bench.measure", "write", str(path), str(rate), str(steps)],
        cwd=Path(__file__).resolve().parent.parent,
    )
    latencies: list[float] = []
    deadline = time.monotonic() + steps / rate + 30
    while len(source.run) < steps and time.monotonic() < deadline:
        before = len(source.run)
        source.update()
        now = time.monotonic()
        for i in range(before, len(source.run)):
            start = source.run.row(i).start_time
            if start is not None:
                latencies.append(now - start)
        source.wait(1.0)
    writer.wait()
    source.close()
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1e3  # noqa: E731
    return {
        "rate": rate,
        "steps": steps,
        "seen": len(latencies),
        "p50_ms": pick(0.50) if latencies else None,
        "p99_ms": pick(0.99) if latencies else None,
        "max_ms": latencies[-1] * 1e3 if latencies else None,
    }


def write_paced(path: Path, rate: int, steps: int) -> None:
    """Append ``steps`` native records at ``rate`` per second, in small flushed batches."""
    interval = 1.0 / rate
    start = time.monotonic()
    with open(path, "ab", buffering=0) as out:
        n = 0
        while n < steps:
            due = int((time.monotonic() - start) / interval) + 1
            batch = []
            while n < min(due, steps):
                batch.append(
                    orjson.dumps(
                        {
                            "type": "span",
                            "span_id": f"s{n}",
                            "kind": "tool",
                            "name": "t",
                            "start_time": time.monotonic(),
                            "attributes": {"pad": "x" * 700},
                        }
                    )
                    + b"\n"
                )
                n += 1
            if batch:
                out.write(b"".join(batch))
            time.sleep(min(interval, 0.001))


# ----------------------------------------------------------------- first screen
def first_screen(path: Path, marker: str, timeout: float = 30.0) -> dict[str, Any]:
    """Seconds until the real app, headless, shows ``marker`` on screen (or why not measured)."""
    try:
        from trace_tui.tui.app import build_app
    except ImportError as exc:
        return {"skipped": f"app not built ({exc})"}
    import asyncio

    async def measure() -> float:
        start = time.perf_counter()
        app = build_app(path)
        async with app.run_test(size=(120, 36)) as pilot:
            while marker not in _screen_text(app):
                if time.perf_counter() - start > timeout:
                    raise TimeoutError(f"{marker!r} not on screen after {timeout}s")
                await pilot.pause(0.005)
            return time.perf_counter() - start

    try:
        return {"seconds": asyncio.run(measure())}
    except Exception as exc:  # report, never fake a number
        return {"skipped": f"could not measure: {type(exc).__name__}: {exc}"}


def _screen_text(app: Any) -> str:
    return str(app.export_screenshot())


def main(argv: list[str]) -> int:
    """Child-process entry points: ``index FILE`` and ``write FILE RATE STEPS``."""
    if argv[:1] == ["index"]:
        print(json.dumps(index_and_reference(Path(argv[1]))))
        return 0
    if argv[:1] == ["write"]:
        write_paced(Path(argv[1]), int(argv[2]), int(argv[3]))
        return 0
    print("usage: python -m bench.measure index FILE | write FILE RATE STEPS", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
