"""First screen: ``trace-tui open FILE`` against toolong's ``tl FILE``, both in a pty.

Each program is started as a user starts it, in a pseudo-terminal of a fixed size, and timed from
just before the process is created until a marker text of the file's first screen is on the
terminal (the escape sequences of the output are removed before looking; Textual writes the
characters of one screen row contiguously). Both programs are measured on the same two files in
one run, alternating which goes first, ``--rounds`` times each: a 5-step trace and a ~1 GB
trace (``bench/out/synthetic-5.jsonl`` and ``synthetic-1000000.jsonl``, generated when missing).
The process is killed once the marker is seen.

Markers: for trace-tui the name of the first model call (``chat gpt-4o``, a row of the span tree
that appears once the reader posted the first steps); for toolong the start of the file's first
line (``"schema_version":1``), which it shows once the file is open. ``--toolong`` names the ``tl``
executable (toolong 1.5.0 in its own virtualenv: ``python3 -m venv /work/toolong-venv &&
/work/toolong-venv/bin/pip install toolong==1.5.0``).

Prints a table of the best and median times and the ratio trace-tui / toolong (target <= 0.6),
and writes ``bench/out/first_screen.json``. Not a test: timings vary with the machine's load.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import select
import signal
import statistics
import struct
import sys
import termios
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # ``python bench/bench_first_screen.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.generate import write_trace  # noqa: E402

OUT = Path(__file__).resolve().parent / "out"
TRACE_TUI_MARKER = b"chat gpt-4o"
TOOLONG_MARKER = b'"schema_version":1'
#: CSI, OSC, DCS/APC/PM strings and two-byte escapes, as Textual writes them.
_ESCAPES = re.compile(
    rb"\x1b\[[0-?]*[ -/]*[@-~]"
    rb"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"
    rb"|\x1b[P_^][^\x1b]*\x1b\\"
    rb"|\x1b[@-Z\\-_]"
    rb"|[\x00-\x08\x0b-\x1f\x7f]"
)


def _child(argv: list[str], size: tuple[int, int]) -> tuple[int, int]:
    """Start ``argv`` on a new pseudo-terminal of ``size`` (cols, rows); (pid, master fd)."""
    master, slave = os.openpty()
    cols, rows = size
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    pid = os.fork()
    if pid == 0:  # the child: its own session with the pty as its controlling terminal
        try:
            os.close(master)
            os.setsid()
            fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
            for fd in (0, 1, 2):
                os.dup2(slave, fd)
            if slave > 2:
                os.close(slave)
            env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor",
                       COLUMNS=str(cols), LINES=str(rows))
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    os.close(slave)
    return pid, master


def first_screen(argv: list[str], marker: bytes, size: tuple[int, int],
                 timeout: float = 120.0) -> float:
    """Seconds from starting ``argv`` until ``marker`` is on its terminal (then it is killed)."""
    start = time.perf_counter()
    pid, master = _child(argv, size)
    raw = bytearray()
    checked = 0
    try:
        while True:
            left = timeout - (time.perf_counter() - start)
            if left <= 0:
                raise TimeoutError(f"{marker!r} not on the screen of {argv} after {timeout} s")
            ready, _, _ = select.select([master], [], [], min(left, 1.0))
            if not ready:
                continue
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:  # the child exited and the pty closed
                chunk = b""
            if not chunk:
                tail = _ESCAPES.sub(b"", bytes(raw[-4000:])).decode(errors="replace")
                raise RuntimeError(f"{argv} exited before showing {marker!r}: {tail!r}")
            raw += chunk
            # look again at the new bytes, with enough before them for a split sequence
            window = bytes(raw[max(0, checked - 512):])
            checked = len(raw)
            if marker in _ESCAPES.sub(b"", window):
                return time.perf_counter() - start
    finally:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        os.close(master)


def _trace_tui() -> str:
    """The ``trace-tui`` script of this interpreter's environment."""
    script = Path(sys.executable).parent / "trace-tui"
    if not script.exists():
        raise SystemExit(f"no {script}: install trace-tui in this environment (pip install -e .)")
    return str(script)


