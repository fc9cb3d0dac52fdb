"""A few payload fields read without building the step: a tool call's name and arguments, a
model call's system prompt.

Policy rules (:mod:`trace_tui.core.policy`) judge every tool call by its tool's name, which
lives in the record's attributes, not in the index's columns (a step's label may be anything,
e.g. ``"tool call"``). Building the whole :class:`~trace_tui.core.model.run.Step` for each of
half a million calls costs more than indexing the file did, so :func:`read_attributes`
re-reads the step's record(s) and decodes only the named top-level attributes with msgspec
(everything else is skipped at C speed). Only the record's own ``attributes`` object counts:
the same key nested inside arguments or results is not the tool's name. A ``span_end``
record's attributes win over the ``span_start``'s, as when the step is built.
"""

from __future__ import annotations

from typing import Any

import orjson

from trace_tui.core.index.blobs import REF_PREFIX_JSON, BlobReader, resolve_blobs
from trace_tui.core.index.columns import ORIGIN_REPLAY, ORIGIN_SOURCE_LINE, StepColumns
from trace_tui.core.index.store import MESSAGES_KEY, RecordFiles, read_line_at

try:
    import msgspec
except ImportError:  # optional speed-up, as for the index's fast path
    msgspec = None  # type: ignore[assignment]

_DECODERS: dict[tuple[tuple[str, ...], bool], Any] = {}


def _decoder(names: tuple[str, ...], spilled: bool) -> Any:
    """A msgspec decoder of ``{"attributes": {name: ...}}`` for just these names (cached)."""
    key = (names, spilled)
    found = _DECODERS.get(key)
    if found is None:
        fields = [(f"f{n}", Any, msgspec.field(default=msgspec.UNSET, name=name))
                  for n, name in enumerate(names)]  # fmt: skip
        attrs = msgspec.defstruct("LightAttrs", fields, gc=False)
        record = msgspec.defstruct("LightRecord", [("attributes", attrs | None, None)], gc=False)
        target: Any = tuple[Any, Any, record] if spilled else record  # type: ignore[valid-type]
        found = _DECODERS[key] = msgspec.json.Decoder(target).decode
    return found


def _fields_in(data: bytes, spilled: bool, names: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes present in one record (absent ones left out)."""
    if msgspec is None:
        value = orjson.loads(data)
        record = value[2] if spilled and isinstance(value, list) and len(value) == 3 else value
        attrs = record.get("attributes") if isinstance(record, dict) else None
        return {n: attrs[n] for n in names if n in attrs} if isinstance(attrs, dict) else {}
    decoded: Any = _decoder(names, spilled)(data)
    attrs = (decoded[2] if spilled else decoded).attributes
    if attrs is None:
        return {}
    out: dict[str, Any] = {}
    for n, name in enumerate(names):
        value = getattr(attrs, f"f{n}")
        if value is not msgspec.UNSET:
            out[name] = value
    return out


def read_attributes(
    cols: StepColumns, index: int, files: RecordFiles, names: tuple[str, ...]
) -> dict[str, Any]:
    """The attributes ``names`` of step ``index`` as the built step would have them (a name
    the records lack is left out; an unreadable record counts as having none)."""
    out: dict[str, Any] = {}
    if cols.origin[index] == ORIGIN_REPLAY:  # a stateful format's step: replayed
        for _, _, record in files.step_records(cols, index) or ():
            attrs = record.get("attributes")
            if isinstance(attrs, dict):
                out.update((n, attrs[n]) for n in names if n in attrs)
        return out
    spilled = files.spill_fd is not None
    fd = files.spill_fd if spilled else files.trace_fd
    offsets: list[tuple[int, int | None]] = [(cols.offset[index], cols.length[index])]
    if cols.origin[index] == ORIGIN_SOURCE_LINE:  # a foreign line: map it again
        offsets = []
        start = files.start_record(cols, index)
        attrs = start[2].get("attributes") if start is not None else None
        if isinstance(attrs, dict):
            out.update((n, attrs[n]) for n in names if n in attrs)
    elif spilled and MESSAGES_KEY in names:  # maybe chained to an earlier call's messages
        offsets = []
        start = files.record(cols.offset[index], cols.length[index], None)
        attrs = start[2].get("attributes") if start is not None else None
        if isinstance(attrs, dict):
            out.update((n, attrs[n]) for n in names if n in attrs)
    offsets += [(end, None) for end in cols.end_offsets(index)]
    for offset, length in offsets:
        if fd is None:
            break
        try:
            data = read_line_at(fd, offset, length)
            fields = _fields_in(data, spilled, names)
            if spilled and REF_PREFIX_JSON in data:  # a huge string held apart in the spill
                fields = resolve_blobs(fields, BlobReader(fd))
            out.update(fields)
        except (OSError, ValueError, TypeError, IndexError, KeyError, AttributeError):
            continue
        except Exception as exc:  # msgspec's DecodeError/ValidationError
            if msgspec is not None and isinstance(exc, msgspec.MsgspecError):
                continue
            raise
    return out
