"""Key-press latency of the real debugger app on a big trace: ``python -m bench.bench_keys``.

The app is built with the CLI's factory (``build_app``) and driven headless by Textual's pilot at
120x36 on a generated trace (1M steps by default, reusing ``bench/out/synthetic-N.jsonl`` when it
exists). Each key is pressed many times; a press is timed from sending the key until the app is
idle again, which includes handling the key and repainting every widget that changed.

The pilot itself costs time per press (it waits for the app to go idle). That cost is measured
the same way with a key bound to nothing and reported as the baseline; ``p99 - baseline`` is the
app's own share.

The pilot's idea of idle is "the process uses little CPU", which never holds while the reader
thread indexes: each press then waits the pilot's maximum (about 2 s) whatever the app does. So
every movement key is also timed as the user sees it: from posting the key
(``App.simulate_key``) until the cursor has moved and the screen has been refreshed after it
(``call_after_refresh``) -- the "painted" columns, which include waiting for the interpreter
while the reader thread holds it. ``--during-indexing`` measures only that way, starting after
100k steps. The "cpu" columns are the CPU time of the app's thread during a painted press
(less sensitive to the machine's load than wall time). ``--gap MS`` leaves MS of idle time
after each painted press, as a key held down does (30/s); without it the next press follows
the last frame at once and waits for Textual's next frame on its 60 fps grid. Prints a table
and writes ``bench/out/keys.json``. Not a test: timings vary with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # ``python bench/bench_keys.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import write_trace  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
#: (label, keys pressed in turn). Movement alternates so the cursor never sticks at an edge.
KEYS: list[tuple[str, list[str]]] = [
    ("baseline (unbound key)", ["f12"]),
    ("next / previous step (j, k)", ["j", "k"]),
    ("page down / up", ["pagedown", "pageup"]),
    ("last / first step (G, g)", ["G", "g"]),
    ("next / previous error (e, E)", ["e", "E"]),
    ("next / previous tool call (t, T)", ["t", "T"]),
]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def painted_press(app: Any, key: str, cpu: list[float] | None = None) -> float | None:
    """Milliseconds from posting ``key`` until the cursor moved and the screen was refreshed
    after it (``None`` if the cursor did not move within 10 s). ``cpu`` gets the CPU time the
    app's thread used meanwhile (ms; the wait loop's own polling included)."""
    screen = app.debugger
    before = screen.cursor.position
    start, cpu_start = time.perf_counter(), time.thread_time()
    app.simulate_key(key)
    while screen.cursor.position == before:
        if time.perf_counter() - start > 10:
            return None
        await asyncio.sleep(0.0005)
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    screen.call_after_refresh(lambda: done.done() or done.set_result(None))
    await done
    if cpu is not None:
        cpu.append((time.thread_time() - cpu_start) * 1000)
    return (time.perf_counter() - start) * 1000


def _row(timings: list[float], presses: int) -> dict[str, Any]:
    return {
        "p50_ms": round(statistics.median(timings), 2),
        "p99_ms": round(percentile(timings, 0.99), 2),
        "max_ms": round(max(timings), 2),
        "presses": presses,
        "timed": len(timings),
    }


async def measure(path: Path, presses: int, during_indexing: bool, gap: float = 0.0
                  ) -> dict[str, Any]:
    """Open ``path`` in the real app and time ``presses`` presses of each key group, once the
    whole file is indexed, or (``during_indexing``) while the reader is still working; painted
    presses ``gap`` ms apart (0: the next press as soon as the last one is on screen)."""
    from trace_tui.tui.app import build_app

    app = build_app(path)
    results: dict[str, Any] = {"during_indexing": during_indexing, "gap_ms": gap}
    async with app.run_test(size=(120, 36)) as pilot:
        started = time.monotonic()
        while time.monotonic() - started < 600:
            if app.debugger.complete or (during_indexing and app.debugger.count >= 100_000):
                break
            await asyncio.sleep(0.2)  # the background reader indexes the file
        results["seconds_until_measuring"] = round(time.monotonic() - started, 1)
        results["steps_indexed_at_start"] = app.debugger.count
        for label, keys in KEYS:
            # Start each group mid-run: alternating keys then never hit an edge, where the set
            # of possible actions (and so the footer) would change on every press.
            app.debugger.move_to(app.debugger.count // 2)
            await pilot.pause()
            if not during_indexing:
                timings: list[float] = []
                for n in range(presses):
                    start = time.perf_counter()
                    await pilot.press(keys[n % len(keys)])
                    timings.append((time.perf_counter() - start) * 1000)
                results[label] = _row(timings, presses)
            if keys != ["f12"]:
                painted, cpu = [], []
                for n in range(presses):
                    painted.append(await painted_press(app, keys[n % len(keys)], cpu))
                    if gap:
                        await asyncio.sleep(gap / 1000)
                results[f"{label} painted"] = _row([t for t in painted if t is not None],
                                                   presses)
                results[f"{label} painted cpu"] = _row(cpu, presses)
                await pilot.pause()
        results["steps_indexed_at_end"] = app.debugger.count
    return results


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) the trace, measure, print a table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1_000_000, help="size of the trace")
    parser.add_argument("--presses", type=int, default=200, help="presses per key group")
    parser.add_argument("--file", type=Path, help="measure this trace instead")
    parser.add_argument(
        "--during-indexing",
        action="store_true",
        help="measure while the reader is still indexing (after 100k steps)",
    )
    parser.add_argument(
        "--gap", type=float, default=0.0, metavar="MS",
        help="idle time between painted presses (0: back to back; Textual then draws the next "
             "frame on its 60 fps grid, up to 16.7 ms later; 20-35 ms is a key held down)",
    )
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    path = args.file or OUT / f"synthetic-{args.steps}.jsonl"
    if not path.exists():
        print(f"generating {path} ...", file=sys.stderr)
        write_trace(path, args.steps)
    results = asyncio.run(measure(path, args.presses, args.during_indexing, args.gap))
    print(
        f"{path.name}: {results['steps_indexed_at_start']:,} steps indexed when measuring began"
        f" ({results['seconds_until_measuring']} s after opening),"
        f" {results['steps_indexed_at_end']:,} when it ended"
    )
    base = results.get("baseline (unbound key)", {}).get("p50_ms", 0.0)
    print(f"{'key':<36} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'p99 - baseline':>15}"
          f"   painted: {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}   cpu: {'p50':>5} {'p99':>5}")
    for label, _ in KEYS:
        row, painted = results.get(label), results.get(f"{label} painted")
        pilot = (f"{row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} {row['max_ms']:>8.1f} "
                 f"{row['p99_ms'] - base:>15.1f}" if row else f"{'':>42}")
        cpu = results.get(f"{label} painted cpu")
        seen = (f"{painted['p50_ms']:>7.1f} {painted['p99_ms']:>7.1f} {painted['max_ms']:>7.1f}"
                f"        {cpu['p50_ms']:>5.1f} {cpu['p99_ms']:>5.1f}" if painted and cpu
                else "")
        print(f"{label:<36} {pilot}   {'':>8} {seen}")
    results.update(file=str(path), load=os.getloadavg(), cpus=os.cpu_count())
    (OUT / "keys.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
