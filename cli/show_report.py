"""Plain-text and JSON reports of a run, for ``trace-tui show`` (no screen needed).

Every trace string is sanitised before it is printed: this output goes to a terminal too.
Secrets are masked first: both reports work on :func:`redacted_run`, a copy of the run in
which every string went through a :class:`~trace_tui.core.text.redact.Redactor`, so nothing cut
short for a table cell can leave half a key behind. ``--no-redact`` passes a disabled one.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, replace
from typing import Any, TextIO

from trace_tui.core.io.standard_json import dumps
from trace_tui.core.model.run import Run, Step
from trace_tui.core.navigation.bookkeeping import bookkeeping_stretches
from trace_tui.core.replay.readiness import Readiness, readiness
from trace_tui.core.text.redact import Redactor
from trace_tui.core.text.sanitize import one_line
from trace_tui.tui.display.glyphs import KIND_SYMBOLS

#: The same kind marks as the debugger screen (``λ`` for tools...).
KIND_MARK = dict(KIND_SYMBOLS)
#: Below this terminal width the table drops its kind column (the mark says it) and cuts the
#: summary to fit, so no row wraps.
WIDE_TABLE = 130


def format_duration(seconds: float | None) -> str:
    """``1.25s`` / ``340ms`` / ``-`` for unknown."""
    if seconds is None:
        return "-"
    if seconds < 0.0005:
        return "<1ms"
    # 0.9996 s rounds to 1000 ms: from there on it is "1.00s"
    return f"{seconds * 1000:.0f}ms" if seconds < 0.9995 else f"{seconds:.2f}s"


def step_summary(step: Step, limit: int = 60) -> str:
    """A one-line gist of what the step did (sanitised)."""
    if step.kind == "llm":
        calls = step.output_tool_calls
        if calls:
            text = "calls " + ", ".join(c.name for c in calls)
        else:
            out = step.output_messages
            text = (out[-1].content or "") if out else ""
    elif step.kind in ("tool", "retrieval"):
        if step.kind == "retrieval" and "gen_ai.retrieval.documents" in step.attributes:
            text = f"{len(step.documents)} document(s) for {step.retrieval_query!r}"
        else:
            text = _compact(step.tool_arguments) + " → " + _compact(step.tool_result)
    else:
        text = step.error or ""
    if step.error and step.kind != "agent":
        text = f"{step.error}  ({text})" if text else step.error
    return one_line(text, limit)


def print_table(
    run: Run, out: TextIO, redactor: Redactor | None = None, *, fold: bool = True
) -> None:
    """The run's header facts and one row per step, secrets masked (``None``: built-in rules).

    With ``fold``, each stretch of two or more bookkeeping records (an agent's notes to itself:
    attachments, queue operations, hooks; :func:`~trace_tui.core.navigation.bookkeeping.
    is_bookkeeping`) is one line saying what it holds; ``show --all`` lists them.
    """
    redactor = Redactor() if redactor is None else redactor
    ready = readiness(run)
    run = redacted_run(run, redactor)
    for line in header_lines(run, ready, redactor):
        out.write(line + "\n")
    width = _terminal_width(out)
    narrow = width is not None and width < WIDE_TABLE
    name_w, time_w, in_w, out_w = (24, 6, 6, 5) if narrow else (34, 7, 7, 6)
    kind_col = "" if narrow else f"{'kind':<9} "
    head = (f"{'#':>4}  {kind_col}{'name':<{name_w}} {'status':<7} "
            f"{'time':>{time_w}} {'in':>{in_w}} {'out':>{out_w}}  ")
    summary_w = 60 if width is None else max(10, min(60, width - len(head) - 1))
    out.write(head + "summary\n")
    folded = bookkeeping_stretches(run) if fold else {}
    skip_to = -1
    for step in run.steps:
        if step.index < skip_to:
            continue
        stretch = folded.get(step.index)
        if stretch is not None:
            skip_to = stretch[-1].index + 1
            out.write(_folded_line(stretch, len(head)) + "\n")
            continue
        depth = run.row(step.index).depth
        name = one_line("  " * depth + KIND_MARK.get(step.kind, KIND_MARK["other"]) + " "
                        + step.name, name_w)
        usage = step.usage
        tokens_in = str(usage.input_tokens) if usage and usage.input_tokens is not None else "-"
        tokens_out = str(usage.output_tokens) if usage and usage.output_tokens is not None else "-"
        kind = "" if narrow else f"{step.kind:<9} "
        out.write(
            f"{step.number:>4}  {kind}{name:<{name_w}} {step.status:<7} "
            f"{format_duration(step.duration):>{time_w}} {tokens_in:>{in_w}} "
            f"{tokens_out:>{out_w}}  "
            f"{step_summary(step, summary_w)}\n"
        )


def _folded_line(stretch: list[Step], indent: int) -> str:
    """``   4–15  · 12 bookkeeping records (attachment ×9, ...)  show --all lists them``."""
    names = Counter(s.name for s in stretch)
    what = ", ".join(f"{one_line(n, 30)} ×{c}" if c > 1 else one_line(n, 30)
                     for n, c in names.most_common(4))
    more = ", ..." if len(names) > 4 else ""
    span = f"{stretch[0].number}–{stretch[-1].number}"
    return (f"{span:>{max(4, len(span))}}  · {len(stretch)} bookkeeping records ({what}{more}); "
            "show --all lists them")


def _terminal_width(out: TextIO) -> int | None:
    """The terminal's width when ``out`` is one (``None`` for pipes and files: no cutting)."""
    try:
        if not out.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return shutil.get_terminal_size().columns


