"""The app fully loaded on a big OTLP file, next to lnav and the orjson loop, in one run.

``python -m bench.bench_lnav --steps 1000000`` (from the repository root) uses the OTLP/JSON
lines file of ``bench/bench_index.py`` (1.34 GB at 1M spans, generated once under
``bench/out/``) and measures, one after the other on the same (page-cached) file:

* ``for line in f: orjson.loads(line)`` (the issue's reference);
* **lnav** in a detached tmux window: ``G`` is pressed as soon as lnav draws, and again every
  0.2 s, until the status bar shows the line number of the file's last line (``L<n>``,
  0-based) -- the time from starting lnav. (``lnav -n`` prints every line: something else.)
* **trace-tui** (``trace-tui open FILE``) in the same kind of window: the first screen with a
  step on it, ``G`` pressed then (once, as a user would), the time the status line first shows
  the last step (``step N/N``), the time the index is complete (all N steps, no ``reading``)
  and the time it is fully loaded: the status shows all N steps and no longer says
  ``reading`` or ``scanning`` (the facts pass). The RSS and CPU seconds of both programs are
  read from ``/proc`` at their end point.

``--other DIR`` (a folder holding another ``trace_tui``, as for ``bench_trees``) measures that
tree's app too, right after this one's, and gives the CPU ratio of the two (``--skip-lnav``:
the apps only). The screen is polled every 50 ms with ``tmux capture-pane`` (a few ms of CPU
per poll). Prints a table and writes ``bench/out/lnav-otlp-<steps>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_index import OUT, make_file  # noqa: E402
from bench.measure import reference_loop  # noqa: E402
from bench.run import machine  # noqa: E402

SOCKET = "bench-lnav"
POLL = 0.05
_LNAV_LINE = re.compile(r"^ L([\d,]+)\s", re.MULTILINE)


class Window:
    """A program in a detached tmux window of a fixed size (its own tmux server socket)."""

    def __init__(self, name: str, command: list[str], size: str = "200x50") -> None:
        cols, rows = size.split("x")
        self.name = name
        start = ["tmux", "-L", SOCKET, "new-session", "-d", "-s", name, "-x", cols, "-y", rows,
                 "exec env TERM=xterm-256color COLORTERM=truecolor " + shlex.join(command)]
        for _ in range(20):  # the server of the previous window may still be exiting
            self.started = time.perf_counter()
            if subprocess.run(start, capture_output=True, check=False).returncode == 0:
                break
            time.sleep(0.1)
        else:
            self.started = time.perf_counter()
            subprocess.run(start, check=True)
        out = subprocess.run(["tmux", "-L", SOCKET, "list-panes", "-t", name, "-F",
                              "#{pane_pid}"], capture_output=True, text=True, check=True)
        self.pid = int(out.stdout.split()[0])

    def screen(self) -> str:
        out = subprocess.run(["tmux", "-L", SOCKET, "capture-pane", "-p", "-t", self.name],
                             capture_output=True, text=True, check=False)
        return out.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "-L", SOCKET, "send-keys", "-t", self.name, *keys], check=False)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def memory(self) -> dict[str, int]:
        """VmRSS and VmHWM (peak) of the program, in bytes."""
        found: dict[str, int] = {}
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    found[key] = int(value.split()[0]) * 1024
        except OSError:
            pass
        return found

    def cpu(self) -> float | None:
        """CPU seconds (user + system, every thread) the program has used so far."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", SOCKET, "kill-session", "-t", self.name],
                       capture_output=True, check=False)


def wait_for(window: Window, done: Callable[[str], bool], timeout: float,
             every: Callable[[str], None] | None = None) -> tuple[float | None, str]:
    """Poll until ``done(screen)``; seconds since the start (``None`` on timeout), last screen."""
    screen = ""
    while window.elapsed() < timeout:
        screen = window.screen()
        if done(screen):
            return window.elapsed(), screen
        if every is not None:
            every(screen)
        time.sleep(POLL)
    return None, screen


def lnav_time(path: Path, last_line: int, timeout: float) -> dict[str, Any]:
    """Seconds from starting lnav until its status shows the last line, ``G`` pressed."""
    window = Window("lnav", ["lnav", str(path)])
    pressed = [-1e9]

    def line_of(screen: str) -> int | None:
        found = _LNAV_LINE.findall(screen)
        return int(found[-1].replace(",", "")) if found else None

    def press(screen: str) -> None:
        if line_of(screen) is not None and window.elapsed() - pressed[0] >= 0.2:
            window.keys("G")
            pressed[0] = window.elapsed()

    try:
        first, _ = wait_for(window, lambda s: line_of(s) is not None, timeout)
        seconds, screen = wait_for(window, lambda s: line_of(s) == last_line, timeout, press)
        return {"first_screen_s": first, "last_line_s": seconds, "memory": window.memory(),
                "cpu_s": window.cpu(),
                "status_line": next((ln.strip() for ln in screen.splitlines()
                                     if _LNAV_LINE.match(ln)), None)}
    finally:
        window.close()


