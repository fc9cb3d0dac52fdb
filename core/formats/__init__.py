"""Trace formats: detection and the registry of readers (see :mod:`.base` for the seam)."""

from __future__ import annotations

from trace_tui.core.formats.base import FormatError, Head, RecordMapper, TraceFormat
from trace_tui.core.formats.registry import FORMATS, detect_format, format_by_name, read_head

__all__ = [
    "FORMATS",
    "FormatError",
    "Head",
    "RecordMapper",
    "TraceFormat",
    "detect_format",
    "format_by_name",
    "read_head",
]
