"""``trace-tui triage PATH...``: group many runs by how they failed; table, JSON or screen.

Reads every run (files, folders, globs; any supported format) through
:mod:`trace_tui.core.triage`, with a progress bar on stderr when it is a terminal, then prints
the failure groups as a table (``--plain``, the default when stdout is not a terminal), as JSON
(``--json``), or opens the group list on screen. Exit code 0 when no run failed, 1 when some
did, 2 for bad input.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO

from trace_tui.core.errors import BadInput
from trace_tui.core.text.sanitize import one_line


class TriageError(BadInput):
    """Bad triage input: one line, exit 2."""


def add_triage_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``triage`` on the CLI's subparsers."""
    from trace_tui.core.triage.signature import GROUP_BY

    p = sub.add_parser(
        "triage", help="group many runs by how they failed (exit 1 when any failed)",
        description="Read many runs (files, folders, globs; any format), find each run's "
        "outcome from explicit signals, group the failing runs by signature, and say where "
        "each parted from the nearest successful run of the same task.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="trace files, folders or globs")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--plain", action="store_true", help="print the groups as a table")
    mode.add_argument("--json", action="store_true", help="print the groups as JSON")
    p.add_argument("--by", choices=GROUP_BY, default="signature",
                   help="group by the whole signature (default) or by one of its parts")
    p.add_argument("--policy", metavar="POLICY", help="also mark runs a policy blocks")
    p.add_argument("--top", type=int, default=0, metavar="N", help="show only the N largest")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="processes that read files (default: one per core)")
    p.add_argument("--no-cache", action="store_true", help="read every file again")
    return p


def run_triage(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    from trace_tui.core.triage.collect import find_files, summarise_all
    from trace_tui.core.triage.grouping import group_failures

    try:
        files = find_files(args.paths)
    except FileNotFoundError as exc:
        raise TriageError(one_line(str(exc), 200)) from None
    if not files:
        raise TriageError("no trace files found in " + one_line(" ".join(args.paths), 200))
    if args.policy:
        from trace_tui.core.policy.loader import load_policy

        load_policy(args.policy)  # an invalid policy is bad input before anything is read
    progress = _ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    summaries, read = summarise_all(files, policy=args.policy, progress=progress,
                                    workers=args.workers or None, use_cache=not args.no_cache)
    if progress:
        progress.finish(read)
    groups = group_failures(summaries, by=args.by)
    shown = groups[: args.top] if args.top else groups
    failed = sum(g.count for g in groups)
    if args.json:
        _print_json(summaries, shown, sys.stdout)
    elif args.plain or not sys.stdout.isatty():
        _print_table(summaries, shown, sys.stdout, read)
    else:
        from trace_tui.tui.triage_app import run_triage_screen

        run_triage_screen(summaries, shown, args)
    return 1 if failed else 0


class _ProgressBar:
    """``reading 1,234/10,000 runs ██████···`` on one stderr line, redrawn at most 10×/s."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        width = 30
        filled = width * done // max(total, 1)
        self.stream.write(f"\rreading {done:,}/{total:,} runs {'█' * filled}"
                          f"{'·' * (width - filled)}")
        self.stream.flush()

    def finish(self, read: int) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(seconds))


def _print_table(summaries: list, groups: list, out: TextIO, read: int) -> None:
    from trace_tui.core.triage.outcomes import DESCRIPTIONS

    total = len(summaries)
    failed = sum(1 for s in summaries if s.failed)
    out.write(f"{total:,} runs, {failed:,} failed ({_pct(failed, total)}), "
              f"{len(groups):,} failure groups · {read:,} read, "
              f"{total - read:,} from the cache\n")
    counts: dict[str, int] = {}
    for summary in summaries:
        counts[summary.outcome] = counts.get(summary.outcome, 0) + 1
    out.write("outcomes: " + ", ".join(f"{DESCRIPTIONS.get(k, k)} {v:,}"
                                       for k, v in sorted(counts.items(), key=lambda i: -i[1]))
              + "\n")
    for number, group in enumerate(groups, 1):
        rep = group.representative
        runs = "run" if group.count == 1 else "runs"
        out.write(f"\n#{number}  {group.count:,} {runs} ({_pct(group.count, total)})  "
                  f"{one_line(group.title, 110)}\n")
        if group.shape:
            out.write(f"    tool calls  {one_line(group.shape, 100)}\n")
        out.write(f"    seen        {_when(group.first_seen)} → {_when(group.last_seen)}\n")
        models = ", ".join(group.models) or "not recorded"
        versions = ", ".join(group.versions) or "not recorded"
        out.write(f"    models      {one_line(models, 100)} · versions "
                  f"{one_line(versions, 60)}\n")
        step = f"step {rep.summary.step + 1}" if rep.summary.step is not None else "no step"
        out.write(f"    example     {one_line(rep.summary.path, 90)} at {step}\n")
        diverged = [r for r in group.runs if r.divergence is not None]
        if diverged:
            at = rep.divergence + 1 if rep.divergence is not None else None
            out.write(f"    diverges    from the nearest successful run at "
                      f"{'step ' + str(at) if at else 'a step'} (example); "
                      f"{len(diverged):,} of {group.count:,} runs have a successful sibling\n")


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "0 %"


def _print_json(summaries: list, groups: list, out: TextIO) -> None:
    from trace_tui.core.io.standard_json import dumps

    total = len(summaries)
    counts: dict[str, int] = {}
    for summary in summaries:
        counts[summary.outcome] = counts.get(summary.outcome, 0) + 1
    document = {
        "runs": total, "failed": sum(1 for s in summaries if s.failed), "outcomes": counts,
        "groups": [g.to_json(total) for g in groups],
        "unreadable": [{"path": s.path, "reason": s.unreadable}
                       for s in summaries if s.unreadable],
    }
    out.write(dumps(document, indent=2) + "\n")
