"""Sources of new answers when the recording has none: a live model, Python code, live tools.

Replay asks these only after the fixtures missed, and only when the user named one (they are
never the default). Every source has a ``label`` recorded on the steps it answered and in the
branch record; a label is never used to re-create a source, so opening a branch file can not
make trace-tui call a URL or import code.

- :class:`OpenAICompatibleResponder`: ``openai-compatible:URL``, any OpenAI-compatible
  chat-completions endpoint (vLLM, Ollama, llama.cpp server, OpenAI), through ``urllib``.
  The API key is read from an environment variable and sent only as a bearer token, only to
  the URL given: redirects are never followed (a 3xx is an error naming where it pointed).
- :class:`PythonResponder`: ``python:module:function`` (or ``python:path/to/file.py:function``),
  called with a :class:`~trace_tui.core.replay.exchange.ModelRequest`.
- :class:`PythonTools`: ``python:module`` (or a ``.py`` path), whose own functions (or
  ``TOOLS`` dict) are tools by name, called with the call's arguments as keyword arguments;
  functions the module merely imports are not tools.

A source returns ``None`` when it cannot answer (replay then stops and asks a person) and
raises :class:`SourceError` when it failed (the replay stops with that message).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import logging
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from trace_tui.core.errors import BadInput
from trace_tui.core.replay.exchange import (
    ModelRequest,
    ModelResponse,
    ToolCallRequest,
    ToolResult,
    parse_arguments,
)
from trace_tui.core.text.redact import Redactor
from trace_tui.core.text.sanitize import one_line

log = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 16 * 1024 * 1024
#: Model parameters an OpenAI-compatible endpoint accepts, by our short name -> theirs.
OPENAI_PARAMETERS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "max_tokens": "max_tokens",
    "seed": "seed",
    "stop_sequences": "stop",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
}


class SourceError(BadInput):
    """A source failed (unreachable endpoint, bad reply, an exception in user code)."""


class ModelSource(Protocol):
    """Answers model calls the recording cannot."""

    label: str

    def respond(self, request: ModelRequest) -> ModelResponse | None:
        """The model's answer, or ``None`` when this source cannot answer."""
        ...


class ToolSource(Protocol):
    """Answers tool calls the recording cannot."""

    label: str

    def call(self, request: ToolCallRequest) -> ToolResult | None:
        """The tool's result, or ``None`` when this source does not have that tool."""
        ...


# --------------------------------------------------------------------------- spec strings
def model_source_from_spec(
    spec: str,
    *,
    api_key_env: str = "OPENAI_API_KEY",
    model_name: str | None = None,
    timeout: float = 120.0,
    environ: Mapping[str, str] | None = None,
) -> ModelSource:
    """A model source from ``openai-compatible:URL`` or ``python:module:function``."""
    if spec.startswith("openai-compatible:"):
        return OpenAICompatibleResponder(
            spec.split(":", 1)[1],
            api_key_env=api_key_env,
            model_name=model_name,
            timeout=timeout,
            environ=environ,
        )
    if spec.startswith("python:"):
        return PythonResponder(spec.split(":", 1)[1])
    raise SourceError(
        f"unknown model source {spec!r}: use openai-compatible:URL or python:module:function"
    )


def tool_source_from_spec(spec: str) -> ToolSource:
    """A tool source from ``python:module`` (or ``python:path/to/tools.py``)."""
    if spec.startswith("python:"):
        return PythonTools(spec.split(":", 1)[1])
    raise SourceError(f"unknown tool source {spec!r}: use python:module")


