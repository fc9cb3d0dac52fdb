"""Build a :class:`~trace_tui.core.model.run.Run` from native records, one record at a time.

Every reader ends here: the native JSONL reader feeds parsed lines, and importers of foreign
formats feed the native records they map foreign records to. Records may arrive forever
(live tail), so the builder keeps no more state than the run itself.

A record the builder cannot use is never fatal: it becomes a :class:`Problem` on the run and,
where it carries anything a person might need, an ``other`` step so nothing vanishes.
"""

from __future__ import annotations

import logging
from typing import Any

from trace_tui.core.errors import BadValue
from trace_tui.core.model.run import (
    STEP_KINDS,
    BranchInfo,
    Problem,
    Run,
    RunInfo,
    Step,
)
from trace_tui.core.model.times import epoch_of

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
RECORD_TYPES = ("run", "span", "span_start", "span_end", "branch")
#: Not a file record: importers emit ``{"type": "problem", "message": ...}`` to report what
#: they skipped in a foreign file; it becomes a problem on the run, like a corrupt line.
PROBLEM_RECORD = "problem"


class RecordError(BadValue):
    """A record that breaks the native format (message says how)."""


class RunBuilder:
    """Turns native records into steps of a :class:`Run`, merging split span records.

    ``add`` returns the step it created or changed (``None`` for run/branch records), so a
    live view can redraw just that row.
    """

    def __init__(self, run: Run) -> None:
        self.run = run

    def add(
        self, record: Any, *, offset: int | None = None, line: int | None = None
    ) -> Step | None:
        """Apply one record. Bad records become problems on the run, never exceptions."""
        try:
            return self._apply(record, offset, line)
        except RecordError as exc:
            self.problem(str(exc), offset=offset, line=line, preview=_preview(record))
            return None

    def problem(
        self, message: str, *, offset: int | None, line: int | None, preview: str = ""
    ) -> None:
        """Record a problem with the input (corrupt line, schema break, skipped record)."""
        self.run.problems.append(
            Problem(line=line, offset=offset, message=message, preview=preview)
        )

    # ----------------------------------------------------------------- dispatch
    def _apply(self, record: Any, offset: int | None, line: int | None) -> Step | None:
        if not isinstance(record, dict):
            raise RecordError(f"record is a JSON {type(record).__name__}, not an object")
        kind = record.get("type")
        if kind == "span" or kind == "span_start":
            return self._start(record, offset, line, complete=kind == "span")
        if kind == "span_end":
            return self._end(record, offset, line)
        if kind == "run":
            self._run_info(record)
            return None
        if kind == PROBLEM_RECORD:
            self.problem(
                str(record.get("message") or "skipped a record"),
                offset=offset,
                line=line,
                preview=str(record.get("preview") or ""),
            )
            return None
        if kind == "branch":
            self.run.branch = branch_from_record(record)
            return None
        raise RecordError(
            f"unknown record type {kind!r} (expected one of {', '.join(RECORD_TYPES)})"
        )

    def _start(
        self, rec: dict[str, Any], offset: int | None, line: int | None, *, complete: bool
    ) -> Step:
        span_id = rec.get("span_id")
        if not isinstance(span_id, str) or not span_id:
            raise RecordError("span record without a span_id string")
        if self.run.step_by_id(span_id) is not None:
            raise RecordError(f"span_id {span_id!r} appears twice")
        kind = rec.get("kind")
        if kind not in STEP_KINDS:
            raise RecordError(
                f"span {span_id!r} has kind {kind!r}; expected one of {', '.join(STEP_KINDS)}"
            )
        parent = rec.get("parent_id")
        attributes = rec.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise RecordError(f"span {span_id!r}: attributes must be an object")
        status = _status(rec.get("status"), default="unset" if complete else "running")
        step = Step(
            index=-1,
            span_id=span_id,
            parent_id=parent if isinstance(parent, str) and parent else None,
            kind=kind,
            name=str(rec.get("name") or kind),
            start_time=epoch_of(rec.get("start_time")),
            end_time=epoch_of(rec.get("end_time")),
            status=status,
            error=_error_text(rec.get("error")),
            attributes=dict(attributes),
            offset=offset,
            line=line,
            source=rec.get("source"),
        )
        if step.error and step.status not in ("error", "running"):
            step.status = "error"
        return self.run.add_step(step)

    def _end(self, rec: dict[str, Any], offset: int | None, line: int | None) -> Step:
        span_id = rec.get("span_id")
        step = self.run.step_by_id(span_id) if isinstance(span_id, str) else None
        if step is None:
            raise RecordError(f"span_end for unknown span_id {span_id!r}")
        if step.status != "running":  # a late end: applied, but never silently
            self.problem(
                f"span_end for span {span_id!r}, which had already ended; applied over it",
                offset=offset,
                line=line,
                preview=_preview(rec),
            )
        attributes = rec.get("attributes") or {}
        if not isinstance(attributes, dict):
            raise RecordError(f"span_end {span_id!r}: attributes must be an object")
        step.attributes.update(attributes)
        if rec.get("source") is not None:
            step.source = merge_sources(step.source, rec["source"])
        step.end_time = epoch_of(rec.get("end_time")) or step.end_time
        step.error = _error_text(rec.get("error")) or step.error
        step.status = _status(rec.get("status"), default="error" if step.error else "ok")
        self.run.touch()
        return step

    def _run_info(self, rec: dict[str, Any]) -> None:
        version = rec.get("schema_version")
        if version is not None and version != SCHEMA_VERSION:
            raise RecordError(
                f"schema_version {version!r} is not supported "
                f"(this trace-tui reads {SCHEMA_VERSION})"
            )
        windows = rec.get("context_windows") or {}
        env = rec.get("environment") or {}
        self.run.info = RunInfo(
            run_id=_opt_str(rec.get("run_id")),
            session_id=_opt_str(rec.get("session_id")),
            trace_id=_opt_str(rec.get("trace_id")),
            name=_opt_str(rec.get("name")),
            started_at=epoch_of(rec.get("started_at")),
            environment=dict(env) if isinstance(env, dict) else {},
            context_windows={
                str(k): int(v) for k, v in windows.items() if isinstance(v, int) and v > 0
            }
            if isinstance(windows, dict)
            else {},
        )


