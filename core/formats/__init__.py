"""Trace formats: detection and the registry of readers (see :mod:`.base` for the seam)."""

from __future__ import annotations

from trace_tui.core.formats.base import FormatError, Head, RecordMapper, TraceFormat
from trace_tui.core.formats.registry import detect_format, format_by_name, formats, read_head

__all__ = [
    "FORMATS",
    "FormatError",
    "Head",
    "RecordMapper",
    "TraceFormat",
    "detect_format",
    "format_by_name",
    "formats",
    "read_head",
]


def __getattr__(name: str) -> list[TraceFormat]:
    """``FORMATS``: every format in detection order (importers imported on first use)."""
    if name == "FORMATS":
        return formats()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
