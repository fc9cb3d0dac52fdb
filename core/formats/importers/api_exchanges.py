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

from trace_tui.core.formats.base import Head, TraceFormat
from trace_tui.core.formats.importers.api_exchanges_light import ApiExchangeLight
from trace_tui.core.formats.importers.api_exchanges_mapper import ApiExchangeMapper

__all__ = ["API_EXCHANGES", "ApiExchangeMapper", "detect_api_exchanges"]

_KEYS = ("method", "url", "request_body", "response_status", "response_body")


def detect_api_exchanges(head: Head) -> bool:
    """A line holding one HTTP exchange: method, url, request and response bodies."""
    rec = head.first_record
    return isinstance(rec, dict) and all(k in rec for k in _KEYS)


API_EXCHANGES = TraceFormat(
    name="api-exchanges",
    title="raw provider API exchanges, one request/response per line (agenttap dumps)",
    detect=detect_api_exchanges,
    mapper=ApiExchangeMapper,
    light=ApiExchangeLight,
)