def load_module(name: str) -> ModuleType:
    """Import a module by dotted name, or load a ``.py`` file by path."""
    try:
        if name.endswith(".py"):
            path = Path(name).resolve()
            mod_name = f"trace_tui_user_{path.stem}"
            spec = importlib.util.spec_from_file_location(mod_name, path)
            if spec is None or spec.loader is None:
                raise SourceError(f"cannot load {name}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module
            spec.loader.exec_module(module)
            return module
        return importlib.import_module(name)
    except SourceError:
        raise
    except Exception as exc:
        log.debug("loading %s failed", name, exc_info=True)
        raise SourceError(f"cannot import {name}: {type(exc).__name__}: {exc}") from exc


# --------------------------------------------------------------------------- python
class PythonResponder:
    """A Python function answers model calls: ``fn(request) -> text | message | None``."""

    def __init__(self, target: str) -> None:
        module_name, sep, func_name = target.rpartition(":")
        if not sep or not module_name or not func_name:
            raise SourceError(f"python responder {target!r}: expected module:function")
        function = getattr(load_module(module_name), func_name, None)
        if not callable(function):
            raise SourceError(f"python responder: {module_name} has no function {func_name!r}")
        self.function: Callable[[ModelRequest], Any] = function
        self.label = f"python:{target}"

    def respond(self, request: ModelRequest) -> ModelResponse | None:
        """Call the function; ``None`` means it declines to answer."""
        try:
            value = self.function(request)
        except Exception as exc:
            log.warning("%s raised at step %d", self.label, request.step_number, exc_info=True)
            raise SourceError(f"{self.label} raised {type(exc).__name__}: {exc}") from exc
        if value is None:
            return None
        try:
            return ModelResponse.coerce(value)
        except ValueError as exc:
            raise SourceError(f"{self.label} returned an unusable answer: {exc}") from exc


class PythonTools:
    """Live tools from a Python module: its ``TOOLS`` dict, else the public functions the
    module *defines*. A function it imports (``from subprocess import run``) is never a tool,
    so a trace's tool call named ``run`` cannot reach it; to expose one, list it in ``TOOLS``.
    """

    def __init__(self, target: str) -> None:
        module = load_module(target)
        table = getattr(module, "TOOLS", None)
        if isinstance(table, dict):
            self.tools = {str(k): v for k, v in table.items() if callable(v)}
        else:
            self.tools = {
                name: fn
                for name, fn in vars(module).items()
                if inspect.isfunction(fn)
                and not name.startswith("_")
                and fn.__module__ == module.__name__
            }
        self.label = f"python:{target}"

    def call(self, request: ToolCallRequest) -> ToolResult | None:
        """Run the tool; an exception it raises is its (error) result, as a live run would see."""
        function = self.tools.get(request.name)
        if function is None:
            return None
        arguments = parse_arguments(request.arguments)
        try:
            value = function(**arguments) if isinstance(arguments, dict) else function(arguments)
        except Exception as exc:
            log.info("tool %s raised %s: %s", request.name, type(exc).__name__,
                     Redactor().text(str(exc)))
            error = f"{type(exc).__name__}: {exc}"
            return ToolResult({"error": type(exc).__name__, "message": str(exc)}, "error", error)
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise SourceError(
                f"tool {request.name} returned a value that is not JSON: {exc}"
            ) from exc
        return ToolResult.coerce(value)


# --------------------------------------------------------------------------- openai-compatible
def redact_url(url: str) -> str:
    """The URL without user:password and query string, for labels and messages."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Follow no redirect: a request carrying the API key goes to the URL given or nowhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        """``None``: urllib then raises the 3xx as an ``HTTPError``."""
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


def chat_completions_url(url: str) -> str:
    """``url`` with ``/chat/completions`` at the end of its *path* (a query string stays a
    query string: ``…/v1?api-version=2`` becomes ``…/v1/chat/completions?api-version=2``)."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")
    if not path.endswith("/chat/completions"):
        path += "/chat/completions"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


