"""Which formats exist, in which order they are tried, and detection from a file's head.

Detection order (documented in the README): the first format in :data:`FORMATS` whose
``detect`` accepts the head wins. More specific formats come first; native comes first of all.
The importers are imported when a file is not native (or the list is asked for).
"""

from __future__ import annotations

from pathlib import Path

import orjson

from trace_tui.core.formats.base import HEAD_BYTES, FormatError, Head, TraceFormat
from trace_tui.core.formats.native import NATIVE
from trace_tui.core.io.jsonl import BOM

_FORMATS: list[TraceFormat] = []


def formats() -> list[TraceFormat]:
    """Every supported format, in detection order: native first; then the zip; then JSON-lines
    formats, recognised by their first record; then whole JSON documents, recognised by the
    key paths in their first 64 KiB (see :mod:`.sniff`). Also :data:`FORMATS`.

    The importers are imported on the first call: opening a native trace needs none of them
    (the first screen imports only what it needs).
    """
    if not _FORMATS:
        from trace_tui.core.formats.importers.api_exchanges import API_EXCHANGES
        from trace_tui.core.formats.importers.assay import ASSAY
        from trace_tui.core.formats.importers.claude_code import CLAUDE_CODE
        from trace_tui.core.formats.importers.codex import CODEX
        from trace_tui.core.formats.importers.inspect_ai import INSPECT_EVAL, INSPECT_JSON
        from trace_tui.core.formats.importers.langfuse import LANGFUSE
        from trace_tui.core.formats.importers.langsmith import LANGSMITH, LANGSMITH_JSONL
        from trace_tui.core.formats.importers.mcp import MCP_INSPECTOR, MCP_JSONL
        from trace_tui.core.formats.importers.openhands import OPENHANDS
        from trace_tui.core.formats.importers.otlp import OTLP_JSON, OTLP_JSONL
        from trace_tui.core.formats.importers.swe_agent import SWE_AGENT

        _FORMATS[:] = [
            NATIVE,
            INSPECT_EVAL,
            OTLP_JSONL,
            CLAUDE_CODE,
            CODEX,
            API_EXCHANGES,
            ASSAY,
            MCP_JSONL,
            LANGSMITH_JSONL,
            OTLP_JSON,
            INSPECT_JSON,
            SWE_AGENT,
            LANGFUSE,
            LANGSMITH,
            OPENHANDS,
            MCP_INSPECTOR,
        ]
    return _FORMATS


def __getattr__(name: str) -> list[TraceFormat]:
    """``FORMATS``: :func:`formats`, imported on first use."""
    if name == "FORMATS":
        return formats()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def format_by_name(name: str) -> TraceFormat:
    """The format called ``name`` (for ``--format``); raises :class:`FormatError`."""
    if name == NATIVE.name:
        return NATIVE
    for fmt in formats():
        if fmt.name == name:
            return fmt
    known = ", ".join(f.name for f in formats())
    raise FormatError(f"unknown format {name!r}; supported: {known}")


def read_head(path: Path) -> Head:
    """The first bytes of ``path`` and its first non-blank line parsed as JSON, if it parses."""
    with open(path, "rb") as fh:
        return head_of(path, fh.read(HEAD_BYTES))


def head_of(path: Path, data: bytes) -> Head:
    """What detection sees of a file whose first bytes are ``data``."""
    body = data[len(BOM) :] if data.startswith(BOM) else data
    for line in body.split(b"\n"):
        if line.strip():
            try:
                return Head(path, data, orjson.loads(line), True)
            except orjson.JSONDecodeError:
                break
    return Head(path, data)


def detect_format(path: Path) -> TraceFormat:
    """The format of the file at ``path``; :class:`FormatError` says what was seen otherwise."""
    return detect_head(read_head(path))


def detect_head(head: Head) -> TraceFormat:
    """The first format in :data:`FORMATS` that accepts ``head`` (the one detection rule).

    :class:`FormatError` says what was seen when none does (or a format recognised the file
    and says why it cannot be read).
    """
    if NATIVE.detect(head):  # native comes first: no importer is needed for it
        return NATIVE
    for fmt in formats():
        if fmt is not NATIVE and fmt.detect(head):
            return fmt
    raise FormatError(describe_unknown(head))


def describe_unknown(head: Head) -> str:
    """One line saying what the file looked like, for the "unknown format" message."""
    if not head.data.strip():
        return "the file is empty"
    prefix = "not a known trace format (see 'trace-tui formats'): "
    rec = head.first_record
    if isinstance(rec, dict):
        return prefix + f"JSON lines whose first record has keys: {_keys(rec)}"
    if head.data.startswith(b"PK\x03\x04"):
        return prefix + "a zip archive without the members of an Inspect AI .eval log"
    from trace_tui.core.formats.shared.sniff import doc_shape

    shape = doc_shape(head.data)
    if shape.container == "object":
        return prefix + f"a JSON object with top-level keys: {_keys(shape.top_keys())}"
    if shape.container == "array":
        keys = shape.top_keys()
        return prefix + (
            f"a JSON array whose first item has keys: {_keys(keys)}" if keys else "a JSON array"
        )
    if head.first_line_is_json:
        return prefix + f"the first line is a JSON {type(rec).__name__}, not an object"
    if b"\x00" in head.data[:1024]:
        return prefix + "binary data, not JSON"
    return prefix + "the first line is not JSON"


def _keys(keys: object) -> str:
    names = sorted(map(str, keys))  # type: ignore[call-overload]
    shown = ", ".join(names[:12]) or "(none)"
    return shown + (f" (+{len(names) - 12} more)" if len(names) > 12 else "")