def branch_from_record(rec: dict[str, Any]) -> BranchInfo:
    """Read a ``branch`` record (raises :class:`RecordError` when it is unusable)."""
    fork_step = rec.get("fork_step")
    if not isinstance(fork_step, int) or isinstance(fork_step, bool) or fork_step < 1:
        raise RecordError("branch record needs fork_step, a step number >= 1")
    edits = rec.get("edits") or []
    if not isinstance(edits, list) or not all(isinstance(e, dict) for e in edits):
        raise RecordError("branch record: edits must be a list of JSON-patch objects")
    sources = rec.get("sources") or {}
    return BranchInfo(
        parent_run_id=_opt_str(rec.get("parent_run_id")),
        parent_path=_opt_str(rec.get("parent_path")),
        fork_step=fork_step,
        edits=tuple(edits),
        sources=dict(sources) if isinstance(sources, dict) else {},
        name=_opt_str(rec.get("name")),
        created_at=epoch_of(rec.get("created_at")),
        status=_opt_str(rec.get("status")),
        note=_opt_str(rec.get("note")),
    )


def merge_sources(existing: Any, more: Any) -> Any:
    """The original records of a step built from several foreign lines: a list, in order."""
    if existing is None:
        return more
    return [*existing, more] if isinstance(existing, list) else [existing, more]


def _status(value: Any, *, default: str) -> str:
    return value if value in ("ok", "error", "unset") else default


def _error_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        kind, msg = value.get("type"), value.get("message")
        if kind and msg:
            return f"{kind}: {msg}"
        return str(msg or kind or value)
    return str(value)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _preview(record: Any, limit: int = 120) -> str:
    text = repr(record)
    return text if len(text) <= limit else text[: limit - 1] + "…"