def header_lines(
    run: Run, ready: Readiness | None = None, redactor: Redactor | None = None
) -> list[str]:
    """File, format, run name, counts, tokens and replay readiness.

    ``ready`` is the readiness of the run as recorded (computed here when not given); its
    sentences and every other trace string go through ``redactor`` when one is given.
    """
    ready = readiness(run) if ready is None else ready
    mask = redactor.text if redactor is not None else _same
    totals = run.token_totals()
    errors = run.errors()
    lines = [
        f"file:      {one_line(run.path or '-')}",
        f"format:    {run.format_name}",
        f"run:       {one_line(mask(run.info.name or run.info.run_id or '-'))}",
        f"steps:     {len(run)} ({len(run.steps_of_kind('llm'))} llm, "
        f"{len(run.steps_of_kind('tool'))} tool, {len(run.steps_of_kind('retrieval'))} retrieval), "
        f"{len(errors)} error{'s' * (len(errors) != 1)}"
        + (f", first at step {errors[0].number}" if errors else ""),
        f"tokens:    {_num(totals.input_tokens)} in, {_num(totals.output_tokens)} out"
        f" ({_num(totals.cache_read_tokens)} cache read)",
        f"replay:    {one_line(mask(ready.summary()))}",
    ]
    if run.branch is not None:
        b = run.branch
        lines.append(
            f"branch:    forks {one_line(mask(b.parent_run_id or '?'))} at step {b.fork_step}"
            f" ({len(b.edits)} edit(s)), status {one_line(mask(b.status or '-'))}"
        )
        if b.note:
            lines.append(f"           {one_line(mask(b.note), 200)}")
    if run.problems:
        lines.append(f"problems:  {len(run.problems)} record(s) skipped (details on stderr)")
    return lines


def run_to_json(run: Run, redactor: Redactor | None = None) -> dict[str, Any]:
    """The normalised model as plain JSON (what ``show --json`` prints), secrets masked.

    ``redactor`` defaults to the built-in rules; the top-level ``redaction`` object is its
    :meth:`~trace_tui.core.text.redact.Redactor.export_metadata` (``"redacted": false`` for
    ``--no-redact``), so a reader of the output knows whether placeholders may be in it.
    """
    redactor = Redactor() if redactor is None else redactor
    ready = readiness(run)
    run = redacted_run(run, redactor)
    return {
        "file": run.path,
        "format": run.format_name,
        "redaction": redactor.export_metadata(),
        "run": asdict(run.info),
        "branch": asdict(run.branch) if run.branch else None,
        "readiness": {
            "ready": ready.ready,
            "blocking": [redactor.text(g.describe()) for g in ready.blocking],
            "warnings": [redactor.text(g.describe()) for g in ready.warnings],
        },
        "steps": [step_to_json(run, s) for s in run.steps],
        "problems": [asdict(p) for p in run.problems],
    }


def redacted_run(run: Run, redactor: Redactor) -> Run:
    """A copy of ``run`` with every trace string masked (``run`` itself when disabled).

    Names, ids, errors, attributes and the original foreign records of every step, the run
    record, the branch record and the problems' messages and previews all go through
    ``redactor``. Redaction is deterministic, so equal values stay equal (ids still link
    parents and children, two runs still diff the same way) and numbers are kept.
    """
    if not redactor.enabled:
        return run
    text, value = redactor.text, redactor.value
    info = run.info
    copy = Run(
        replace(
            info,
            run_id=_opt(text, info.run_id),
            session_id=_opt(text, info.session_id),
            trace_id=_opt(text, info.trace_id),
            name=_opt(text, info.name),
            environment=value(info.environment),
            context_windows=value(info.context_windows),
        ),
        path=run.path,
        format_name=run.format_name,
    )
    if run.branch is not None:
        b = run.branch
        copy.branch = replace(
            b,
            parent_run_id=_opt(text, b.parent_run_id),
            parent_path=_opt(text, b.parent_path),
            edits=tuple(value(list(b.edits))),
            sources=value(b.sources),
            name=_opt(text, b.name),
            status=_opt(text, b.status),
            note=_opt(text, b.note),
        )
    copy.problems = [
        replace(p, message=text(p.message), preview=text(p.preview)) for p in run.problems
    ]
    for step in run.steps:
        copy.add_step(
            replace(
                step,
                span_id=text(step.span_id),
                parent_id=_opt(text, step.parent_id),
                name=text(step.name),
                error=_opt(text, step.error),
                attributes=value(step.attributes),
                source=value(step.source),
            )
        )
    return copy


def step_to_json(run: Run, step: Step) -> dict[str, Any]:
    """One step as plain JSON (the original foreign record under ``source`` if any)."""
    row = run.row(step.index)
    return {
        "step": step.number,
        "span_id": step.span_id,
        "parent_id": step.parent_id,
        "depth": row.depth,
        "kind": step.kind,
        "name": step.name,
        "start_time": step.start_time,
        "end_time": step.end_time,
        "status": step.status,
        "error": step.error,
        "attributes": step.attributes,
        "source": step.source,
    }


def print_json(run: Run, out: TextIO, redactor: Redactor | None = None) -> None:
    """Write :func:`run_to_json` as indented JSON (ASCII-escaped: safe on any terminal)."""
    out.write(dumps(run_to_json(run, redactor), indent=2, ensure_ascii=True))
    out.write("\n")


def _num(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"


def _compact(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _same(text: str) -> str:
    return text


def _opt(mask: Callable[[str], str], text: str | None) -> str | None:
    return None if text is None else mask(text)
