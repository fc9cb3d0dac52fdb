"""Which formats exist, in which order they are tried, and detection from a file's head.

Detection order (documented in the README): the first format in :data:`FORMATS` whose
``detect`` accepts the head wins. More specific formats come first; native comes first of all.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from trace_tui.core.formats.base import HEAD_BYTES, FormatError, Head, TraceFormat
from trace_tui.core.formats.native import NATIVE
from trace_tui.core.jsonl import BOM

#: Every supported format, in detection order.
FORMATS: list[TraceFormat] = [NATIVE]


def format_by_name(name: str) -> TraceFormat:
    """The format called ``name`` (for ``--format``); raises :class:`FormatError`."""
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    known = ", ".join(f.name for f in FORMATS)
    raise FormatError(f"unknown format {name!r}; supported: {known}")


def read_head(path: Path) -> Head:
    """The first bytes of ``path`` and its first non-blank line parsed as JSON, if it parses."""
    with open(path, "rb") as fh:
        data = fh.read(HEAD_BYTES)
    body = data[len(BOM):] if data.startswith(BOM) else data
    for line in body.split(b"\n"):
        if line.strip():
            try:
                return Head(path, data, orjson.loads(line), True)
            except orjson.JSONDecodeError:
                break
    return Head(path, data)


def detect_format(path: Path) -> TraceFormat:
    """The format of the file at ``path``; :class:`FormatError` says what was seen otherwise."""
    head = read_head(path)
    for fmt in FORMATS:
        if fmt.detect(head):
            return fmt
    raise FormatError(describe_unknown(head))


def describe_unknown(head: Head) -> str:
    """One line saying what the file looked like, for the "unknown format" message."""
    if not head.data.strip():
        return "the file is empty"
    rec = head.first_record
    if isinstance(rec, dict):
        keys = ", ".join(sorted(map(str, rec))[:12]) or "(none)"
        return f"not a known trace format: JSON lines whose first record has keys: {keys}"
    if head.first_line_is_json:
        return f"not a known trace format: the first line is a JSON {type(rec).__name__}, not an object"
    if head.data.lstrip(BOM).lstrip()[:1] in (b"{", b"["):
        return "not a known trace format: a JSON document that no reader recognises"
    return "not a known trace format: the first line is not JSON"
