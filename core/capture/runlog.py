"""The run being written: ids, times, the span tree and the tool calls waiting for a tool.

:class:`RunLog` turns "a step started" and "a step ended" into native ``span_start`` and
``span_end`` records (``docs/trace-format.md``) and hands them to the
:class:`~trace_tui.core.capture.writer.TraceWriter`, so a step is visible as *running* in
``trace-tui tail`` as soon as it starts.

The enclosing step of a new step is the innermost open span of the current thread or asyncio
task (a :class:`contextvars.ContextVar`, which asyncio copies into each task). A thread that
was started without a copy of the context (``threading.Thread``, ``ThreadPoolExecutor``)
falls back to the outermost span still open, so its steps stay inside the agent run.

Tool calls link to the model call that asked for them: each response's tool calls wait in a
queue, and a tool run without an explicit call id takes the first waiting call with the same
tool name and the same canonical arguments (else the same name).
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import threading
import time
import uuid
import warnings
from dataclasses import dataclass, field
from typing import Any

from trace_tui.core.capture.writer import CaptureWarning, TraceWriter
from trace_tui.core.model.times import iso_utc
from trace_tui.core.replay.exchange import parse_arguments
from trace_tui.core.text.canonical import canonical_json

log = logging.getLogger(__name__)

_UNSET = object()


@dataclass(slots=True)
class OpenSpan:
    """A step that has started: its id, kind and the attributes to add when it ends."""

    span_id: str
    kind: str
    name: str
    parent_id: str | None
    start: float
    attributes: dict[str, Any] = field(default_factory=dict)
    ended: bool = False


@dataclass(slots=True)
class _WaitingCall:
    call_id: str
    name: str
    key: str


def new_run_id() -> str:
    """A run id that sorts by time and does not collide: ``run-YYYYmmddTHHMMSS-<8 hex>``."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return f"run-{stamp}-{uuid.uuid4().hex[:8]}"


class RunLog:
    """Writes one run's records: ``run`` first, then each step's start and end."""

    def __init__(self, writer: TraceWriter, run_record: dict[str, Any]) -> None:
        self.writer = writer
        self.run_id = str(run_record.get("run_id") or new_run_id())
        self._prefix = self.run_id.rsplit("-", 1)[-1][:8]
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._current: contextvars.ContextVar[Any] = contextvars.ContextVar(
            f"trace_tui_capture_{id(self)}", default=_UNSET
        )
        self._open_roots: list[str] = []
        self._waiting: list[_WaitingCall] = []
        self._warned = False
        writer.open({**run_record, "run_id": self.run_id})

    # ------------------------------------------------------------------ tree
    def current_parent(self) -> str | None:
        """The innermost open span of this thread or task (see the module docstring)."""
        value = self._current.get()
        if value is _UNSET:
            with self._lock:
                return self._open_roots[0] if self._open_roots else None
        return value if isinstance(value, str) else None

    def enter(self, span: OpenSpan) -> contextvars.Token[Any]:
        """Make ``span`` the parent of steps started in this context until :meth:`leave`."""
        with self._lock:
            self._open_roots.append(span.span_id)
        return self._current.set(span.span_id)

    def leave(self, span: OpenSpan, token: contextvars.Token[Any]) -> None:
        """Undo :meth:`enter` (tolerates a token from another context)."""
        with self._lock:
            if span.span_id in self._open_roots:
                self._open_roots.remove(span.span_id)
        try:
            self._current.reset(token)
        except ValueError:
            self._current.set(_UNSET)

    # ------------------------------------------------------------------ records
    def start(
        self,
        kind: str,
        name: str,
        attributes: dict[str, Any],
        *,
        source: Any = None,
        parent_id: Any = _UNSET,
        masked: bool = False,
    ) -> OpenSpan:
        """Write a ``span_start`` and return the open span (``masked``: see the writer)."""
        span = OpenSpan(
            span_id=f"{self._prefix}-{next(self._ids):04d}",
            kind=kind,
            name=name,
            parent_id=self.current_parent() if parent_id is _UNSET else parent_id,
            start=time.time(),
        )
        record: dict[str, Any] = {
            "type": "span_start",
            "span_id": span.span_id,
            "parent_id": span.parent_id,
            "kind": kind,
            "name": name,
            "start_time": iso_time(span.start),
            "attributes": {k: v for k, v in attributes.items() if v is not None},
        }
        if source is not None:
            record["source"] = source
        self.writer.write(record, masked=masked)
        return span

    def end(
        self,
        span: OpenSpan,
        attributes: dict[str, Any] | None = None,
        *,
        error: Any = None,
        source: Any = None,
        masked: bool = False,
    ) -> None:
        """Write the ``span_end`` of ``span`` (once; later calls are ignored)."""
        if span.ended:
            return
        span.ended = True
        record: dict[str, Any] = {
            "type": "span_end",
            "span_id": span.span_id,
            "end_time": iso_time(time.time()),
            "status": "error" if error else "ok",
        }
        if error:
            record["error"] = error
        attrs = {**span.attributes, **(attributes or {})}
        if attrs:
            record["attributes"] = attrs
        if source is not None:
            record["source"] = source
        self.writer.write(record, masked=masked and not error)

    def close(self) -> None:
        """Close the file."""
        self.writer.close()

    # ------------------------------------------------------------------ tool-call links
    def offer_calls(self, calls: list[dict[str, Any]]) -> None:
        """Tool calls a model response asked for, waiting for the tool runs that answer them."""
        with self._lock:
            for call in calls:
                if call.get("id"):
                    name = str(call.get("name") or "")
                    self._waiting.append(
                        _WaitingCall(
                            str(call["id"]), name, arguments_key(name, call.get("arguments"))
                        )
                    )

    def claim_call(self, name: str, arguments: Any) -> str | None:
        """The id of the waiting call this tool run answers (same name and arguments first)."""
        key = arguments_key(name, arguments)
        with self._lock:
            for pick in (lambda w: w.key == key, lambda w: w.name == name):
                for i, waiting in enumerate(self._waiting):
                    if pick(waiting):
                        return self._waiting.pop(i).call_id
        return None

    def release_call(self, call_id: str) -> None:
        """A tool run named its call id explicitly: that call waits no more."""
        with self._lock:
            self._waiting = [w for w in self._waiting if w.call_id != call_id]

    # ------------------------------------------------------------------ failures
    def guard_failed(self, exc: Exception) -> None:
        """A bug in capture itself (not the agent's): one warning, the agent goes on."""
        log.warning("trace-tui capture failed to record a step", exc_info=True)
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"trace-tui capture failed to record a step: {type(exc).__name__}: {exc}",
                CaptureWarning,
                stacklevel=3,
            )


def arguments_key(name: str, arguments: Any) -> str:
    """Tool name plus canonical arguments, the key fixture matching uses too."""
    try:
        return canonical_json([name, parse_arguments(arguments)])
    except (TypeError, ValueError):
        return f"{name}\x00{arguments!r}"


def iso_time(seconds: float) -> str:
    """Epoch seconds as the native ISO 8601 UTC text, to the microsecond."""
    return iso_utc(seconds, "micro")
