"""Recording: every model call and tool run goes through as usual and is written to a trace.

A model call becomes an ``llm`` step: its ``span_start`` (request attributes, and the request
half of the raw exchange in ``source``) is written before the request is sent, its
``span_end`` (response attributes, the raw response) when the client has read the whole
response, for a server-sent-event stream when the stream ends. The client reads the same bytes
it would have read without capture.

A tool run becomes a ``tool`` (or ``retrieval``) step with its arguments, its result or the
exception it raised (re-raised unchanged), and the id of the model's tool call it answers.
"""

from __future__ import annotations

import contextlib
import platform
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from trace_tui import __version__
from trace_tui.core.capture.runlog import OpenSpan, RunLog, iso_time, new_run_id
from trace_tui.core.capture.session import (
    KIND_RETRIEVAL,
    Session,
    ToolCall,
    error_of,
    to_json_value,
)
from trace_tui.core.capture.transport import module_of, stream_classes
from trace_tui.core.capture.wire import (
    ModelCall,
    decode_body,
    masked_model_call,
    model_call,
    output_tool_calls,
    response_fields,
)
from trace_tui.core.capture.writer import TraceWriter
from trace_tui.core.export.convert import REDACTION_KEY
from trace_tui.core.formats.shared.provider_bodies import response_attributes
from trace_tui.core.text.redact import Redactor, load_redactor

#: Text every redaction placeholder holds: tool-call arguments with it are re-read unmasked.
PLACEHOLDER_MARK = "redacted:"
#: ``environment`` key naming what wrote the trace.
CAPTURE_KEY = "trace_tui.capture"


