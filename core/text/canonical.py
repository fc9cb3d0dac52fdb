"""Canonical JSON: the one text form used wherever two values are compared or hashed.

Diff (step signatures, payload list alignment) and replay (fixture keys, request hashes,
branch ids, "is this edit a change") all call :func:`canonical_json`, so a value that counts
as unchanged in one counts as unchanged in the other. The form: keys sorted, no spaces, UTF-8
text (no ``\\uXXXX`` for non-ASCII), and numbers by value: a float with an integral value is
written as the integer (``0.0`` → ``0``, ``1e20`` → ``100000000000000000000``), so ``0`` and
``0.0`` are the same JSON number, as they are to any JSON reader. Booleans stay booleans
(``true`` is not ``1``). Anything JSON cannot hold is written with ``repr`` rather than failing.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson

_ENCODE = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr
).encode


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value`` (sorted keys, compact, numbers by value).

    Without floats, orjson writes exactly what the standard library would (same escapes,
    UTF-8 kept), only faster; floats, integers beyond 64 bits, non-string keys and anything
    else orjson refuses take the standard library's path.
    """
    if not _has_float(value):
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode("utf-8")
        except TypeError:
            pass
    try:
        return _ENCODE(by_value(value))
    except TypeError:  # keys of mixed types cannot be sorted: sort them by their text
        return _ENCODE(_string_keys(by_value(value)))


def _has_float(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is float:
            return True
        if kind is dict:
            stack.extend(item.values())
        elif kind is list or kind is tuple:
            stack.extend(item)
    return False


def by_value(value: Any) -> Any:
    """A copy of ``value`` with every integral float turned into the int it equals."""
    kind = type(value)
    if kind is float:
        return int(value) if math.isfinite(value) and value.is_integer() else value
    if kind is dict:
        return {k: by_value(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [by_value(v) for v in value]
    return value


def _string_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _string_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_string_keys(v) for v in value]
    return value
