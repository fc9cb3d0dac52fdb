"""Raw provider API exchanges, one HTTP request/response pair per line (agenttap style).

A line is a dumped ``TappedCall``: ``timestamp``, ``method``, ``url``, ``request_body``,
``response_status``, ``response_body``, ``elapsed_ms`` (headers too, secrets redacted). Each
exchange with a model API (OpenAI chat completions, OpenAI Responses, Anthropic Messages)
becomes an ``llm`` step built from the bodies. Tool calls are not visible on the wire; they
are reconstructed: a ``tool`` step starts when a response asks for a tool, and ends when a
later request carries that call's result (the time in between is the tool's run time). Other
HTTP exchanges become ``other`` steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trace_tui.core.formats.base import Head, TraceFormat
from trace_tui.core.formats.shared.common import (
    A_IMPORT_NOTE,
    epoch_seconds,
    opt_float,
    opt_int,
    span,
    span_end,
    span_start,
)
from trace_tui.core.formats.shared.provider_bodies import (
    guess_provider,
    request_attributes,
    response_attributes,
    response_error,
)

_KEYS = ("method", "url", "request_body", "response_status", "response_body")
_RECONSTRUCTED = (
    "reconstructed from the model's tool call and the result sent back in the next request"
)
_PROVIDER_NAMES = {"anthropic": "anthropic", "openai.chat": "openai", "openai.responses": "openai"}


class ApiExchangeMapper:
    """Maps exchanges to ``llm`` steps and reconstructs the tool calls between them."""

    def __init__(self) -> None:
        self._n = 0
        self._pending: dict[str, str] = {}  # tool call id -> tool step id

    def feed(self, record: dict[str, Any], *, offset: int, line: int) -> Iterable[dict[str, Any]]:
        """Native records for one exchange."""
        start = opt_float(record.get("timestamp"))
        start = epoch_seconds(start) if start is not None else None
        elapsed = opt_float(record.get("elapsed_ms"))
        end = start + elapsed / 1000 if start is not None and elapsed is not None else None
        provider = guess_provider(
            record.get("url"), record.get("request_body"), record.get("response_body")
        )
        self._n += 1
        if provider is None:
            return [
                span(
                    f"wire-{self._n}",
                    "other",
                    f"{record.get('method', 'HTTP')} {record.get('url', '')}",
                    start=start,
                    end=end,
                    attributes=_http(record),
                    source=record,
                )
            ]
        request = request_attributes(provider, record.get("request_body"))
        out = self._tool_results(request.get("gen_ai.input.messages") or [], start, record)
        attrs = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": _PROVIDER_NAMES[provider],
            **request,
            **response_attributes(provider, record.get("response_body")),
            **_http(record),
        }
        status = opt_int(record.get("response_status"))
        error = None
        if status is not None and status >= 400:
            error = (
                f"HTTP {status}: {response_error(record.get('response_body')) or 'request failed'}"
            )
        model = attrs.get("gen_ai.request.model") or attrs.get("gen_ai.response.model") or "model"
        llm_id = f"wire-{self._n}"
        out.append(
            span(
                llm_id,
                "llm",
                f"chat {model}",
                start=start,
                end=end,
                error=error,
                attributes=attrs,
                source=record,
            )
        )
        out += self._tool_calls(attrs.get("gen_ai.output.messages") or [], end, record)
        return out

    def finish(self) -> Iterable[dict[str, Any]]:
        """Tool calls no later request answered stay running: their results were never sent."""
        return ()

    def _tool_calls(
        self, outputs: list[dict[str, Any]], at: float | None, record: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Running tool steps for the calls a response asked for (source: that exchange)."""
        out = []
        for message in outputs:
            for call in message.get("tool_calls") or ():
                self._n += 1
                tool_id = f"wire-tool-{self._n}"
                if call.get("id"):
                    self._pending[str(call["id"])] = tool_id
                out.append(
                    span_start(
                        tool_id,
                        "tool",
                        str(call.get("name") or "tool"),
                        start=at,
                        attributes={
                            "gen_ai.operation.name": "execute_tool",
                            "gen_ai.tool.name": call.get("name"),
                            "gen_ai.tool.call.id": call.get("id"),
                            "gen_ai.tool.call.arguments": call.get("arguments"),
                            A_IMPORT_NOTE: _RECONSTRUCTED,
                        },
                        source=record,
                    )
                )
        return out

    def _tool_results(
        self, inputs: list[dict[str, Any]], at: float | None, record: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """End the pending tool steps whose results this request sends back."""
        out = []
        for message in inputs:
            call_id = message.get("tool_call_id")
            tool_id = (
                self._pending.pop(str(call_id), None) if message.get("role") == "tool" else None
            )
            if tool_id is not None:
                content = message.get("content")
                error = (str(content)[:200] or "tool error") if message.get("is_error") else None
                out.append(
                    span_end(
                        tool_id,
                        end=at,
                        status="ok",
                        error=error,
                        attributes={"gen_ai.tool.call.result": content},
                        source=record,
                    )
                )
        return out


def _http(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "http.request.method": record.get("method"),
        "url.full": record.get("url"),
        "http.response.status_code": record.get("response_status"),
        "trace_tui.elapsed_ms": record.get("elapsed_ms"),
    }


def detect_api_exchanges(head: Head) -> bool:
    """A line holding one HTTP exchange: method, url, request and response bodies."""
    rec = head.first_record
    return isinstance(rec, dict) and all(k in rec for k in _KEYS)


API_EXCHANGES = TraceFormat(
    name="api-exchanges",
    title="raw provider API exchanges, one request/response per line (agenttap dumps)",
    detect=detect_api_exchanges,
    mapper=ApiExchangeMapper,
)
