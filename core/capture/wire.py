"""What a captured HTTP exchange with a model API means, in the native vocabulary.

Which API a request is for (OpenAI chat completions, OpenAI Responses, Anthropic Messages),
the request body as JSON, and the step attributes of both sides. The mapping from provider
bodies to native attributes is the one every importer uses
(:mod:`trace_tui.core.formats.shared.provider_bodies`), so a captured run and an imported raw
capture (``api-exchanges``) describe the same call the same way, and replay can rebuild a
request from a live body exactly as it was built from the recorded one.

The raw exchange is kept in the step's ``source`` under the keys the ``api-exchanges`` format
uses (``method``, ``url``, ``request_body``, ``response_status``, ``response_body``,
``elapsed_ms``), so a captured step and an imported one look alike to replay.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import orjson

from trace_tui.core.formats.shared.provider_bodies import (
    request_attributes,
    response_attributes,
    response_error,
)
from trace_tui.core.text.redact import Redactor

#: URL path endings of the model APIs capture records, with their provider key.
_PATHS = (
    ("/chat/completions", "openai.chat"),
    ("/responses", "openai.responses"),
    ("/messages", "anthropic"),
)
PROVIDER_NAMES = {"anthropic": "anthropic", "openai.chat": "openai", "openai.responses": "openai"}


@dataclass(frozen=True, slots=True)
class ModelCall:
    """A request to a model API: which API, the URL, the body and whether it streams."""

    provider: str
    method: str
    url: str
    body: Any

    @property
    def streaming(self) -> bool:
        """True when the client asked for a server-sent-event stream."""
        return isinstance(self.body, dict) and self.body.get("stream") is True

    def attributes(self) -> dict[str, Any]:
        """The llm step's request attributes (model, parameters, system, messages, tools)."""
        attrs = request_attributes(self.provider, self.body)
        return {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": PROVIDER_NAMES[self.provider],
            **attrs,
        }

    def source(self) -> dict[str, Any]:
        """The request half of the raw exchange, as ``api-exchanges`` records it."""
        return {"method": self.method, "url": self.url, "request_body": self.body}

    @property
    def name(self) -> str:
        """The step name: ``chat <model>``."""
        model = self.body.get("model") if isinstance(self.body, dict) else None
        return f"chat {model or 'model'}"


def masked_model_call(call: ModelCall, redactor: Redactor) -> ModelCall:
    """``call`` with secrets in its URL and body masked (the attributes then come out masked).

    Masking the body once and building the attributes from it costs half of masking both.
    """
    if not redactor.enabled:
        return call
    return replace(call, url=redactor.text(call.url), body=redactor.value(call.body))


def model_call(request: Any) -> ModelCall | None:
    """The model call a request makes, or ``None`` for any other request (left alone)."""
    if request.method != "POST":
        return None
    path = request.url.path.rstrip("/")
    provider = next((p for suffix, p in _PATHS if path.endswith(suffix)), None)
    if provider is None:
        return None
    raw = request.content  # the SDKs send JSON bodies as bytes, already in memory
    try:
        body: Any = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        body = raw.decode("utf-8", "replace")
    return ModelCall(provider, request.method, str(request.url), body)


def decode_body(mod: Any, status: int, headers: Any, raw: bytes) -> Any:
    """A response body as the client sees it: content-decoded, JSON parsed, SSE as text."""
    data = raw
    if headers.get("content-encoding", "identity") not in ("identity", ""):
        try:
            data = mod.Response(status, headers=headers, content=raw).content
        except Exception:  # noqa: BLE001 - an undecodable encoding is kept as text below
            data = raw
    text = data.decode("utf-8", "replace")
    if "event-stream" in str(headers.get("content-type", "")):
        return text
    try:
        return orjson.loads(data) if data else None
    except orjson.JSONDecodeError:
        return text


def response_fields(
    call: ModelCall, status: int, body: Any, elapsed_ms: float
) -> tuple[dict[str, Any], str | None, dict[str, Any]]:
    """The llm step's response attributes, its error (or ``None``) and the response source."""
    attrs = response_attributes(call.provider, body) if status < 400 else {}
    attrs["http.response.status_code"] = status
    error = None
    if status >= 400:
        error = f"HTTP {status}: {response_error(body) or 'request failed'}"
    source = {"response_status": status, "response_body": body, "elapsed_ms": elapsed_ms}
    return attrs, error, source


def output_tool_calls(attrs: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool calls in a response's output messages, in order."""
    calls: list[dict[str, Any]] = []
    for message in attrs.get("gen_ai.output.messages") or ():
        if isinstance(message, dict):
            calls += [c for c in message.get("tool_calls") or () if isinstance(c, dict)]
    return calls