class Recorder(Session):
    """Writes a live, replay-complete native trace of the agent's run to ``path``.

    ``agent`` and ``version`` name the agent (run record and ``environment``). Secrets are
    masked on write with the viewer's rules (plus ``~/.config/trace-tui/redact.json``);
    ``redact=False`` writes values as they are, and says so in the run record. ``redactor``
    passes a ready :class:`~trace_tui.core.text.redact.Redactor` instead. ``background=True``
    moves masking and writing to a writer thread (see :mod:`~trace_tui.core.capture.writer`).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        agent: str,
        version: str | None = None,
        run_id: str | None = None,
        session_id: str | None = None,
        environment: dict[str, Any] | None = None,
        redact: bool = True,
        redactor: Redactor | None = None,
        background: bool = False,
    ) -> None:
        self.redactor = redactor if redactor is not None else load_redactor(redact)
        env: dict[str, Any] = {
            "agent_name": agent,
            "agent_version": version,
            **(environment or {}),
            REDACTION_KEY: self.redactor.export_metadata(),
            CAPTURE_KEY: {
                "writer": f"trace-tui {__version__}",
                "python": platform.python_version(),
            },
        }
        record = {
            "type": "run",
            "schema_version": 1,
            "run_id": run_id or new_run_id(),
            "session_id": session_id,
            "name": f"{agent} {version}" if version else agent,
            "started_at": iso_time(time.time()),
            "environment": {k: v for k, v in env.items() if v is not None},
        }
        self.path = Path(path)
        self.log = RunLog(
            TraceWriter(self.path, self.redactor, background=background),
            {k: v for k, v in record.items() if v is not None},
        )

    @property
    def run_id(self) -> str:
        """The run's id (in the ``run`` record)."""
        assert self.log is not None
        return self.log.run_id

    # ------------------------------------------------------------------ model calls
    def sync_exchange(self, request: Any, send: Callable[[Any], Any]) -> Any:
        """Send the request; record it and (as the client reads it) the response."""
        call, span = self._begin(request)
        if span is None or call is None:
            return send(request)
        started = time.perf_counter()
        try:
            response = send(request)
        except BaseException as exc:
            self._fail(span, exc)
            raise
        mod = module_of(request)
        tee, _ = stream_classes(mod)
        done = self._finisher(call, span, mod, response, started)
        return mod.Response(
            response.status_code,
            headers=response.headers,
            stream=tee(response.stream, done),
            extensions=response.extensions,
        )

    async def async_exchange(self, request: Any, send: Callable[[Any], Awaitable[Any]]) -> Any:
        """The asyncio twin of :meth:`sync_exchange`."""
        call, span = self._begin(request)
        if span is None or call is None:
            return await send(request)
        started = time.perf_counter()
        try:
            response = await send(request)
        except BaseException as exc:
            self._fail(span, exc)
            raise
        mod = module_of(request)
        _, tee = stream_classes(mod)
        done = self._finisher(call, span, mod, response, started)
        return mod.Response(
            response.status_code,
            headers=response.headers,
            stream=tee(response.stream, done),
            extensions=response.extensions,
        )

    def _begin(self, request: Any) -> tuple[ModelCall | None, OpenSpan | None]:
        assert self.log is not None
        try:
            call = model_call(request)
            if call is None:
                return None, None
            shown = masked_model_call(call, self.redactor)
            span = self.log.start(
                "llm", shown.name, shown.attributes(), source=shown.source(), masked=True
            )
            return call, span
        except Exception as exc:  # noqa: BLE001 - capture never breaks the agent
            self.log.guard_failed(exc)
            return None, None

    def _fail(self, span: OpenSpan, exc: BaseException) -> None:
        assert self.log is not None
        try:
            self.log.end(span, error=error_of(exc))
        except Exception as err:  # noqa: BLE001 - capture never breaks the agent
            self.log.guard_failed(err)

    def _finisher(
        self, call: ModelCall, span: OpenSpan, mod: Any, response: Any, started: float
    ) -> Callable[[bytes, BaseException | None], None]:
        log, redactor = self.log, self.redactor
        assert log is not None
        status, headers = response.status_code, response.headers

        def done(raw: bytes, error: BaseException | None) -> None:
            try:
                elapsed = round((time.perf_counter() - started) * 1000, 3)
                body = decode_body(mod, status, headers, raw)
                # Masked once, the body and the attributes built from it are written as they are.
                shown = redactor.value(body) if redactor.enabled else body
                attrs, failure, source = response_fields(call, status, shown, elapsed)
                problem: Any = failure
                if error is not None and failure is None:
                    problem = error_of(error)
                log.end(span, attrs, error=problem, source=source, masked=True)
                calls = output_tool_calls(attrs)
                if calls and PLACEHOLDER_MARK in str(calls):  # link by the arguments as sent
                    calls = output_tool_calls(response_attributes(call.provider, body))
                log.offer_calls(calls)
            except Exception as exc:  # noqa: BLE001 - capture never breaks the agent
                log.guard_failed(exc)

        return done

    # ------------------------------------------------------------------ tools
    def run_tool(
        self, kind: str, name: str, fn: Callable[..., Any], arguments: Any, args: Any, kwargs: Any
    ) -> Any:
        """Run the tool and record its arguments, result or exception."""
        with self.tool_call(name, arguments, kind=kind) as call:
            call.result = fn(*args, **kwargs)
        return call.result

    async def arun_tool(
        self, kind: str, name: str, fn: Callable[..., Any], arguments: Any, args: Any, kwargs: Any
    ) -> Any:
        """Await the tool and record its arguments, result or exception."""
        with self.tool_call(name, arguments, kind=kind) as call:
            call.result = await fn(*args, **kwargs)
        return call.result

    @contextlib.contextmanager
    def tool_call(
        self, name: str, arguments: Any = None, *, call_id: str | None = None, kind: str = "tool"
    ) -> Iterator[ToolCall]:
        """Record the tool run in the body: set ``call.result`` (an exception is recorded)."""
        call = ToolCall(name, arguments, call_id)
        span, token = self._open(kind, name, self._tool_start(call, kind))
        try:
            yield call
        except BaseException as exc:
            self._close(span, token, {}, error=error_of(exc))
            raise
        self._close(span, token, _tool_end(call, kind))

    def _tool_start(self, call: ToolCall, kind: str) -> dict[str, Any]:
        assert self.log is not None
        if call.call_id is None:
            call.call_id = self.log.claim_call(call.name, call.arguments)
        else:
            self.log.release_call(call.call_id)
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": "retrieval" if kind == KIND_RETRIEVAL else "execute_tool",
            "gen_ai.tool.name": call.name,
            "gen_ai.tool.call.id": call.call_id,
            "gen_ai.tool.call.arguments": to_json_value(call.arguments),
        }
        if kind == KIND_RETRIEVAL:
            attrs["gen_ai.retrieval.query.text"] = query_of(call.arguments)
        return attrs


def _tool_end(call: ToolCall, kind: str) -> dict[str, Any]:
    result = to_json_value(call.result)
    attrs: dict[str, Any] = {"gen_ai.tool.call.result": result}
    if kind == KIND_RETRIEVAL:
        docs = call.documents if call.documents is not None else result
        attrs["gen_ai.retrieval.documents"] = documents_of(docs)
    return attrs


def query_of(arguments: Any) -> Any:
    """The query text of a retrieval: the ``query`` argument, else the first string one."""
    if isinstance(arguments, dict):
        if "query" in arguments:
            return arguments["query"]
        return next((v for v in arguments.values() if isinstance(v, str)), None)
    return arguments if isinstance(arguments, str) else None


def documents_of(value: Any) -> list[dict[str, Any]]:
    """Retrieved documents as ``[{"id", "score", "content"}]`` (strings become content)."""
    value = to_json_value(value)
    if not isinstance(value, list):
        return [] if value is None else [{"content": value}]
    docs = []
    for item in value:
        item = to_json_value(item)
        docs.append(item if isinstance(item, dict) else {"content": item})
    return docs
