"""Open a trace file of any supported format and build its :class:`Run`.

This is the one front door for reading a whole run: it checks the path
(:func:`~trace_tui.core.io.trace_path.check_trace_path`), detects (or is told) the format,
streams the file line by line through the format's mapper (JSON-lines formats) or reads the
document (whole-document formats), and returns the run with every problem it met listed on it.
It never writes to the file it reads.
"""

from __future__ import annotations

import os
from pathlib import Path

from trace_tui.core.formats import FormatError, TraceFormat, detect_format, format_by_name
from trace_tui.core.io.jsonl import (
    HUGE_LINE_BYTES,
    CorruptLine,
    RepairedRecord,
    decode_line,
    iter_raw_lines,
    repaired_message,
)
from trace_tui.core.io.trace_path import TraceOpenError, check_trace_path
from trace_tui.core.model.builder import RunBuilder
from trace_tui.core.model.run import Run
from trace_tui.core.navigation.run_order import is_identity, run_order


def resolve_format(path: Path, format_name: str | None = None) -> TraceFormat:
    """The format named by the user, or the one detected from the file's head."""
    check_trace_path(path)
    try:
        return format_by_name(format_name) if format_name else detect_format(path)
    except FormatError as exc:
        raise TraceOpenError(f"{path}: {exc}") from None
    except OSError as exc:
        raise TraceOpenError(f"{path}: cannot read ({exc.strerror or exc})") from None


def open_run(
    path: str | os.PathLike[str], format_name: str | None = None, *, in_run_order: bool = True
) -> Run:
    """Read the whole trace at ``path`` into a :class:`Run` (streamed, never slurped).

    Raises :class:`TraceOpenError` for a path that cannot be read or a file of unknown shape.
    Corrupt lines and records that break the format become ``run.problems``. Steps are
    numbered in the run's order (:func:`put_in_run_order`); ``in_run_order=False`` keeps the
    file's order (what the index stores, for comparing the two).
    """
    path = Path(path)
    fmt = resolve_format(path, format_name)
    run = Run(path=str(path), format_name=fmt.name)
    builder = RunBuilder(run)
    try:
        if fmt.mapper is not None:
            _read_lines(path, fmt, builder)
        elif fmt.read_document is not None:
            for record in fmt.read_document(path):
                builder.add(record)
    except OSError as exc:
        raise TraceOpenError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except FormatError as exc:
        raise TraceOpenError(f"{path}: {exc}") from None
    if in_run_order:
        put_in_run_order(run)
    return run


def put_in_run_order(run: Run) -> None:
    """Number the steps in the run's order (start time, parents first, ties by file order;
    :mod:`~trace_tui.core.navigation.run_order`), whatever order the file wrote them in."""
    parents = [p.index if (p := run.parent_of(s)) is not None else -1 for s in run.steps]
    order = run_order(parents, [s.start_time for s in run.steps])
    if not is_identity(order):
        run.reorder(order)


def _read_lines(path: Path, fmt: TraceFormat, builder: RunBuilder) -> None:
    assert fmt.mapper is not None
    mapper = fmt.mapper()
    with open(path, "rb") as stream:
        # Lines as long as the indexed reader takes (a Claude Code session's pasted file or
        # image): the commands that read a whole run (show, convert, check, diff, fork) lose
        # no step the screen shows.
        for raw in iter_raw_lines(stream, max_line=HUGE_LINE_BYTES):
            value = decode_line(raw, max_line=HUGE_LINE_BYTES)
            if value is None:
                continue
            if isinstance(value, CorruptLine):
                builder.problem(
                    value.message, offset=value.offset, line=value.line, preview=value.preview
                )
                continue
            if isinstance(value, RepairedRecord):
                builder.problem(
                    repaired_message(raw.offset, raw.line, value), offset=raw.offset, line=raw.line
                )
            for record in mapper.feed(value, offset=raw.offset, line=raw.line):
                builder.add(record, offset=raw.offset, line=raw.line)
    for record in mapper.finish():
        builder.add(record)
