"""Replay in code: the agent's own code, answered from a recorded trace, with no network.

A :class:`Replayer` is a session like a recorder: the same HTTP clients and tool decorators
talk to it. It answers each model call with the recorded response to the same request and
each tool call with the recorded result for the same arguments, using the rules and the
``match`` vocabulary of ``trace-tui fork`` (:mod:`trace_tui.core.replay.fixtures`, with the
normalisers of :mod:`trace_tui.core.capture.matching`). A call with no recorded answer raises
:class:`~trace_tui.core.capture.matching.ReplayMiss`; nothing is ever sent to the network and
no real tool runs, unless the caller opted in (``responder=``, ``live_tools=True``).

Any trace ``trace-tui show`` calls replay-ready can drive it: a capture, a raw API capture
(``api-exchanges``), OpenInference spans with content, a converted trace. When the recording
holds the raw response in the shape the client asked for, those bytes are sent back; else the
response is rebuilt from the recorded attributes (:mod:`trace_tui.core.capture.synth`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, cast

import orjson

from trace_tui.core.capture.matching import (
    DEFAULT_NORMALISERS,
    Normaliser,
    ReplayMiss,
    RequestMatcher,
    describe_change,
    resolve_normalisers,
)
from trace_tui.core.capture.ordering import CompletionGate
from trace_tui.core.capture.session import KIND_TOOL, Session, ToolCall, to_json_value
from trace_tui.core.capture.synth import response_body, stream_body
from trace_tui.core.capture.transport import module_of
from trace_tui.core.capture.wire import ModelCall, masked_model_call, model_call
from trace_tui.core.capture.writer import dumps
from trace_tui.core.diff.payload import diff_values
from trace_tui.core.formats.shared.provider_bodies import guess_provider
from trace_tui.core.model.run import Run, Step
from trace_tui.core.reading.reader import open_run
from trace_tui.core.replay.exchange import (
    REQUEST_ATTRS,
    ModelRequest,
    ModelResponse,
    ToolCallRequest,
    ToolResult,
)
from trace_tui.core.replay.fixtures import ToolFixtures, is_tool_step, response_of
from trace_tui.core.replay.redaction import masked_call, matching_redactor
from trace_tui.core.text.redact import Redactor, load_redactor

Responder = Callable[[ModelRequest], Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """One replayed call: what it was, which recorded step answered it, and how."""

    call: str
    step: int | None
    match: str


class ReplayedToolError(Exception):
    """A recorded tool failure whose exception type cannot be rebuilt here."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}" if kind else message)
        self.kind = kind
        self.message = message


class _Steps:
    """A run's steps with tool payloads masked (what :class:`ToolFixtures` reads)."""

    def __init__(self, steps: Iterable[Step]) -> None:
        self.steps = list(steps)


