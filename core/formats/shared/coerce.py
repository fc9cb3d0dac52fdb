"""Make payload attributes fit the native schema's types before a record is emitted.

Foreign formats carry the right names with the wrong types (``"502"`` for a token count, a JSON
string for a message list, a bare string for stop sequences). :func:`coerce_known` fixes every
attribute the native schema types; a value that cannot be fixed is moved to ``<name>.raw`` so it
stays visible without breaking validation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from trace_tui.core.formats.shared.common import maybe_json, opt_float, opt_int
from trace_tui.core.formats.shared.messages import normalize_messages, normalize_tools, text_of

log = logging.getLogger(__name__)

_Fix = Callable[[Any], Any]

#: Request parameters by the names providers use, and their ``gen_ai.request.*`` names.
PARAMS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "seed": "seed",
    "max_tokens": "max_tokens",
    "max_completion_tokens": "max_tokens",
    "max_output_tokens": "max_tokens",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "stop": "stop_sequences",
    "stop_sequences": "stop_sequences",
    "stop_seqs": "stop_sequences",
}


def _string(value: Any) -> Any:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _number(value: Any) -> Any:
    return opt_float(value)


def _count(value: Any) -> Any:
    return opt_int(value)


def _integer(value: Any) -> Any:
    number = opt_float(value)
    return int(number) if number is not None and number.is_integer() else None


def _window(value: Any) -> Any:
    count = opt_int(value)
    return count if count else None


def _strings(value: Any) -> Any:
    value = maybe_json(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v if isinstance(v, str) else str(v) for v in value]
    return None


def _messages(value: Any) -> Any:
    return normalize_messages(value)


def _system(value: Any) -> Any:
    return text_of(value)


def _tools(value: Any) -> Any:
    return normalize_tools(value)


def _documents(value: Any) -> Any:
    value = maybe_json(value)
    if not isinstance(value, list):
        return None
    docs = []
    for doc in value:
        if not isinstance(doc, dict):
            doc = {"content": doc}
        doc = dict(doc)
        if not isinstance(doc.get("id"), str | int) or isinstance(doc.get("id"), bool):
            doc.pop("id", None)
        doc["score"] = opt_float(doc.get("score"))
        docs.append(doc)
    return docs


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    return None


_FIXES: dict[str, _Fix] = {
    **dict.fromkeys(
        (
            "gen_ai.operation.name",
            "gen_ai.provider.name",
            "gen_ai.request.model",
            "gen_ai.response.model",
            "gen_ai.response.id",
            "gen_ai.tool.name",
            "gen_ai.tool.call.id",
            "gen_ai.retrieval.query.text",
        ),
        _string,
    ),
    **dict.fromkeys(
        ("gen_ai.request.temperature", "gen_ai.request.top_p", "gen_ai.request.top_k"), _number
    ),
    **dict.fromkeys(
        (
            "gen_ai.request.max_tokens",
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.cache_read.input_tokens",
            "gen_ai.usage.cache_creation.input_tokens",
        ),
        _count,
    ),
    "gen_ai.request.seed": _integer,
    "gen_ai.request.stop_sequences": _strings,
    "gen_ai.response.finish_reasons": _strings,
    "gen_ai.system_instructions": _system,
    "gen_ai.input.messages": _messages,
    "gen_ai.output.messages": _messages,
    "gen_ai.tool.definitions": _tools,
    "gen_ai.retrieval.documents": _documents,
    "trace_tui.context_window": _window,
    "trace_tui.context.truncated": _boolean,
}


#: Keys :func:`coerce_known` may change the value of; those of them whose string values it keeps
#: unchanged.
FIXED_KEYS = frozenset(_FIXES)
STRING_KEYS = frozenset(key for key, fix in _FIXES.items() if fix is _string)


def coerce_known(attrs: dict[str, Any]) -> dict[str, Any]:
    """``attrs`` with every schema-typed attribute fixed (or moved to ``<name>.raw``)."""
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if value is None:
            continue
        fix = _FIXES.get(key)
        if fix is None:
            out[key] = value
            continue
        fixed = fix(value)
        if fixed is None and key != "gen_ai.system_instructions":
            log.debug(
                "attribute %s: value %r does not fit the native type; kept as %s.raw",
                key,
                value,
                key,
            )
            out[f"{key}.raw"] = value
        elif fixed is not None:
            out[key] = fixed
    return out


def model_parameters(params: Any) -> dict[str, Any]:
    """``gen_ai.request.*`` attributes from a dict of invocation parameters (any provider)."""
    params = maybe_json(params)
    if not isinstance(params, dict):
        return {}
    out: dict[str, Any] = {}
    for key, native in PARAMS.items():
        if key in params and params[key] is not None:
            value = maybe_json(params[key])
            out[f"gen_ai.request.{native}"] = (
                opt_int(value) if native in ("max_tokens", "seed") else value
            )
    return coerce_known(out)
