"""Small helpers every importer of a foreign format shares.

Native record builders (:func:`span`, :func:`span_start`, :func:`span_end`), time and id
normalisation, lenient JSON decoding of strings that may hold JSON, token-usage normalisation
(``gen_ai.usage.input_tokens`` always *includes* cache reads and writes), and the ``problem``
record an importer emits when it has to skip something.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import Any

import orjson

from trace_tui.core.model.run import (
    A_USAGE_CACHE_READ,
    A_USAGE_CACHE_WRITE,
    A_USAGE_INPUT,
    A_USAGE_OUTPUT,
)
from trace_tui.core.model.times import epoch_of, iso_of, parse_iso

log = logging.getLogger(__name__)

#: Attribute every importer sets on steps it had to invent or fill in, with a sentence saying so.
A_IMPORT_NOTE = "trace_tui.import.note"


# --------------------------------------------------------------------------- records
def span(
    span_id: str,
    kind: str,
    name: str,
    *,
    parent_id: str | None = None,
    start: Any = None,
    end: Any = None,
    status: str = "ok",
    error: Any = None,
    attributes: dict[str, Any] | None = None,
    source: Any = None,
) -> dict[str, Any]:
    """A complete native ``span`` record (times normalised, empty fields left out)."""
    rec = _span_common("span", span_id, kind, name, parent_id, start, attributes, source)
    rec["status"] = "error" if error else status
    if error:
        rec["error"] = error
    end_time = to_time(end)
    if end_time is not None:
        rec["end_time"] = end_time
    return rec


def span_start(
    span_id: str,
    kind: str,
    name: str,
    *,
    parent_id: str | None = None,
    start: Any = None,
    attributes: dict[str, Any] | None = None,
    source: Any = None,
) -> dict[str, Any]:
    """A native ``span_start`` record: the step shows as *running* until its ``span_end``."""
    return _span_common("span_start", span_id, kind, name, parent_id, start, attributes, source)


def span_end(
    span_id: str,
    *,
    end: Any = None,
    status: str | None = None,
    error: Any = None,
    attributes: dict[str, Any] | None = None,
    source: Any = None,
) -> dict[str, Any]:
    """A native ``span_end`` record; ``source`` adds the foreign record that ended the step."""
    rec: dict[str, Any] = {"type": "span_end", "span_id": span_id}
    end_time = to_time(end)
    if end_time is not None:
        rec["end_time"] = end_time
    if error:
        rec["status"] = "error"
        rec["error"] = error
    elif status is not None:
        rec["status"] = status
    if attributes:
        rec["attributes"] = attributes
    if source is not None:
        rec["source"] = source
    return rec


def _span_common(
    type_: str,
    span_id: str,
    kind: str,
    name: str,
    parent_id: str | None,
    start: Any,
    attributes: dict[str, Any] | None,
    source: Any,
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "type": type_,
        "span_id": span_id,
        "parent_id": parent_id or None,
        "kind": kind,
        "name": name or kind,
    }
    start_time = to_time(start)
    if start_time is not None:
        rec["start_time"] = start_time
    rec["attributes"] = {k: v for k, v in (attributes or {}).items() if v is not None}
    if source is not None:
        rec["source"] = source
    return rec


def run_record(**fields: Any) -> dict[str, Any]:
    """A native ``run`` record with the fields that are known (None values dropped)."""
    rec: dict[str, Any] = {"type": "run", "schema_version": 1}
    for key, value in fields.items():
        if value is None or value == {}:
            continue
        rec[key] = to_time(value) if key == "started_at" else value
    return rec


def problem(message: str) -> dict[str, Any]:
    """A record saying what an importer skipped; the run builder reports it as a problem.

    The builder lists records it cannot use as problems of the run, with a preview that
    carries ``message``; nothing an importer skips is dropped silently.
    """
    log.info("import problem: %s", message)
    return {"type": "problem", "message": message}


# --------------------------------------------------------------------------- values
def maybe_json(value: Any) -> Any:
    """``value`` decoded when it is a string holding a JSON object or array, else unchanged."""
    if isinstance(value, str | bytes):
        text = value.strip()
        if text[:1] in ("{", "[", b"{", b"["):
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError:
                return value
    return value


def json_or_text(value: Any) -> Any:
    """Decode a string holding any JSON value (tool arguments, results); keep other text."""
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def as_text(value: Any) -> str | None:
    """A short human string for any JSON value (``None`` stays ``None``)."""
    if value is None or isinstance(value, str):
        return value
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return str(value)


def opt_int(value: Any) -> int | None:
    """A non-negative integer from an int, float or numeric string; ``None`` otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int | float) and value == value and value >= 0:
        return int(value)
    return None


