"""The native trace-tui JSON-lines format (``docs/trace-format.md``): records pass through."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trace_tui.core.formats.base import Head, TraceFormat
from trace_tui.core.model.builder import RECORD_TYPES


class NativeMapper:
    """Native records are already in the model's shape: pass them on unchanged."""

    def feed(self, record: dict[str, Any], *, offset: int, line: int) -> Iterable[dict[str, Any]]:
        """One native record in, the same record out."""
        return (record,)

    def finish(self) -> Iterable[dict[str, Any]]:
        """Nothing is ever held back."""
        return ()


def detect_native(head: Head) -> bool:
    """A JSON-lines file whose first record has a native ``type``."""
    rec = head.first_record
    return (
        isinstance(rec, dict)
        and rec.get("type") in RECORD_TYPES
        and ("span_id" in rec or rec.get("type") in ("run", "branch"))
    )


NATIVE = TraceFormat(
    name="native",
    title="trace-tui native JSON lines (docs/trace-format.md)",
    detect=detect_native,
    mapper=NativeMapper,
)
