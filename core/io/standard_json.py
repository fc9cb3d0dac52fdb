"""Standard JSON out: every JSON file and JSON line trace-tui writes goes through here.

Two promises, for files (branches, converted traces) and for what we print (``show --json``,
``tail --json``, ``diff --json``, ``fork --json``):

* **Standard JSON we can read back.** JSON has no NaN or Infinity. Python's ``json`` writes
  them as bare ``NaN``/``Infinity`` (not JSON: our own reader and every strict parser refuse
  the line) and orjson writes ``null`` (the value is silently lost). Here a non-finite number
  is written as the *string* ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``, the convention of
  the Protocol Buffers JSON mapping (which OTLP JSON follows): still recognisable, readable by
  any JSON parser. A number too large for a double in a trace (``1e999``) is read as infinity,
  so it is written back as ``"Infinity"``.
* **Nothing a terminal obeys.** ``json`` escapes C0 controls itself; here DEL, C1 controls
  (U+0080–U+009F: U+009B acts as CSI in xterm), bidirectional overrides and invisible
  characters, Unicode tag characters (U+E0000–U+E007F, used to hide prompt injections) and the
  line/paragraph separators U+2028/U+2029 are written as ``\\uXXXX`` escapes too, even when
  the rest of the text stays readable UTF-8. The value read back is unchanged.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

import orjson

#: How a non-finite float is written (Protocol Buffers JSON mapping).
NON_FINITE_NAMES = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}

# Characters written as \u escapes even in readable (non-ASCII) output. JSON's structural
# characters are ASCII, so any of these in the output is inside a string and may be escaped.
_UNSAFE = re.compile(
    "[\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code > 0xFFFF:
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def escape_unsafe(text: str) -> str:
    """JSON text with terminal-unsafe characters (inside its strings) as ``\\u`` escapes."""
    return text if text.isascii() and "\x7f" not in text else _UNSAFE.sub(_escape, text)


def non_finite_name(value: float) -> str:
    """``"NaN"``, ``"Infinity"`` or ``"-Infinity"`` for a non-finite float."""
    return NON_FINITE_NAMES[repr(value)] if repr(value) in NON_FINITE_NAMES else repr(value)


def finite(value: Any) -> Any:
    """``value`` with every non-finite float replaced by its name (a copy only where needed)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else non_finite_name(value)
    if isinstance(value, dict):
        items = {k: finite(v) for k, v in value.items()}
        return value if all(items[k] is v for k, v in value.items()) else items
    if isinstance(value, list | tuple):
        converted = [finite(v) for v in value]
        return value if all(a is b for a, b in zip(converted, value, strict=True)) else converted
    return value


def dumps(
    value: Any,
    *,
    indent: int | None = None,
    sort_keys: bool = False,
    ensure_ascii: bool = False,
    default: Callable[[Any], Any] | None = str,
) -> str:
    """``value`` as standard JSON text (see the module docstring); compact when no indent."""
    separators = (",", ": ") if indent is not None else (",", ":")
    text = json.dumps(
        finite(value),
        indent=indent,
        sort_keys=sort_keys,
        ensure_ascii=ensure_ascii,
        separators=separators,
        default=default,
        allow_nan=False,
    )
    return escape_unsafe(text)


def dumps_line(value: Any) -> bytes:
    """One compact JSON line (UTF-8, ``\\n`` at the end) for a JSON-lines file; fast path
    through orjson, which is exact for everything but non-finite floats (checked)."""
    try:
        data = orjson.dumps(value)
    except TypeError:
        data = None
    if data is None or b"null" in data and _has_non_finite(value):
        return (dumps(value) + "\n").encode("utf-8")
    if not data.isascii() or b"\x7f" in data:
        return (escape_unsafe(data.decode("utf-8")) + "\n").encode("utf-8")
    return data + b"\n"


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_non_finite(v) for v in value)
    return False
