"""``trace-tui convert IN -o OUT.jsonl``: write any supported trace as a native trace.

The input is read like ``open`` reads it (any format, detected or named); every step is
written as one native record (``span``, or ``span_start`` for a step that never ended), after
a ``run`` record that also says where the run was imported from. Each step keeps the foreign
record(s) it came from under ``source`` unless asked not to. The records are checked against
the native schema and rules before anything is written, and the file is written atomically
(temporary file, fsync, rename): a failed convert leaves no half-written output. The input is
never written to, and an output path that is the input is refused.

Secrets are masked in every record written (:func:`redact_records`), unless the caller passes
a disabled :class:`~trace_tui.core.text.redact.Redactor` (``--no-redact``); the run record's
``environment["trace_tui.redaction"]`` says which (see ``docs/trace-format.md``). Branch files
are written through the same function.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from trace_tui.core.errors import BadInput
from trace_tui.core.io.atomic import atomic_writer
from trace_tui.core.io.standard_json import dumps_line
from trace_tui.core.model.run import Problem, Run, Step
from trace_tui.core.model.times import iso_utc
from trace_tui.core.reading.reader import check_trace_path, open_run
from trace_tui.core.text.redact import Redactor

log = logging.getLogger(__name__)

#: At most this many validation problems are quoted in the error message.
_QUOTED = 5
#: The run record's ``environment`` key that says whether (and how) the file was redacted.
REDACTION_KEY = "trace_tui.redaction"


class ConvertError(BadInput):
    """The conversion cannot be done; the message is one line for the user."""


@dataclass(frozen=True)
class ConvertResult:
    """What a conversion wrote and what it had to skip in the input."""

    output: Path
    format_name: str
    steps: int
    bytes_written: int
    input_problems: list[Problem] = field(default_factory=list)


def convert_file(
    source: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    format_name: str | None = None,
    include_source: bool = True,
    redactor: Redactor | None = None,
    stream: IO[str] | None = None,
) -> ConvertResult:
    """Read ``source`` (any supported format) and write it to ``output`` as a native trace.

    With ``stream`` the lines go there instead (``-o -``: standard output) and ``output`` is
    only its name. An ``output`` that is a symbolic link is written *through* (the link stays;
    the file it names gets the trace); an output, or a link's target, that is not a regular
    file (a device, a FIFO, a directory) is refused, never replaced.

    Secrets are masked by ``redactor`` (``None``: the built-in rules; a disabled one writes
    the values as they are); the run record says which.

    Raises :class:`ConvertError` when ``output`` is the input, or when the records would not be
    a valid native trace (nothing is written then);
    :class:`~trace_tui.core.io.trace_path.TraceOpenError`
    when the input cannot be read.
    """
    source_path, output_path = Path(source), Path(output)
    check_trace_path(source_path)  # before anything resolves it (a symlink loop is bad input)
    if stream is None:
        output_path = _writable_output(output_path)
        _refuse_same_file(source_path, output_path)
    run = open_run(source_path, format_name)
    records = redact_records(
        native_records(run, include_source=include_source),
        Redactor() if redactor is None else redactor,
    )
    problems = _validate(records)
    if problems:
        quoted = "; ".join(problems[:_QUOTED])
        more = f" (and {len(problems) - _QUOTED} more)" if len(problems) > _QUOTED else ""
        raise ConvertError(
            f"the converted records break the native format, nothing written: {quoted}{more}"
        )
    written = 0
    if stream is not None:
        for record in records:
            text = dumps_line(record).decode("utf-8")
            stream.write(text)
            written += len(text)
        stream.flush()
        return ConvertResult(
            output_path, run.format_name, len(run.steps), written, list(run.problems)
        )
    try:
        with atomic_writer(output_path) as out:
            for record in records:
                line = dumps_line(record)
                out.write(line)
                written += len(line)
    except OSError as exc:
        raise ConvertError(f"{output_path}: cannot write ({exc.strerror or exc})") from None
    log.info(
        "converted %s (%s) to %s: %d steps",
        source_path,
        run.format_name,
        output_path,
        len(run.steps),
    )
    return ConvertResult(output_path, run.format_name, len(run.steps), written, list(run.problems))


def _writable_output(output: Path) -> Path:
    """The regular file to write for ``-o output``: a symbolic link's target (written through,
    the link kept); ``ConvertError`` for anything that is not, or would not be, a regular file."""
    target = Path(os.path.realpath(output)) if output.is_symlink() else output
    try:
        info = target.stat()
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise ConvertError(f"{output}: cannot write ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):
        what = f"is a link to {target}, which" if target != output else "exists and"
        raise ConvertError(
            f"{output}: {what} is not a regular file (a device, FIFO or directory); refusing to "
            "replace it (use -o - for standard output)"
        )
    return target


def _refuse_same_file(source: Path, output: Path) -> None:
    same = os.path.realpath(source) == os.path.realpath(output)
    if not same and output.exists():
        try:
            same = os.path.samefile(source, output)
        except OSError as exc:
            log.debug("cannot compare %s and %s: %s", source, output, exc)
    if same:
        raise ConvertError(f"{output}: is the input file; choose another output path")


def _validate(records: list[dict[str, Any]]) -> list[str]:
    """Problems of the records under the native schema and the run builder's rules."""
    from trace_tui.core.export.validate import validate_records

    return validate_records(records)


