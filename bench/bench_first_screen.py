"""First screen: ``trace-tui open FILE`` against toolong's ``tl FILE``, both in a pty.

Each program is started as a user starts it, in a pseudo-terminal of a fixed size, and timed from
just before the process is created until a marker text of the file's first screen is on the
terminal (the escape sequences of the output are removed before looking; Textual writes the
characters of one screen row contiguously). Both programs are measured on the same two files in
one run, alternating which goes first, ``--rounds`` times each: a 5-step trace and a ~1 GB
trace (``bench/out/synthetic-5.jsonl`` and ``synthetic-1000000.jsonl``, generated when missing).
The process is killed once the marker is seen.

Markers: for trace-tui the name of the first model call (``chat gpt-4o``, a row of the span tree
that appears once the reader posted the first steps); for toolong the start of the file's last
line (toolong opens a file at its end, tailing it), which it shows once the file is open.
``--toolong`` names the ``tl`` executable (toolong 1.5.0 in its own virtualenv: ``python3 -m
venv /work/toolong-venv && /work/toolong-venv/bin/pip install toolong==1.5.0``); ``--also
main=/work/main/.venv/bin/trace-tui`` measures another trace-tui in the same run.

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


def last_line_start(path: Path, size: int = 40) -> bytes:
    """The first ``size`` bytes of the file's last line (toolong's marker)."""
    with open(path, "rb") as fh:
        fh.seek(max(0, path.stat().st_size - (1 << 20)))
        return fh.read().rstrip(b"\n").rsplit(b"\n", 1)[-1][:size]


def _trace_tui() -> str:
    """The ``trace-tui`` script of this interpreter's environment."""
    script = Path(sys.executable).parent / "trace-tui"
    if not script.exists():
        raise SystemExit(f"no {script}: install trace-tui in this environment (pip install -e .)")
    return str(script)


def measure(files: dict[str, Path], programs: dict[str, str], rounds: int,
            size: tuple[int, int]) -> dict[str, Any]:
    """Time every program on every file, ``rounds`` times, rotating who goes first.

    ``programs`` maps a label to an executable: labels starting with ``trace-tui`` are run as
    ``EXE open FILE``, ``toolong`` as ``EXE FILE``.
    """
    def command(name: str, path: Path) -> tuple[list[str], bytes]:
        if name.startswith("toolong"):
            return [programs[name], str(path)], last_line_start(path)
        return [programs[name], "open", str(path)], TRACE_TUI_MARKER

    names = list(programs)
    times: dict[str, dict[str, list[float]]] = {
        label: {name: [] for name in names} for label in files
    }
    for label, path in files.items():
        for name in names:  # warm the page cache and the .pyc files
            first_screen(*command(name, path), size)
        for n in range(rounds):
            for name in names[n % len(names):] + names[:n % len(names)]:
                times[label][name].append(first_screen(*command(name, path), size))
    results: dict[str, Any] = {"rounds": rounds, "size": f"{size[0]}x{size[1]}",
                               "programs": programs}
    for label, path in files.items():
        row: dict[str, Any] = {"file": str(path), "bytes": path.stat().st_size}
        for name in names:
            values = times[label][name]
            row[name] = {"best_s": round(min(values), 4),
                         "median_s": round(statistics.median(values), 4),
                         "all_s": [round(v, 4) for v in values]}
            if name != "toolong":
                row[name]["ratio_best"] = round(min(values) / min(times[label]["toolong"]), 3)
                row[name]["ratio_median"] = round(
                    statistics.median(values) / statistics.median(times[label]["toolong"]), 3)
        results[label] = row
    return results


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) the two traces, measure, print a table, write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="runs of each program per file")
    parser.add_argument("--toolong", default="/work/toolong-venv/bin/tl",
                        help="the tl executable (toolong 1.5.0)")
    parser.add_argument("--also", action="append", default=[], metavar="LABEL=EXE",
                        help="another trace-tui to measure in the same run (e.g. "
                             "main=/work/main/.venv/bin/trace-tui)")
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
    programs = {"trace-tui": _trace_tui()}
    for item in args.also:
        label, _, exe = item.partition("=")
        programs[f"trace-tui {label}"] = exe
    programs["toolong"] = args.toolong
    load_before = os.getloadavg()
    results = measure(files, programs, args.rounds, (cols, rows))
    results.update(load_before=load_before, load_after=os.getloadavg(), cpus=os.cpu_count(),
                   date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    print(f"first screen, {args.rounds} rounds, {args.size}, load {load_before[0]:.1f} → "
          f"{results['load_after'][0]:.1f}; seconds best / median, ratio to toolong's")
    for label in files:
        row = results[label]
        print(f"{label} ({row['bytes'] / 1e6:,.0f} MB)")
        for name in programs:
            cell = row[name]
            ratio = (f"  ratio {cell['ratio_best']:.2f} / {cell['ratio_median']:.2f}"
                     if "ratio_best" in cell else "")
            print(f"  {name:<20} {cell['best_s']:7.3f} / {cell['median_s']:<7.3f}{ratio}")
    (OUT / "first_screen.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
