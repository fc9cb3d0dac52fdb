"""``trace-tui tail --plain FILE`` and ``--json``: follow a trace without a screen.

For pipes, CI logs and SSH sessions without a full terminal. ``--plain`` prints one sanitised
line per step as it appears (and one more when a step that was running ends); ``--json``
prints normalised native records, one JSON object per line: ``span`` for a finished step,
``span_start`` for a running one and ``span_end`` when it ends, so the output is itself a
native trace. Secrets are masked like everywhere else (``--no-redact`` when the parser has it).
Notices (truncated, rotated, waiting for the file, corrupt records) go to stderr. Existing
steps are skipped unless ``--from-start``. Ctrl-C ends it with exit code 130, quietly.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TextIO

from trace_tui.cli.exit_codes import EXIT_INTERRUPTED, EXIT_OK
from trace_tui.cli.show_report import KIND_MARK, format_duration
from trace_tui.core.io.standard_json import dumps
from trace_tui.core.model.run import Step, StepRow
from trace_tui.core.model.source import TraceSource
from trace_tui.core.reading.source import open_source
from trace_tui.core.text.redact import Redactor, load_redactor
from trace_tui.core.text.sanitize import one_line

STATUS_MARK = {"ok": "ok", "error": "ERROR", "unset": "-", "running": "running"}
#: Longest sleep between two looks at the file.
WAIT_SECONDS = 0.5


class PlainTail:
    """Prints the steps of a source as they appear and end (one instance per command)."""

    def __init__(
        self, source: TraceSource, out: TextIO, err: TextIO, *, as_json: bool, redactor: Redactor
    ) -> None:
        self.source = source
        self.out, self.err = out, err
        self.as_json = as_json
        self.redactor = redactor
        self.printed = 0
        self.problems_shown = 0
        self.running: set[int] = set()

    def skip_existing(self, stop: threading.Event) -> None:
        """Read what the file holds now without printing it (the default: new steps only)."""
        while not stop.is_set():
            update = self.source.update()
            self.notices(update.notice, *update.notices)
            if update.complete:
                break
        self.printed = len(self.source.run)
        self.problems_shown = len(self.source.run.problems)  # said as a count below
        self.running = {
            i for i in range(self.printed) if self.source.run.row(i).status == "running"
        }
        problems = f", {self.problems_shown} problem(s)" if self.problems_shown else ""
        self.err.write(
            f"trace-tui: following {one_line(str(self.source.path))} "
            f"({self.printed} steps so far{problems})\n"
        )
        self.err.flush()

    def pump(self, stop: threading.Event) -> None:
        """Print new and finished steps until ``stop`` is set, then what is already written."""
        while not stop.is_set():
            if self.step_once():
                self.out.flush()
                self.source.wait(WAIT_SECONDS)
        while not self.step_once():
            pass
        self.out.flush()

    def step_once(self) -> bool:
        """One update: print what changed; True when the source has caught up."""
        update = self.source.update()
        if update.reset:
            self.printed, self.running, self.problems_shown = 0, set(), 0
        self.notices(update.notice, *update.notices)
        self.print_new()
        self.print_problems()
        return update.complete

    def notices(self, *notices: str | None) -> None:
        """Show notices on stderr, one sanitised line each."""
        for notice in notices:
            if notice:
                self.err.write(f"trace-tui: {one_line(notice)}\n")
                self.err.flush()

    def print_problems(self) -> None:
        """Every record that was skipped, repaired or broke a rule: one notice on stderr each
        (corrupt and over-long lines, invalid UTF-8, unknown kinds, orphan or late ends)."""
        problems = self.source.run.problems
        for problem in problems[self.problems_shown :]:
            where = ""
            if problem.line and "line" not in problem.message:
                where = f"line {problem.line}: "
            self.notices(self.redactor.text(f"{where}{problem.message}"))
        self.problems_shown = len(problems)

    def print_new(self) -> None:
        """Print steps that appeared, and running steps that have ended, since last time."""
        run = self.source.run
        for index in sorted(self.running):
            if index < len(run) and run.row(index).status != "running":
                self.running.discard(index)
                self.emit(index, ended=True)
        while self.printed < len(run):
            index = self.printed
            self.printed += 1
            if run.row(index).status == "running":
                self.running.add(index)
            self.emit(index, ended=False)

    def emit(self, index: int, *, ended: bool) -> None:
        """One output line for step ``index``."""
        run = self.source.run
        if self.as_json:
            record = step_record(run.step(index), ended=ended)
            line = dumps(self.redactor.value(record), ensure_ascii=True)
        else:
            # mask the name before plain_line cuts it: half a key is no longer recognisable
            row = run.row(index)
            row = replace(row, name=self.redactor.text(row.name))
            line = self.redactor.text(plain_line(row, ended=ended))
            if row.status == "error":  # the reason, on its own line: the row has no room
                error = run.step(index).error
                if error:
                    line += "\n" + self.redactor.text(error_line(error))
        self.out.write(line + "\n")


def error_line(error: str) -> str:
    """``        error: <message>`` under a failed step (sanitised, one line)."""
    return "        error: " + one_line(error, 300)


def plain_line(row: StepRow, *, ended: bool = False) -> str:
    """``  12  ▶ tool     ok       250ms  lookup_order  in 120 out 30`` (sanitised)."""
    indent = "  " * min(row.depth, 6)
    name = one_line(f"{indent}{KIND_MARK.get(row.kind, '·')} {row.name}", 60)
    tokens = ""
    if row.input_tokens is not None or row.output_tokens is not None:
        tokens = f"  in {_num(row.input_tokens)} out {_num(row.output_tokens)}"
    status = STATUS_MARK.get(row.status, row.status)
    return (
        f"{row.index + 1:>6}  {row.kind:<9} {status:<7} {format_duration(row.duration):>7}  "
        f"{name}{tokens}" + ("  (ended)" if ended else "")
    )


def step_record(step: Step, *, ended: bool = False) -> dict[str, Any]:
    """The normalised native record of a step: ``span``, ``span_start`` or ``span_end``."""
    common = {"span_id": step.span_id}
    if ended:
        return {
            "type": "span_end",
            **common,
            "end_time": step.end_time,
            "status": step.status,
            "error": step.error,
            "attributes": step.attributes,
        }
    running = step.status == "running"
    record: dict[str, Any] = {
        "type": "span_start" if running else "span",
        **common,
        "parent_id": step.parent_id,
        "kind": step.kind,
        "name": step.name,
        "start_time": step.start_time,
    }
    if not running:
        record.update(end_time=step.end_time, status=step.status, error=step.error)
    record["attributes"] = step.attributes
    return record


def tail_plain(
    args: argparse.Namespace,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    stop: threading.Event | None = None,
    source_factory: Callable[..., TraceSource] = open_source,
) -> int:
    """Run ``trace-tui tail --plain/--json``; returns the exit code (130 after Ctrl-C).

    ``stop`` (tests) ends the loop; otherwise it runs until interrupted.
    """
    stop = stop or threading.Event()
    redactor = load_redactor(enabled=not getattr(args, "no_redact", False))
    source = source_factory(args.file, getattr(args, "format", None), follow=True)
    tail = PlainTail(
        source, out or sys.stdout, err or sys.stderr, as_json=bool(args.json), redactor=redactor
    )
    try:
        if not getattr(args, "from_start", False):
            tail.skip_existing(stop)
        tail.pump(stop)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        source.close()
        try:
            tail.out.flush()
        except BrokenPipeError:
            pass  # the reader went away (| head); nothing left to tell it
    return EXIT_OK


def _num(value: int | None) -> str:
    return "?" if value is None else str(value)
