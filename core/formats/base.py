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
    ``finish`` flushes whatever is still held when the file ends. A mapper whose later lines
    refer to any earlier line may also define ``use_reader(read)``: the indexer then gives it
    ``read(offset)``, the trace line at ``offset`` parsed exactly as it was fed (or ``None``),
    so the mapper may keep old lines by reference instead of parsed.
    """

    def feed(self, record: dict[str, Any], *, offset: int, line: int) -> Iterable[dict[str, Any]]:
        """Native records produced by one foreign record (often one, sometimes none)."""
        ...

    def finish(self) -> Iterable[dict[str, Any]]:
        """Native records still pending at the end of the input."""
        ...


@dataclass(slots=True)
class LightSteps:
    """The index facts of the steps some foreign lines make, read without mapping them.

    One entry per step, in the order the mapper would emit them; ``offsets``/``lengths``/
    ``lines`` locate the source line each step comes from (several steps may share a line).
    Values are as the builder would hold them after mapping: kind and status names, epoch
    seconds (``None``: not recorded), token counts in native order (input, output, cache
    read, cache write; ``None``: not recorded).
    """

    n_lines: int
    offsets: list[int]
    lengths: list[int]
    lines: list[int]
    span_ids: list[str]
    parent_ids: list[str | None]
    kinds: list[str]
    names: list[str]
    statuses: list[str]
    errors: list[bool]
    start: list[float | None]
    end: list[float | None]
    tokens: tuple[list[int | None], list[int | None], list[int | None], list[int | None]]
    #: ``span_end`` records some of these lines make for steps of earlier lines (a tool call's
    #: result in a later request), or ``None``.
    ends: LightEnds | None = None


@dataclass(slots=True)
class LightEnds:
    """The ``span_end`` records some foreign lines make, in file order, with their facts.

    Each closes a distinct step that is still running (started on an earlier line, or earlier
    in the same lines); the index spills ``records`` as the mapper's path would, so the step
    reads them back like any spilled ``span_end``. ``end`` is epoch seconds (``None``: not
    recorded); ``statuses`` the record's status; ``errors`` whether it carries an error. A
    record may be given already as the spill's JSON line, ``[offset, line, record]`` in bytes
    (the source line copied in undecoded; never with a ``\\u0000`` escape, which a huge
    string's reference starts with).
    """

    span_ids: list[str]
    offsets: list[int]
    lengths: list[int]
    lines: list[int]
    end: list[float | None]
    statuses: list[str]
    errors: list[bool]
    records: list[dict[str, Any] | bytes]


class LightDecoder(Protocol):
    """Reads the index facts of a JSON-lines format without building native records.

    The full :class:`RecordMapper` stays the one definition of what a line means: a light
    decoder only takes lines whose steps the mapper would build from that line alone (no
    state joins them to other lines), and :meth:`remap` builds such a step's native record
    from its line (and line number) when a view shows it. A line may also end steps of earlier
    lines: those ``span_end`` records are built in full and spilled (:class:`LightEnds`).
    Anything else is declined (``None``) and goes through the mapper. A differential test
    checks that both paths give the same index and steps.
    """

    def decode(
        self, data: bytes, offset: int, first_line: int, mapper: RecordMapper
    ) -> LightSteps | None:
        """Steps of complete lines ``data`` (ending in a newline) found at ``offset``, or
        ``None`` to decline them. Must not change ``mapper``: see :meth:`accept`."""
        ...

    def accept(self, steps: LightSteps, mapper: RecordMapper) -> None:
        """``steps`` were indexed: bring ``mapper``'s state to what mapping them would leave."""
        ...

    def remap(self, value: Any, position: int, line: int) -> dict[str, Any] | None:
        """The native record of the ``position``-th step (0-based) made from the parsed
        source line ``value`` (1-based line number ``line``), exactly as the mapper emitted it
        (``None``: it is not there)."""
        ...

    def invented(self) -> frozenset[str]:
        """Lower-cased text the mapping may write that a line does not hold (the importer's
        own keys and words), so a byte search knows when to check every step."""
        ...

    def shown(self, value: Any, position: int, holds: Callable[[str], bool]) -> bool:
        """Does the ``position``-th step made from the parsed line ``value``, as :meth:`remap`
        maps it, certainly have among its payload's strings (attribute keys and string
        values) one that ``holds`` (search: "holds the word, folded")? ``False`` when not
        sure: search then maps the step to know, so ``True`` must never be wrong (a test
        checks it against the mapping)."""
        ...


#: ``read(offset)``: the parsed source line at ``offset`` (as the indexer decoded it), or
#: ``None`` when it no longer reads as JSON.
ReadLine = Callable[[int], Any]

#: How far a line's text reaches (:attr:`Replayable.carried`): only into steps whose lines it
#: lies among (from a step's first line to the line of its last ``span_end``); also into the
#: later steps of the context kinds until the mapper's ``epoch`` changes; or into every later
#: step of those kinds.
CARRY_NONE = 0
CARRY_EPOCH = 1
CARRY_ALWAYS = 2


class FactsMapper(RecordMapper, Protocol):
    """A stateful format's mapper in *facts mode* (``docs/stateful-formats.md``).

    The same state machine as the full mapper (one definition: a constructor flag), but the
    records it emits carry only what the index keeps (ids, parent, kind, name, times, status,
    error, token usage), and heavy state (a conversation) is kept as line offsets.
    """

    #: Bumped whenever the context carried into later steps starts over (a compaction).
    epoch: int

    def checkpoint(self) -> Any:
        """The state between two lines, compact (no message objects), for
        :attr:`Replayable.restore`; ``None`` when there is no cheap copy right now (the
        indexer asks again at a later line)."""
        ...

    def open_steps(self) -> list[str]:
        """Span ids of the steps a later line may still add records to."""
        ...


@dataclass(frozen=True)
class Replayable:
    """How a stateful JSON-lines format is indexed from facts and its steps rebuilt by replay.

    The indexer feeds every line to a ``facts()`` mapper and keeps the facts of its records in
    the columns (origin ``ORIGIN_REPLAY``: nothing is spilled), with a checkpoint every few
    lines. A view that shows such a step gets a full mapper from the nearest checkpoint at or
    before the step's first line (``restore(state, read)``), feeds it the lines up to the
    step's last ``span_end`` and takes that step's records
    (:mod:`trace_tui.core.index.replay_steps`).
    """

    facts: Callable[[], FactsMapper]
    #: A full mapper in the state a checkpoint copied (``None``: the file's start).
    restore: Callable[[Any, ReadLine], RecordMapper]
    #: ``carried(value)``: how far a parsed line's text reaches (``CARRY_*``), for search.
    carried: Callable[[Any], int]
    #: Step kinds that take context from earlier lines (``CARRY_EPOCH``/``CARRY_ALWAYS``).
    context_kinds: frozenset[str]
    #: Lower-cased text the mapping may write that no line holds (see LightDecoder).
    invented: Callable[[], frozenset[str]]


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
    #: JSON-lines formats only, optional: a faster way to index lines (see LightDecoder).
    light: Callable[[], LightDecoder] | None = None
    #: JSON-lines formats only, optional: index a stateful format from facts, replay on view.
    replay: Replayable | None = None
    read_document: Callable[[Path], Iterator[dict[str, Any]]] | None = None

    @property
    def line_oriented(self) -> bool:
        """True when the format is JSON lines and can be tailed live."""
        return self.mapper is not None


class FormatError(BadInput):
    """The file is not of a shape any format reads (message says what was seen)."""