class Replayer(Session):
    """Answers the agent's model and tool calls from ``source`` (a trace path or a ``Run``).

    ``normalisers``: names or functions applied to both sides before comparing requests
    (default: timestamps, UUIDs, tool-call ids; ``()`` for none). ``tool_match="position"``
    lets a tool call with new arguments take the result of the same call position (fork's
    ``--tool-match position``). ``responder`` answers model calls the recording cannot (a
    function of a :class:`~trace_tui.core.replay.exchange.ModelRequest` returning reply text,
    an assistant message or a ``ModelResponse``); ``live_tools=True`` runs the real tool for a
    tool call the recording cannot answer. Both are opt-in; without them a miss raises.
    """

    def __init__(
        self,
        source: str | Path | Run,
        *,
        format_name: str | None = None,
        normalisers: Iterable[str | Normaliser] = DEFAULT_NORMALISERS,
        tool_match: str = "exact",
        responder: Responder | None = None,
        live_tools: bool = False,
        redactor: Redactor | None = None,
    ) -> None:
        if tool_match not in ("exact", "position"):
            raise ValueError('tool_match must be "exact" or "position"')
        self.run = source if isinstance(source, Run) else open_run(source, format_name)
        self.redactor = matching_redactor(redactor if redactor is not None else load_redactor())
        self.models = RequestMatcher(self.run, self.redactor, resolve_normalisers(normalisers))
        masked = [
            dataclasses.replace(s, attributes=self.redactor.value(s.attributes))
            if is_tool_step(s)
            else s
            for s in self.run.steps
        ]
        self._tool_steps = [s for s in masked if is_tool_step(s)]
        self.tools = ToolFixtures(
            cast(Run, _Steps(masked)), position_fallback=tool_match == "position"
        )
        self.responder = responder
        self.live_tools = live_tools
        self.answers: list[Answer] = []
        self.misses: list[ReplayMiss] = []
        self._lock = threading.Lock()
        self._model_calls = 0
        self._tool_calls = 0
        self.gate = CompletionGate()
        self.gate.know(self.models.steps)
        self._tool_edits: list[tuple[str, Any, ToolResult]] = []

    def edit_tool(
        self, name: str, result: Any, *, arguments: Any = None, error: str | None = None
    ) -> None:
        """Answer calls of tool ``name`` (with ``arguments``, or any) with ``result`` instead.

        The in-code twin of ``trace-tui fork --set /attributes/gen_ai.tool.call.result=...``:
        the agent gets the edited result (``match`` ``edited``); the next model request that
        carries it no longer matches the recording, so replay raises there unless a
        ``responder`` answers. ``error`` makes the tool fail with that ``"Type: message"``.
        """
        outcome = ToolResult(result, "error" if error else "ok", error)
        self._tool_edits.append(
            (name, None if arguments is None else json_data(arguments), outcome)
        )

    # ------------------------------------------------------------------ model calls
    def sync_exchange(self, request: Any, send: Callable[[Any], Any]) -> Any:
        """Answer from the recording; ``send`` is never called."""
        call = self._model_call(request)
        body, content_type, step = self._answer(call)
        if step is not None:
            self.gate.release(step)
        return self._response(request, body, content_type)

    async def async_exchange(self, request: Any, send: Callable[[Any], Awaitable[Any]]) -> Any:
        """Answer from the recording, in the recorded completion order; never sends."""
        call = self._model_call(request)
        body, content_type, step = self._answer(call)
        if step is not None:
            await self.gate.wait(step)
            self.gate.release(step)
        return self._response(request, body, content_type)

    def _model_call(self, request: Any) -> ModelCall:
        call = model_call(request)
        if call is None:
            miss = ReplayMiss(
                f"{request.method} {request.url} is not a model API call; a replay sends nothing",
                call=f"{request.method} {request.url}",
                nearest_step=None,
                changes=(),
            )
            self.misses.append(miss)
            raise miss
        return call

    def _answer(self, call: ModelCall) -> tuple[bytes, str, Step | None]:
        attrs = masked_model_call(call, self.redactor).attributes()  # masked as a capture masks it
        request = ModelRequest({k: attrs[k] for k in REQUEST_ATTRS if k in attrs})
        with self._lock:
            self._model_calls += 1
            position = self._model_calls
            hit = self.models.take(request.attributes)
        label = f"model call #{position} ({call.name})"
        if hit is not None:
            self._note(Answer(label, hit.step.number, hit.match))
            body, content_type = recorded_answer(call, hit.step)
            return body, content_type, hit.step
        if self.responder is not None:
            response = ModelResponse.coerce(self.responder(request))
            self._note(Answer(label, None, "live"))
            body, content_type = synthesised(call, response.attributes)
            return body, content_type, None
        miss = self.models.miss(request.attributes, label, position - 1)
        self.misses.append(miss)
        raise miss

    def _response(self, request: Any, body: bytes, content_type: str) -> Any:
        mod = module_of(request)
        return mod.Response(
            200, headers={"content-type": content_type}, content=body, request=request
        )

    # ------------------------------------------------------------------ tools
    def run_tool(
        self, kind: str, name: str, fn: Callable[..., Any], arguments: Any, args: Any, kwargs: Any
    ) -> Any:
        """The recorded result (or the recorded exception raised); ``fn`` is not called."""
        result = self._tool(name, arguments, live=self.live_tools)
        if result is None:
            return fn(*args, **kwargs)
        return deliver(result)

    async def arun_tool(
        self, kind: str, name: str, fn: Callable[..., Any], arguments: Any, args: Any, kwargs: Any
    ) -> Any:
        """The recorded result of an async tool; ``fn`` is not awaited."""
        result = self._tool(name, arguments, live=self.live_tools)
        if result is None:
            return await fn(*args, **kwargs)
        return deliver(result)

    @contextlib.contextmanager
    def tool_call(
        self, name: str, arguments: Any = None, *, call_id: str | None = None, kind: str = KIND_TOOL
    ) -> Iterator[ToolCall]:
        """``call.replayed`` is true and ``call.result`` holds the recorded result."""
        result = self._tool(name, arguments, live=False)
        assert result is not None
        call = ToolCall(name, arguments, call_id, replayed=True)
        call.result = deliver(result)
        yield call

    def _tool(self, name: str, arguments: Any, *, live: bool) -> ToolResult | None:
        live_args = json_data(to_json_value(arguments))
        request = masked_call(ToolCallRequest(name, live_args), self.redactor)
        edited = next(
            (
                outcome
                for tool, args, outcome in self._tool_edits
                if tool == name and (args is None or args == live_args)
            ),
            None,
        )
        with self._lock:
            self._tool_calls += 1
            position = self._tool_calls
            if edited is not None:
                self.tools.consume(request)
                hit = None
            else:
                hit = self.tools.take(request)
            self.tools.count(request)
        label = f"tool call #{position} ({name})"
        if edited is not None:
            self._note(Answer(label, None, "edited"))
            return edited
        if hit is not None:
            self._note(Answer(label, hit.fixture_step, hit.match))
            return cast(ToolResult, hit.value)
        if live:
            self._note(Answer(label, None, "live"))
            return None
        miss = self._tool_miss(label, request)
        self.misses.append(miss)
        raise miss

    def _tool_miss(self, label: str, request: ToolCallRequest) -> ReplayMiss:
        same = [s for s in self._tool_steps if s.tool_name == request.name]
        if not same:
            text = f"{label}: no recorded result; the recording never called {request.name!r}"
            return ReplayMiss(text, call=label, nearest_step=None, changes=())
        recorded = {s.number: s.attributes.get("gen_ai.tool.call.arguments") for s in same}
        number = min(recorded, key=lambda n: len(diff_values(recorded[n], request.arguments)))
        changes = diff_values(recorded[number], request.arguments)
        lines = [
            f"{label}: no recorded result for these arguments; nearest recorded call: step "
            f"{number}" + (":" if changes else " (its recorded results are used up).")
        ]
        lines += [describe_change(c) for c in changes[:8]]
        return ReplayMiss("\n".join(lines), call=label, nearest_step=number, changes=changes)

    # ------------------------------------------------------------------ bookkeeping
    def _note(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)

    def unused_model_answers(self) -> list[int]:
        """Recorded model steps no replayed call has used (the agent stopped earlier)."""
        used = {a.step for a in self.answers if a.call.startswith("model")}
        return [s.number for s in self.models.steps if s.number not in used]