class OpenAICompatibleResponder:
    """Asks an OpenAI-compatible ``/chat/completions`` endpoint (opt-in, never the default)."""

    def __init__(
        self,
        url: str,
        *,
        api_key_env: str = "OPENAI_API_KEY",
        model_name: str | None = None,
        timeout: float = 120.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SourceError(f"openai-compatible: {url!r} is not an http(s) URL")
        self.endpoint = chat_completions_url(url)
        self.label = f"openai-compatible:{redact_url(url)}"
        self.api_key = (environ if environ is not None else os.environ).get(api_key_env)
        self.model_name = model_name
        self.timeout = timeout

    def respond(self, request: ModelRequest) -> ModelResponse:
        """POST the request and convert the first choice to a native response."""
        body = json.dumps(openai_body(request, self.model_name)).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        http_request = urllib.request.Request(
            self.endpoint, data=body, headers=headers, method="POST"
        )
        where = redact_url(self.endpoint)
        try:
            with _OPENER.open(http_request, timeout=self.timeout) as reply:
                raw = reply.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                target = redact_url(exc.headers.get("Location") or "") or "nowhere"
                raise SourceError(
                    f"{where} answered HTTP {exc.code}, a redirect to {target}; not followed "
                    "(the API key is only ever sent to the URL given: pass the final URL)"
                ) from exc
            detail = one_line(exc.read(300).decode("utf-8", "replace").strip(), 200)
            raise SourceError(f"{where} answered HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SourceError(f"{where} is unreachable: {reason}") from exc
        if len(raw) > MAX_RESPONSE_BYTES:
            raise SourceError(f"{where} sent more than {MAX_RESPONSE_BYTES} bytes")
        try:
            return response_from_openai(json.loads(raw))
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise SourceError(f"{where} sent a reply that is not a chat completion: {exc}") from exc


def openai_body(request: ModelRequest, model_name: str | None = None) -> dict[str, Any]:
    """The chat-completions request body for a native request (system prompt first)."""
    messages: list[dict[str, Any]] = []
    if request.system is not None:
        messages.append({"role": "system", "content": _text(request.system)})
    messages += [openai_message(m) for m in request.messages]
    body: dict[str, Any] = {"model": model_name or request.model or "default", "messages": messages}
    if request.tools:
        body["tools"] = [openai_tool(t) for t in request.tools]
    for short, value in request.parameters.items():
        if short in OPENAI_PARAMETERS:
            body[OPENAI_PARAMETERS[short]] = value
    return body


def openai_message(message: dict[str, Any]) -> dict[str, Any]:
    """One native message as an OpenAI chat message (arguments as JSON strings)."""
    role = str(message.get("role") or "user")
    content = message.get("content")
    out: dict[str, Any] = {"role": role, "content": None if content is None else _text(content)}
    if role == "assistant" and message.get("tool_calls"):
        out["tool_calls"] = [
            {
                "id": call.get("id"),
                "type": "function",
                "function": {"name": call.get("name"), "arguments": _arguments_text(call)},
            }
            for call in message["tool_calls"]
            if isinstance(call, dict)
        ]
    if role == "tool":
        out["tool_call_id"] = message.get("tool_call_id")
        out["content"] = "" if content is None else _text(content)
    return out


def openai_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A native tool definition as an OpenAI function tool."""
    function: dict[str, Any] = {"name": tool.get("name")}
    if tool.get("description") is not None:
        function["description"] = tool["description"]
    function["parameters"] = tool.get("parameters") or {"type": "object", "properties": {}}
    return {"type": "function", "function": function}


def response_from_openai(data: dict[str, Any]) -> ModelResponse:
    """The first choice of a chat-completions reply as a native response."""
    choice = data["choices"][0]
    message = choice["message"]
    calls = [
        {
            "id": call.get("id"),
            "name": call["function"]["name"],
            "arguments": parse_arguments(call["function"].get("arguments")),
        }
        for call in message.get("tool_calls") or []
    ]
    native: dict[str, Any] = {"role": "assistant", "content": message.get("content")}
    if calls:
        native["tool_calls"] = calls
    usage = data.get("usage") or {}
    finish = choice.get("finish_reason")
    return ModelResponse.from_message(
        native,
        finish_reasons=[str(finish)] if finish else None,
        input_tokens=_int_or_none(usage.get("prompt_tokens")),
        output_tokens=_int_or_none(usage.get("completion_tokens")),
        model=data.get("model"),
        response_id=data.get("id"),
    )


def _arguments_text(call: dict[str, Any]) -> str:
    arguments = call.get("arguments")
    if isinstance(arguments, str):
        return arguments
    return json.dumps({} if arguments is None else arguments, ensure_ascii=False)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = [p.get("text") if isinstance(p, dict) else p for p in value]
        if all(isinstance(p, str) for p in parts):
            return "\n".join(parts)  # type: ignore[arg-type]
    return json.dumps(value, ensure_ascii=False)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