def app_time(path: Path, steps: int, timeout: float, other: str | None = None) -> dict[str, Any]:
    """First screen, last step after ``G``, and fully loaded, for ``trace-tui open`` (or, with
    ``other``, ``python -m trace_tui open`` of the ``trace_tui`` package in that folder)."""
    if other is None:
        command = [str(Path(sys.executable).with_name("trace-tui")), "open", str(path)]
    else:
        command = ["env", f"PYTHONPATH={Path(other).resolve()}", sys.executable, "-m",
                   "trace_tui", "open", str(path.resolve())]  # fmt: skip
    window = Window("app", command)
    total = f"/{steps:,}"
    result: dict[str, Any] = {}

    def status(screen: str) -> str:
        return next((ln for ln in reversed(screen.splitlines()) if " step " in ln
                     or "no steps yet" in ln), "")

    def loaded(screen: str) -> bool:
        line = status(screen)
        if f"step {steps:,}{total}" in line and "at_last_s" not in result:
            result["at_last_s"] = window.elapsed()
        if total in line and "reading" not in line and "indexed_s" not in result:
            result["indexed_s"] = window.elapsed()  # index done; facts may still be scanning
        return total in line and not any(w in line for w in ("reading", "scanning", "going"))

    try:
        result["first_screen_s"], _ = wait_for(window, lambda s: " step " in status(s), timeout)
        window.keys("G")  # once a step shows (a G pressed at "no steps yet" is lost today)
        result["loaded_s"], screen = wait_for(window, loaded, timeout)
        result["memory"] = window.memory()
        result["cpu_s"] = window.cpu()
        result["status_line"] = status(screen).strip()
        if "at_last_s" not in result:  # G still on its way: up to 30 s more
            result["at_last_s"], _ = wait_for(
                window, lambda s: f"step {steps:,}{total}" in status(s),
                window.elapsed() + 30)
        window.keys("q")
        return result
    finally:
        window.close()


def count_lines(path: Path) -> int:
    out = subprocess.run(["wc", "-l", str(path)], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def version(command: list[str]) -> str:
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).strip().splitlines()[0]


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module doc)."""
    parser = argparse.ArgumentParser(prog="python -m bench.bench_lnav",
                                     description=__doc__.split("\n", 1)[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--skip-app", action="store_true", help="measure lnav only")
    parser.add_argument("--other", help="a folder holding another trace_tui: its app is "
                        "measured too, right after this tree's (bench_trees' convention)")
    parser.add_argument("--skip-lnav", action="store_true", help="measure the app(s) only")
    args = parser.parse_args(argv)
    path = make_file("otlp", args.steps)
    lines = count_lines(path)
    result: dict[str, Any] = {
        "file": path.name, "bytes": path.stat().st_size, "lines": lines, "machine": machine(),
        "tmux": version(["tmux", "-V"]),
    }
    if not args.skip_lnav:
        result["lnav"] = version(["lnav", "-V"])
    cpu = time.process_time()
    result["orjson_s"] = reference_loop(path)
    result["orjson_cpu_s"] = time.process_time() - cpu
    if not args.skip_lnav:
        result["lnav_run"] = lnav_time(path, lines - 1, args.timeout)
    if not args.skip_app:
        result["app_run"] = app_time(path, lines, args.timeout)  # OTLP: one step per line
    if args.other:
        result["other"] = str(Path(args.other).resolve())
        result["other_app_run"] = app_time(path, lines, args.timeout, args.other)
        mine, theirs = result.get("app_run", {}), result["other_app_run"]
        if mine.get("cpu_s") and theirs.get("cpu_s"):
            result["cpu_ratio_app_vs_other"] = mine["cpu_s"] / theirs["cpu_s"]
            result["cpu_ratio_other_vs_orjson"] = theirs["cpu_s"] / result["orjson_cpu_s"]
    result["loadavg_at_end"] = os.getloadavg()
    lnav_s = result.get("lnav_run", {}).get("last_line_s")
    app = result.get("app_run", {})
    if app.get("cpu_s"):
        result["cpu_ratio_app_vs_orjson"] = app["cpu_s"] / result["orjson_cpu_s"]
    if app.get("loaded_s") and lnav_s:
        result["ratio_app_loaded_vs_orjson"] = app["loaded_s"] / result["orjson_s"]
        result["ratio_app_loaded_vs_lnav"] = app["loaded_s"] / lnav_s
        if app.get("cpu_s") and result["lnav_run"].get("cpu_s"):
            result["cpu_ratio_app_vs_lnav"] = app["cpu_s"] / result["lnav_run"]["cpu_s"]
            result["cpu_ratio_app_vs_orjson"] = app["cpu_s"] / result["orjson_cpu_s"]
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"lnav-otlp-{args.steps}.json"
    target.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    print(f"written {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
