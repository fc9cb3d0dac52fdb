"""Read whole JSON documents leniently: a cut or corrupted file yields what came before the cut.

Whole-document formats (Inspect logs, SWE-agent trajectories, Langfuse exports ...) are one
JSON value. A file cut mid-write (a crashed run, a partial download) is not valid JSON, but
everything before the cut is. :func:`repair_truncated` closes the open brackets after the
last complete element, so the importer can read the events that were written, and the caller
reports what was lost.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import orjson

from trace_tui.core.formats.base import FormatError
from trace_tui.core.io.jsonl import BOM

log = logging.getLogger(__name__)

_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\],]')
_CLOSE = {b"{": b"}", b"[": b"]"}


def load_document(path: Path, *, many: bool = False) -> tuple[Any, str | None]:
    """The JSON value in ``path`` and a note when it had to be repaired.

    With ``many``, the result is a list of the concatenated top-level values (as written by
    dumps that append one pretty-printed object after another). Raises :class:`FormatError`
    when nothing can be read.
    """
    data = path.read_bytes()
    return parse_document(data, many=many)


def parse_document(data: bytes, *, many: bool = False) -> tuple[Any, str | None]:
    """:func:`load_document` on bytes already read."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        value = orjson.loads(data)
        return ([value] if many else value), None
    except orjson.JSONDecodeError as exc:
        error_pos = getattr(exc, "pos", len(data))
        if many:
            return _many(data)
        return _repaired(data, error_pos)


def _repaired(data: bytes, error_pos: int) -> tuple[Any, str]:
    value, cut = repair_truncated(data[: max(error_pos, 0)] if error_pos < len(data) else data)
    if value is None:
        raise FormatError(
            f"not valid JSON (error at byte {error_pos}) and nothing before it could be read"
        )
    lost = len(data) - cut
    note = (
        f"the document is cut or corrupt at byte {error_pos} of {len(data)}: "
        f"imported what came before it ({lost} bytes skipped)"
    )
    log.info(note)
    return value, note


def _many(data: bytes) -> tuple[list[Any], str | None]:
    text = data.decode("utf-8", errors="replace")
    decoder = json.JSONDecoder()
    values: list[Any] = []
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return values, None
        try:
            value, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError as exc:
            rest = text[index:].encode()
            try:
                value, note = _repaired(rest, len(text[index : exc.pos].encode()))
            except FormatError:
                if values:
                    return (
                        values,
                        f"value {len(values) + 1} of the document is not valid JSON; "
                        "skipped the rest",
                    )
                raise
            values.append(value)
            return values, f"value {len(values)}: {note}"
        values.append(value)


def repair_truncated(data: bytes) -> tuple[Any, int]:
    """Parse the longest prefix of ``data`` that can be closed into valid JSON.

    Returns the value and the byte offset where the kept prefix ends, or ``(None, 0)``.
    Safe cut points are just before a comma and just after a closing bracket: everything
    before them is complete, and appending the closers of the open containers makes it valid.
    """
    stack: list[bytes] = []
    points: list[tuple[int, bytes]] = []
    last_end = 0
    for match in _TOKEN.finditer(data):
        token, pos = match.group(), match.start()
        if b'"' in data[last_end:pos]:
            break  # a string opened there and never closed: everything after it is inside it
        last_end = match.end()
        if token in (b"{", b"["):
            stack.append(token)
            points.append((pos + 1, _closers(stack)))
        elif token in (b"}", b"]"):
            if not stack:
                break
            stack.pop()
            points.append((pos + 1, _closers(stack)))
            if not stack:
                break
        elif token == b"," and stack:
            points.append((pos, _closers(stack)))
        del points[:-16]
    # The last points may sit inside a string the cut left open: try a few earlier ones too.
    for cut, closers in reversed(points):
        try:
            return orjson.loads(data[:cut] + closers), cut
        except orjson.JSONDecodeError as exc:
            log.debug("repair at byte %d failed: %s", cut, exc)
    return None, 0


def _closers(stack: list[bytes]) -> bytes:
    return b"".join(_CLOSE[b] for b in reversed(stack))