def json_data(value: Any) -> Any:
    """``value`` as it would be recorded: JSON data (other objects as their ``repr``)."""
    return orjson.loads(dumps({"v": value}))["v"]


def recorded_exchange(step: Step) -> dict[str, Any]:
    """The raw HTTP exchange in a step's source (a capture or an ``api-exchanges`` line)."""
    sources = step.source if isinstance(step.source, list) else [step.source]
    merged: dict[str, Any] = {}
    for source in sources:
        if isinstance(source, dict):
            merged.update({k: v for k, v in source.items() if k in _EXCHANGE_KEYS})
    return merged


_EXCHANGE_KEYS = ("url", "request_body", "response_status", "response_body")


def recorded_answer(call: ModelCall, step: Step) -> tuple[bytes, str]:
    """The bytes to send back: the recorded body when it fits the request, else rebuilt."""
    raw = recorded_exchange(step)
    body = raw.get("response_body")
    status = raw.get("response_status")
    provider = guess_provider(raw.get("url"), raw.get("request_body"), body) if body else None
    if provider == call.provider and (status is None or 200 <= int(status) < 300):
        if isinstance(body, str) and call.streaming and "data:" in body:
            return body.encode("utf-8"), "text/event-stream"
        if isinstance(body, dict):
            if call.streaming:
                return stream_body(call.provider, body).encode("utf-8"), "text/event-stream"
            return orjson.dumps(body), "application/json"
    return synthesised(call, response_of(step).attributes)


def synthesised(call: ModelCall, attrs: dict[str, Any]) -> tuple[bytes, str]:
    """A response rebuilt from response attributes in the shape ``call`` expects."""
    model = call.body.get("model") if isinstance(call.body, dict) else None
    body = response_body(call.provider, attrs, model)
    if call.streaming:
        return stream_body(call.provider, body).encode("utf-8"), "text/event-stream"
    return orjson.dumps(body), "application/json"


def deliver(result: ToolResult) -> Any:
    """A recorded tool outcome as the caller sees it: the value, or the exception raised."""
    if result.status != "error":
        return result.result
    raise rebuild_exception(result.error or "")


def rebuild_exception(error: str) -> BaseException:
    """The recorded exception: its own type when already imported and simple, else a stand-in.

    The type name comes from the trace, so nothing is imported for it: only classes of
    modules the process already has are considered.
    """
    kind, _, message = error.partition(": ")
    if not message:
        return ReplayedToolError("", error)
    module_name, _, qualname = kind.rpartition(".")
    module = sys.modules.get(module_name or "builtins")
    cls = getattr(module, qualname, None) if module is not None and "." not in qualname else None
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(message)
        except Exception:  # noqa: BLE001 - a constructor with other arguments
            pass
    return ReplayedToolError(kind, message)