def measure(files: dict[str, Path], toolong: str, rounds: int,
            size: tuple[int, int]) -> dict[str, Any]:
    """Time both programs on every file, ``rounds`` times, alternating who goes first."""
    programs = {
        "trace-tui": lambda path: ([_trace_tui(), "open", str(path)], TRACE_TUI_MARKER),
        "toolong": lambda path: ([toolong, str(path)], TOOLONG_MARKER),
    }
    times: dict[str, dict[str, list[float]]] = {
        label: {name: [] for name in programs} for label in files
    }
    for label, path in files.items():
        first_screen(*programs["trace-tui"](path), size)  # warm the page cache and .pyc files
        first_screen(*programs["toolong"](path), size)
        for n in range(rounds):
            order = list(programs) if n % 2 == 0 else list(reversed(programs))
            for name in order:
                argv, marker = programs[name](path)
                times[label][name].append(first_screen(argv, marker, size))
    results: dict[str, Any] = {"rounds": rounds, "size": f"{size[0]}x{size[1]}"}
    for label, path in files.items():
        row: dict[str, Any] = {"file": str(path), "bytes": path.stat().st_size}
        for name in programs:
            values = times[label][name]
            row[name] = {"best_s": round(min(values), 4),
                         "median_s": round(statistics.median(values), 4),
                         "all_s": [round(v, 4) for v in values]}
        row["ratio_best"] = round(row["trace-tui"]["best_s"] / row["toolong"]["best_s"], 3)
        row["ratio_median"] = round(row["trace-tui"]["median_s"] / row["toolong"]["median_s"], 3)
        results[label] = row
    return results


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) the two traces, measure, print a table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each program per file")
    parser.add_argument("--toolong", default="/work/toolong-venv/bin/tl",
                        help="the tl executable (toolong 1.5.0)")
    parser.add_argument("--small", type=Path, help="the small trace (default: 5 steps)")
    parser.add_argument("--big", type=Path, help="the big trace (default: 1M steps, ~0.9 GB)")
    parser.add_argument("--size", default="120x36", help="terminal COLSxROWS")
    args = parser.parse_args(argv)
    cols, rows = (int(v) for v in args.size.split("x"))
    OUT.mkdir(parents=True, exist_ok=True)
    files = {"5-line": args.small or OUT / "synthetic-5.jsonl",
             "1 GB": args.big or OUT / "synthetic-1000000.jsonl"}
    for label, steps in (("5-line", 5), ("1 GB", 1_000_000)):
        if not files[label].exists():
            print(f"generating {files[label]} ...", file=sys.stderr)
            write_trace(files[label], steps)
    load_before = os.getloadavg()
    results = measure(files, args.toolong, args.rounds, (cols, rows))
    results.update(load_before=load_before, load_after=os.getloadavg(), cpus=os.cpu_count(),
                   date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    print(f"first screen, {args.rounds} rounds, {args.size}, load {load_before[0]:.1f} → "
          f"{results['load_after'][0]:.1f}")
    print(f"{'file':<8} {'MB':>6} {'trace-tui best/median s':>24} {'toolong best/median s':>22}"
          f" {'ratio best':>10} {'ratio median':>12}")
    for label in files:
        row = results[label]
        ours, theirs = row["trace-tui"], row["toolong"]
        print(f"{label:<8} {row['bytes'] / 1e6:>6.0f} "
              f"{ours['best_s']:>11.3f} / {ours['median_s']:<10.3f}"
              f"{theirs['best_s']:>10.3f} / {theirs['median_s']:<9.3f}"
              f" {row['ratio_best']:>10.2f} {row['ratio_median']:>12.2f}")
    (OUT / "first_screen.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
