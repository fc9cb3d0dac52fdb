"""The mapping of raw API exchange lines to native records (see
:mod:`~trace_tui.core.formats.importers.api_exchanges` for the format).

Each exchange with a model API becomes an ``llm`` step built from the bodies; tool calls are
reconstructed: a ``tool`` step starts when a response asks for a tool, and ends when a later
request carries that call's result. Other HTTP exchanges become ``other`` steps. The helpers
here are shared with the light decoder
(:mod:`~trace_tui.core.formats.importers.api_exchanges_light`), so both build the same records.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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

_RECONSTRUCTED = (
    "reconstructed from the model's tool call and the result sent back in the next request"
)
_PROVIDER_NAMES = {"anthropic": "anthropic", "openai.chat": "openai", "openai.responses": "openai"}


class ApiExchangeMapper:
    """Maps exchanges to ``llm`` steps and reconstructs the tool calls between them.

    Step ids come from the line: ``wire-<line>`` for the exchange, ``wire-<line>-tool-<k>``
    for the ``k``-th tool call its response asks for (so a line's steps can be built again
    from that line alone, see :mod:`~trace_tui.core.formats.importers.api_exchanges_light`).
    The only state is the tool calls still waiting for their result.
    """

    def __init__(self) -> None:
        self._pending: dict[str, str] = {}  # tool call id -> tool step id

    def feed(self, record: dict[str, Any], *, offset: int, line: int) -> Iterable[dict[str, Any]]:
        """Native records for one exchange."""
        start, end = exchange_times(record.get("timestamp"), record.get("elapsed_ms"))
        provider = guess_provider(
            record.get("url"), record.get("request_body"), record.get("response_body")
        )
        if provider is None:
            return [other_span(record, line, start, end)]
        request = request_attributes(provider, record.get("request_body"))
        out = self._tool_results(request.get("gen_ai.input.messages") or [], start, record)
        spans = exchange_spans(record, line, provider, request, start, end)
        for tool in spans[1:]:
            call_id = tool["attributes"]["gen_ai.tool.call.id"]
            if call_id:
                self._pending[str(call_id)] = tool["span_id"]
        return out + spans

    def finish(self) -> Iterable[dict[str, Any]]:
        """Tool calls no later request answered stay running: their results were never sent."""
        return ()

    # the light decoder's view of the state (read in decode, written in accept)
    def pending(self) -> dict[str, str]:
        """Tool call id -> tool step id of the calls still waiting for their result (do not
        change it: see :meth:`settle`)."""
        return self._pending

    def settle(self, ended: Iterable[str], started: dict[str, str]) -> None:
        """Lines indexed without mapping ended the calls ``ended`` and started ``started``."""
        for call_id in ended:
            self._pending.pop(call_id, None)
        self._pending.update(started)

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
                out.append(tool_result_end(tool_id, message, at, record))
        return out


def exchange_times(timestamp: Any, elapsed_ms: Any) -> tuple[float | None, float | None]:
    """(start, end) of an exchange in epoch seconds, as its steps are given them."""
    start = opt_float(timestamp)
    start = epoch_seconds(start) if start is not None else None
    elapsed = opt_float(elapsed_ms)
    end = start + elapsed / 1000 if start is not None and elapsed is not None else None
    return start, end


def other_span(
    record: dict[str, Any], line: int, start: float | None, end: float | None
) -> dict[str, Any]:
    """The ``other`` step of an HTTP exchange that is not a model call."""
    return span(
        f"wire-{line}",
        "other",
        f"{record.get('method', 'HTTP')} {record.get('url', '')}",
        start=start,
        end=end,
        attributes=_http(record),
        source=record,
    )


def exchange_error(status: Any, body: Any) -> str | None:
    """The error of a model call that failed at the HTTP level (``None``: it did not)."""
    code = opt_int(status)
    if code is not None and code >= 400:
        return f"HTTP {code}: {response_error(body) or 'request failed'}"
    return None


def exchange_spans(
    record: dict[str, Any],
    line: int,
    provider: str,
    request: dict[str, Any],
    start: float | None,
    end: float | None,
) -> list[dict[str, Any]]:
    """The ``llm`` step of a model call, then a running ``tool`` step per call it asks for."""
    attrs = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": _PROVIDER_NAMES[provider],
        **request,
        **response_attributes(provider, record.get("response_body")),
        **_http(record),
    }
    error = exchange_error(record.get("response_status"), record.get("response_body"))
    model = attrs.get("gen_ai.request.model") or attrs.get("gen_ai.response.model") or "model"
    out = [
        span(
            f"wire-{line}",
            "llm",
            f"chat {model}",
            start=start,
            end=end,
            error=error,
            attributes=attrs,
            source=record,
        )
    ]
    for k, call in enumerate(tool_calls(attrs.get("gen_ai.output.messages") or []), 1):
        out.append(
            span_start(
                f"wire-{line}-tool-{k}",
                "tool",
                str(call.get("name") or "tool"),
                start=end,
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


def tool_calls(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tool calls of a response's output messages, in order."""
    return [call for message in outputs for call in message.get("tool_calls") or ()]


def tool_result_end(
    tool_id: str, message: dict[str, Any], at: float | None, record: dict[str, Any] | None
) -> dict[str, Any]:
    """The ``span_end`` of tool step ``tool_id`` from the tool message sending its result
    (``record``: the exchange it came in, kept as the source; ``None``: added later)."""
    content = message.get("content")
    error = (str(content)[:200] or "tool error") if message.get("is_error") else None
    return span_end(
        tool_id,
        end=at,
        status="ok",
        error=error,
        attributes={"gen_ai.tool.call.result": content},
        source=record,
    )


def _http(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "http.request.method": record.get("method"),
        "url.full": record.get("url"),
        "http.response.status_code": record.get("response_status"),
        "trace_tui.elapsed_ms": record.get("elapsed_ms"),
    }
