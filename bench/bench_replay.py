"""What showing a step costs when a stateful format is indexed from facts (replay on view).

``python -m bench.bench_replay --format codex --steps 100000`` (from the repository root) uses
the session file of ``bench/bench_index.py`` (generated once under ``bench/out/``), indexes it
both ways in this process (from facts: steps rebuilt by replaying the mapper from a
checkpoint; and ``use_light=False``: the mapper's records spilled and read back), then builds
steps the way a viewer does, in CPU milliseconds per step, both ways in the same run:

* ``first``: one step at the start, the middle and the end of the run, each the first step
  shown there (the replay restores a checkpoint and replays to the step's end);
* ``forward``: the next ``--walk`` steps from each place, one after the other (``j`` held
  down: the replay session goes on);
* ``late llm``: the last model call's input conversation, compared with the mapper's path.

Also: index CPU seconds and spill size both ways, and the orjson loop on the file. Prints a
table and writes ``bench/out/replay-<format>-<steps>.json``. ``--compact-every N`` writes a
session of its own (``bench/out/replay-<format>-<steps>-c<N>.jsonl``) whose context is
compacted every N turns instead of every 20 (``0``: never: the conversation, and what a late
step's replay restores, grows with the file).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_index import make_file  # noqa: E402
from bench.measure import reference_loop  # noqa: E402
from bench.run import machine  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"


def index(path: Path, light: bool) -> tuple[Any, float]:
    """An :class:`IndexedSource` of ``path`` updated until complete, and its CPU seconds."""
    from trace_tui.core.index.indexer import IndexedSource

    gc.collect()
    cpu = time.process_time()
    source = IndexedSource(path, use_light=light)
    while not source.update().complete:
        pass
    return source, time.process_time() - cpu


def build_ms(source: Any, indices: list[int]) -> float:
    """CPU milliseconds per step to build ``indices`` in order (the step cache emptied)."""
    source.run._loader.clear()
    cpu = time.process_time()
    for index in indices:
        source.run.step(index)
    return (time.process_time() - cpu) * 1000 / max(len(indices), 1)


def session_file(fmt: str, steps: int, compact_every: int | None) -> Path:
    """The bench file, or one compacted every ``compact_every`` turns (0: never)."""
    if compact_every is None:
        return make_file(fmt, steps)
    from bench import generate_sessions

    path = OUT / f"replay-{fmt}-{steps}-c{compact_every}.jsonl"
    if not path.exists():
        kept = generate_sessions.COMPACT_EVERY
        generate_sessions.COMPACT_EVERY = compact_every or 10**12
        try:
            generate_sessions.write_session(fmt, path, steps)
        finally:
            generate_sessions.COMPACT_EVERY = kept
    return path


def measure(fmt: str, steps: int, walk: int, compact_every: int | None = None
            ) -> dict[str, Any]:
    """Every measurement on one file (see the module doc)."""
    path = session_file(fmt, steps, compact_every)
    result: dict[str, Any] = {"format": fmt, "file": path.name, "bytes": path.stat().st_size,
                              "machine": machine()}
    cpu = time.process_time()
    reference_loop(path)
    result["orjson_cpu_s"] = time.process_time() - cpu
    light, light_cpu = index(path, True)
    full, full_cpu = index(path, False)
    count = len(light.run)
    result.update(steps=count, light_index_cpu_s=light_cpu, full_index_cpu_s=full_cpu,
                  light_vs_orjson=result["orjson_cpu_s"] / light_cpu,
                  full_vs_orjson=result["orjson_cpu_s"] / full_cpu,
                  light_spill_bytes=light.run._spill.size, full_spill_bytes=full.run._spill.size)
    places = {"start": 1, "middle": count // 2, "end": max(count - walk - 1, 0)}
    for name, at in places.items():
        for label, source in (("light", light), ("full", full)):
            if label == "light":
                light.run._replay._sessions.clear()  # a cold view: no replay session yet
            result[f"{label}_first_ms_{name}"] = build_ms(source, [at])
            result[f"{label}_forward_ms_{name}"] = build_ms(source, list(range(at, at + walk)))
    llm = light.run.find(kind="llm", start=count - 1, backward=True)
    light.run._replay._sessions.clear()
    light.run._loader.clear()
    cpu = time.process_time()
    late = light.run.step(llm).attributes.get("gen_ai.input.messages")
    result["light_late_llm_ms"] = (time.process_time() - cpu) * 1000
    full.run._loader.clear()
    cpu = time.process_time()
    expected = full.run.step(llm).attributes.get("gen_ai.input.messages")
    result["full_late_llm_ms"] = (time.process_time() - cpu) * 1000
    result["late_llm_index"] = llm
    result["late_llm_messages"] = len(late or [])
    result["late_llm_same"] = late == expected
    result["loadavg_at_end"] = os.getloadavg()
    light.close()
    full.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--format", default="codex")
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--walk", type=int, default=200)
    parser.add_argument("--compact-every", type=int, default=None)
    args = parser.parse_args()
    r = measure(args.format, args.steps, args.walk, args.compact_every)
    m = r["machine"]
    print(f"{m['date']}  {m['nproc']} cores  load {m['loadavg_at_start']} -> "
          f"{r['loadavg_at_end']}")
    print(f"{r['file']}: {r['steps']:,} steps, {r['bytes'] / 1e6:,.0f} MB")
    print(f"  index CPU: from facts {r['light_index_cpu_s']:.2f} s "
          f"({r['light_vs_orjson']:.3f}x the orjson loop), mapper + spill "
          f"{r['full_index_cpu_s']:.2f} s ({r['full_vs_orjson']:.3f}x); spill "
          f"{r['light_spill_bytes'] / 1e6:.1f} MB vs {r['full_spill_bytes'] / 1e6:.1f} MB")
    for name in ("start", "middle", "end"):
        print(f"  {name:6}  first step: replay {r[f'light_first_ms_{name}']:7.1f} ms, spill "
              f"{r[f'full_first_ms_{name}']:6.1f} ms;  next {args.walk} steps: replay "
              f"{r[f'light_forward_ms_{name}']:6.2f} ms/step, spill "
              f"{r[f'full_forward_ms_{name}']:6.2f} ms/step")
    print(f"  last model call (step {r['late_llm_index'] + 1}, {r['late_llm_messages']} input "
          f"messages): replay {r['light_late_llm_ms']:.1f} ms, spill "
          f"{r['full_late_llm_ms']:.1f} ms, same input: {r['late_llm_same']}")
    OUT.mkdir(parents=True, exist_ok=True)
    tail = "" if args.compact_every is None else f"-c{args.compact_every}"
    out = OUT / f"replay-{args.format}-{args.steps}{tail}.json"
    out.write_text(json.dumps(r, indent=2, default=str))


if __name__ == "__main__":
    main()
