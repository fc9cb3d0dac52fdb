"""The seam every trace format plugs into.

A format is detected from the first bytes of a file (at most 64 KiB) and turns the file into
*native records* (see ``docs/trace-format.md``), which
:class:`~trace_tui.core.model.builder.RunBuilder`
turns into the model. JSON-lines formats map one parsed line at a time through a
:class:`RecordMapper`, so they stream, index and tail like native traces; whole-document formats
(one JSON object, a zip) read the document and yield records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from trace_tui.core.errors import BadInput

#: How many leading bytes detection may look at.
HEAD_BYTES = 64 * 1024


class RecordMapper(Protocol):
    """Maps the parsed lines of a JSON-lines format to native records, in order.

    A mapper may keep small state (to join a tool call to its result) and emit records late;
    ``finish`` flushes whatever is still held when the file ends.
    """

    def feed(self, record: dict[str, Any], *, offset: int, line: int) -> Iterable[dict[str, Any]]:
        """Native records produced by one foreign record (often one, sometimes none)."""
        ...

    def finish(self) -> Iterable[dict[str, Any]]:
        """Native records still pending at the end of the input."""
        ...


@dataclass(frozen=True)
class Head:
    """What detection sees: the path, the first bytes and the first parsed JSON line if any."""

    path: Path
    data: bytes
    first_record: Any = None
    first_line_is_json: bool = False


@dataclass(frozen=True)
class TraceFormat:
    """One supported format: how to recognise it and how to read it.

    Exactly one of ``mapper`` (JSON-lines formats: a factory of per-file mappers) and
    ``read_document`` (whole-document formats) is set.
    """

    name: str
    title: str
    detect: Callable[[Head], bool]
    mapper: Callable[[], RecordMapper] | None = None
    read_document: Callable[[Path], Iterator[dict[str, Any]]] | None = None

    @property
    def line_oriented(self) -> bool:
        """True when the format is JSON lines and can be tailed live."""
        return self.mapper is not None


class FormatError(BadInput):
    """The file is not of a shape any format reads (message says what was seen)."""