def opt_float(value: Any) -> float | None:
    """A number from an int, float or numeric string; ``None`` otherwise."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def first(*values: Any) -> Any:
    """The first value that is not ``None`` (or ``None``)."""
    return next((v for v in values if v is not None), None)


def short(text: Any, limit: int = 60) -> str:
    """One line of at most ``limit`` characters, for step names.

    Reads only as many words as the name needs: a 200 MB pasted message is not split whole.
    """
    raw = str(text or "")
    if len(raw) <= 4 * limit + 256:
        line = " ".join(raw.split())
    else:
        words: list[str] = []
        size = -1
        for match in _WORD.finditer(raw):
            words.append(match.group())
            size += len(words[-1]) + 1
            if size > limit:
                break
        line = " ".join(words)
    return line if len(line) <= limit else line[: limit - 1] + "…"


_WORD = re.compile(r"\S+")


# --------------------------------------------------------------------------- times
def to_time(value: Any) -> str | float | None:
    """A native time: ISO 8601 in UTC (naive times are taken as UTC) or epoch seconds.

    Numbers above 1e11 are taken as milliseconds, above 1e14 as microseconds, above 1e17 as
    nanoseconds, so ``timestamp_ms`` and OTLP nanos need no special casing by callers.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return epoch_seconds(value)
    if isinstance(value, str) and value:
        known = _ISO_TIMES.get(value)
        if known is not None:
            return known
        if value.isdigit():
            return epoch_seconds(int(value))
        moment = parse_iso(value)
        if moment is None:
            return None
        iso = iso_of(moment, "micro")
        if moment.tzinfo is not None:  # a naive time's meaning depends on the local zone
            if len(_ISO_TIMES) >= _ISO_TIMES_KEPT:
                _ISO_TIMES.clear()
            _ISO_TIMES[value] = iso
        return iso
    return None


#: Recent ISO times and their normalised form (a record's time is often its step's start and
#: another step's end; transcripts repeat a line's timestamp in several records).
_ISO_TIMES: dict[str, str] = {}
_ISO_TIMES_KEPT = 4096


def epoch_seconds(value: float) -> float:
    """Seconds since the epoch from seconds, milliseconds, microseconds or nanoseconds."""
    for limit, scale in ((1e17, 1e9), (1e14, 1e6), (1e11, 1e3)):
        if abs(value) >= limit:
            return value / scale
    return float(value)


def seconds_of(value: Any) -> float | None:
    """Epoch seconds for any time :func:`to_time` accepts."""
    norm = to_time(value)
    if isinstance(norm, float):
        return norm
    if isinstance(norm, str):
        return epoch_of(norm)
    return None


# --------------------------------------------------------------------------- ids
def otel_id(value: Any) -> str | None:
    """An OTLP trace or span id as lower-case hex; base64 ids (protobuf JSON) are converted."""
    if not isinstance(value, str) or not value:
        return None
    if len(value) in (12, 24) and value.endswith("="):
        try:
            return base64.b64decode(value, validate=True).hex()
        except (binascii.Error, ValueError):
            log.debug("id %r looks like base64 but does not decode", value)
    return value.lower()


# --------------------------------------------------------------------------- usage
def usage_attributes(
    input_tokens: Any = None,
    output_tokens: Any = None,
    cache_read: Any = None,
    cache_write: Any = None,
    *,
    input_includes_cache: bool | None = True,
) -> dict[str, int]:
    """Native usage attributes, with ``input_tokens`` including cache reads and writes.

    ``input_includes_cache`` says whether the provider's input count already includes cached
    tokens (OpenAI, Codex) or not (Anthropic). ``None`` means unknown: the count is taken as
    inclusive unless it is smaller than the cache counts, which proves it is not.
    """
    inp, out = opt_int(input_tokens), opt_int(output_tokens)
    read, write = opt_int(cache_read), opt_int(cache_write)
    cached = (read or 0) + (write or 0)
    if inp is not None and cached:
        if input_includes_cache is False or (input_includes_cache is None and inp < cached):
            inp += cached
    attrs: dict[str, int] = {}
    for key, value in (
        (A_USAGE_INPUT, inp),
        (A_USAGE_OUTPUT, out),
        (A_USAGE_CACHE_READ, read),
        (A_USAGE_CACHE_WRITE, write),
    ):
        if value is not None:
            attrs[key] = value
    return attrs
