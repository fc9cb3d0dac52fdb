"""A capture session: what the wrappers (HTTP clients, tool decorators, spans) talk to.

There are two kinds. A :class:`~trace_tui.core.capture.recorder.Recorder` lets every call
through and writes what happened; a :class:`~trace_tui.core.capture.replayer.Replayer`
answers every call from a recorded trace and lets nothing through. The agent's code is the
same for both: it makes its clients with :func:`~trace_tui.core.capture.transport.http_client`
and decorates its tools with :func:`~trace_tui.core.capture.tools.tool`, and whoever runs it
(production, a test) decides which session is active.

Sessions are activated with ``with session:`` (or :meth:`Session.activate`); the innermost
active one is process-wide, so threads and asyncio tasks started while it is active use it
too. Wrappers bound to a session explicitly (``session.http_client()``) always use that one.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from trace_tui.core.capture.active import drop_session, push_session
from trace_tui.core.capture.runlog import OpenSpan, RunLog
from trace_tui.core.capture.transport import async_http_client, http_client

KIND_TOOL = "tool"
KIND_RETRIEVAL = "retrieval"


@dataclass(slots=True)
class ToolCall:
    """A tool run inside ``with session.tool_call(...) as call``.

    Set ``call.result`` in the body. In a replay ``call.replayed`` is true and ``call.result``
    already holds the recorded result: the body should skip the real tool.
    """

    name: str
    arguments: Any
    call_id: str | None = None
    result: Any = None
    replayed: bool = False
    documents: list[Any] | None = None


@dataclass(slots=True)
class SpanHandle:
    """An open agent or chain span; attributes set here are written when it ends."""

    span_id: str | None
    attributes: dict[str, Any] = field(default_factory=dict)

    def set(self, key: str, value: Any) -> None:
        """Add an attribute to the span's end record."""
        self.attributes[key] = value


def to_json_value(value: Any) -> Any:
    """A tool's return value as JSON data: dataclasses and pydantic models become objects."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json")
        except TypeError:
            return dump()
    if isinstance(value, tuple):
        return list(value)
    return value


class Session:
    """Base of recording and replaying sessions: activation, clients, spans, tool dispatch."""

    log: RunLog | None = None

    # ------------------------------------------------------------------ activation
    def activate(self) -> Session:
        """Make this the active session (wrappers not bound to a session use it)."""
        push_session(self)
        return self

    def deactivate(self) -> None:
        """Stop being the active session."""
        drop_session(self)

    def close(self) -> None:
        """Deactivate and close the trace file, if any (idempotent)."""
        self.deactivate()
        if self.log is not None:
            self.log.close()

    def __enter__(self) -> Session:
        return self.activate()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ clients
    def http_client(self, **options: Any) -> Any:
        """An ``httpx`` client bound to this session (see ``transport.http_client``)."""
        return http_client(self, **options)

    def async_http_client(self, **options: Any) -> Any:
        """An ``httpx`` async client bound to this session."""
        return async_http_client(self, **options)

    # ------------------------------------------------------------------ model calls
    def sync_exchange(self, request: Any, send: Callable[[Any], Any]) -> Any:
        """Handle one HTTP request of a sync client (record it, or answer it)."""
        raise NotImplementedError

    async def async_exchange(self, request: Any, send: Callable[[Any], Awaitable[Any]]) -> Any:
        """Handle one HTTP request of an async client (record it, or answer it)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ spans
    @contextlib.contextmanager
    def agent(self, name: str, *, version: str | None = None, **attrs: Any) -> Iterator[SpanHandle]:
        """An agent span around the steps inside it (``gen_ai.agent.name``)."""
        attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": name, **attrs}
        if version is not None:
            attributes["gen_ai.agent.version"] = version
        with self._span("agent", name, attributes) as handle:
            yield handle

    @contextlib.contextmanager
    def chain(self, name: str, **attrs: Any) -> Iterator[SpanHandle]:
        """A chain (any named group of steps) span: kind ``other``."""
        with self._span("other", name, {"trace_tui.capture.span": "chain", **attrs}) as handle:
            yield handle

    @contextlib.contextmanager
    def _span(self, kind: str, name: str, attributes: dict[str, Any]) -> Iterator[SpanHandle]:
        if self.log is None:
            yield SpanHandle(None)
            return
        span, token = self._open(kind, name, attributes)
        handle = SpanHandle(span.span_id if span else None)
        try:
            yield handle
        except BaseException as exc:
            self._close(span, token, handle.attributes, error=error_of(exc))
            raise
        self._close(span, token, handle.attributes)

    def _open(self, kind: str, name: str, attributes: dict[str, Any]) -> tuple[Any, Any]:
        assert self.log is not None
        try:
            span = self.log.start(kind, name, attributes)
            return span, self.log.enter(span)
        except Exception as exc:  # noqa: BLE001 - capture never breaks the agent
            self.log.guard_failed(exc)
            return None, None

    def _close(
        self, span: OpenSpan | None, token: Any, attrs: dict[str, Any], error: Any = None
    ) -> None:
        if span is None or self.log is None:
            return
        try:
            self.log.leave(span, token)
            self.log.end(span, attrs, error=error)
        except Exception as exc:  # noqa: BLE001 - capture never breaks the agent
            self.log.guard_failed(exc)

    # ------------------------------------------------------------------ tools
    def run_tool(
        self, kind: str, name: str, fn: Callable[..., Any], arguments: Any, args: Any, kwargs: Any
    ) -> Any:
        """Run (or answer) one call of a decorated sync tool."""
        raise NotImplementedError

    async def arun_tool(
        self, kind: str, name: str, fn: Callable[..., Any], arguments: Any, args: Any, kwargs: Any
    ) -> Any:
        """Run (or answer) one call of a decorated async tool."""
        raise NotImplementedError

    @contextlib.contextmanager
    def tool_call(
        self, name: str, arguments: Any = None, *, call_id: str | None = None, kind: str = KIND_TOOL
    ) -> Iterator[ToolCall]:
        """A tool run written by hand: ``with session.tool_call("lookup", args) as call:``."""
        raise NotImplementedError
        yield  # pragma: no cover


def error_of(exc: BaseException) -> dict[str, str]:
    """The native error object for an exception: qualified type name and message."""
    kind = type(exc)
    qualified = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else (f"{kind.__module__}.{kind.__qualname__}")
    )
    return {"type": qualified, "message": str(exc)}