# --------------------------------------------------------------------------- records
def redact_records(records: Iterable[dict[str, Any]], redactor: Redactor) -> list[dict[str, Any]]:
    """Native records as they are written to a file: secrets masked, and the ``run`` record's
    ``environment`` saying so under :data:`REDACTION_KEY` (a ``run`` record is added first when
    there is none).

    The value there is :meth:`~trace_tui.core.text.redact.Redactor.export_metadata`; with a disabled
    redactor it says ``"redacted": false``, unless the records already carried the word of an
    earlier redaction (placeholders from a redacted input are still placeholders).
    """
    out = [redactor.value(record) for record in records]
    if not out or out[0].get("type") != "run":
        out.insert(0, {"type": "run", "schema_version": 1})
    run = out[0]
    env = run.get("environment")
    env = dict(env) if isinstance(env, dict) else {}
    earlier = env.get(REDACTION_KEY)
    metadata = redactor.export_metadata()
    if not redactor.enabled and isinstance(earlier, dict) and earlier.get("redacted") is True:
        metadata = earlier
    env[REDACTION_KEY] = metadata
    run["environment"] = env
    return out


def native_records(run: Run, *, include_source: bool = True) -> Iterator[dict[str, Any]]:
    """The run as native records: ``run`` (and ``branch``), then one record per step."""
    yield _run_record(run)
    if run.branch is not None:
        yield _branch_record(run)
    for step in run.steps:
        yield step_record(step, include_source=include_source)


def step_record(step: Step, *, include_source: bool = True) -> dict[str, Any]:
    """One ``span`` record (``span_start`` for a step still running) for a step."""
    running = step.status == "running"
    rec: dict[str, Any] = {
        "type": "span_start" if running else "span",
        "span_id": step.span_id,
        "parent_id": step.parent_id,
        "kind": step.kind,
        "name": step.name,
    }
    if step.start_time is not None:
        rec["start_time"] = iso_time(step.start_time)
    if step.end_time is not None and not running:
        rec["end_time"] = iso_time(step.end_time)
    if not running:
        rec["status"] = step.status
        if step.error:
            rec["error"] = step.error
    rec["attributes"] = step.attributes
    if include_source and step.source is not None:
        rec["source"] = step.source
    return rec


def _run_record(run: Run) -> dict[str, Any]:
    info = run.info
    env = dict(info.environment)
    if run.format_name != "native":
        env["trace_tui.imported_from"] = {
            "format": run.format_name,
            "file": Path(run.path or "").name or None,
        }
    rec: dict[str, Any] = {"type": "run", "schema_version": 1}
    for key in ("run_id", "session_id", "trace_id", "name"):
        value = getattr(info, key)
        if value is not None:
            rec[key] = value
    if info.started_at is not None:
        rec["started_at"] = iso_time(info.started_at)
    if env:
        rec["environment"] = env
    if info.context_windows:
        rec["context_windows"] = dict(info.context_windows)
    return rec


def _branch_record(run: Run) -> dict[str, Any]:
    branch = run.branch
    assert branch is not None
    rec: dict[str, Any] = {
        "type": "branch",
        "name": branch.name,
        "parent_run_id": branch.parent_run_id,
        "parent_path": branch.parent_path,
        "fork_step": branch.fork_step,
        "edits": list(branch.edits),
        "sources": branch.sources,
        "status": branch.status,
        "note": branch.note,
    }
    if branch.created_at is not None:
        rec["created_at"] = iso_time(branch.created_at)
    return rec


def iso_time(seconds: float) -> str:
    """ISO 8601 in UTC with microseconds, as the native format writes times."""
    return iso_utc(seconds, "micro")
