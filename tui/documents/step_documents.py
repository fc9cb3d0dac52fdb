"""Inspector documents for one step: the payload as foldable JSON, and the raw record.

The payload document shows the step as its native span record (``span_id``, ``kind``,
``status``, ``attributes`` ...), so the JSON pointer of every line is the pointer a fork edit
uses (``/attributes/gen_ai.tool.call.result/discount_pct``). The raw document shows the
original line from the file (or the foreign record an importer built the step from),
highlighted up to a cap and wrapped to the view's width.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from jsonpointer import JsonPointerException, escape, resolve_pointer
from rich.cells import cell_len, chop_cells

from trace_tui.core.io.raw_record import RawRecord
from trace_tui.core.model.run import A_TOOL_DEFINITIONS, Step
from trace_tui.core.model.times import iso_utc
from trace_tui.tui.display.highlight import lex_json
from trace_tui.tui.display.safe_text import display_str, display_value, redact_text
from trace_tui.tui.documents.json_lines import MAX_DEPTH, STRING_PREVIEW, FoldState, flatten_json
from trace_tui.tui.documents.lines import DocLine, Piece, line

#: Containers folded until the user opens them (they are long and rarely the question).
DEFAULT_FOLDED = frozenset({f"/attributes/{A_TOOL_DEFINITIONS}"})
_CHUNK = 100_000
#: The Raw view lexes and wraps this many characters of a record at first; each "show more"
#: adds :data:`RAW_STEP` (a 7 MB line is never lexed whole while the user steps past it).
RAW_PREVIEW = 64_000
RAW_STEP = 64_000
RAW_ANCHOR = "raw"
_REDACT_MARGIN = 16_384
#: Strings longer than this are cut (with a margin) before they are masked and shown.
CUT_OVER = 1_000_000


def _iso(value: float | None) -> str | None:
    return None if value is None else iso_utc(value, "milli")


def step_record(step: Step) -> dict[str, Any]:
    """The step as a native span record (original values; display code sanitises)."""
    return {
        "span_id": step.span_id,
        "parent_id": step.parent_id,
        "kind": step.kind,
        "name": step.name,
        "status": step.status,
        "error": step.error,
        "start_time": _iso(step.start_time),
        "end_time": _iso(step.end_time),
        "attributes": step.attributes,
    }


def payload_document(
    step: Step, state: FoldState, width: int, revealed: Mapping[str, Any] | None = None
) -> list[DocLine]:
    """The step's record as foldable JSON lines, secrets masked except at ``revealed``.

    A string far longer than the view shows of it (a 200 MB pasted file) is masked and
    sanitised only as far as it is shown, plus a margin; its length still counts whole."""
    dropped: dict[str, int] = {}

    def shown(pointer: str) -> int:
        return max(STRING_PREVIEW, state.expanded.get(pointer, 0)) + _REDACT_MARGIN

    record = cut_long_strings(step_record(step), shown, dropped)
    return flatten_json(display_value(record, revealed), state, width=width, dropped=dropped)


def cut_long_strings(value: Any, limit: Callable[[str], int], dropped: dict[str, int],
                     path: tuple[str, ...] = ()) -> Any:
    """A copy of ``value`` whose strings over :data:`CUT_OVER` characters are cut to
    ``limit(pointer)``; ``dropped`` gets how many characters each lost, by pointer."""
    if isinstance(value, str):
        if len(value) > CUT_OVER:
            pointer = "".join(f"/{escape(part)}" for part in path)
            keep = limit(pointer)
            if len(value) > keep:
                dropped[pointer] = len(value) - keep
                return value[:keep]
        return value
    if len(path) > MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {k: cut_long_strings(v, limit, dropped, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [cut_long_strings(v, limit, dropped, (*path, str(n)))
                for n, v in enumerate(value)]
    return value


def value_at(step: Step, pointer: str) -> Any:
    """The original value at ``pointer`` in the step's record (KeyError if there is none)."""
    try:
        return resolve_pointer(step_record(step), pointer)
    except JsonPointerException as exc:
        raise KeyError(pointer) from exc


def shown_value_at(step: Step, pointer: str, revealed: Mapping[str, Any] | None = None) -> Any:
    """The value at ``pointer`` as the payload view shows it: masked unless revealed."""
    try:
        return resolve_pointer(display_value(step_record(step), revealed), pointer)
    except JsonPointerException as exc:
        raise KeyError(pointer) from exc


def copy_text(value: Any) -> str:
    """What "copy value" puts on the clipboard: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def raw_document(step: Step, record: RawRecord | None, width: int,
                 error: str | None = None, expanded: Mapping[str, int] | None = None,
                 ) -> list[DocLine]:
    """The step's original record: a header line, then the text highlighted and wrapped.

    Only the first :data:`RAW_PREVIEW` characters (plus what the user asked for with the
    "show more" line, ``expanded[RAW_ANCHOR]``) are lexed and wrapped: building the view costs
    the same for a 7 MB line as for a short one.
    """
    limit = RAW_PREVIEW + (expanded or {}).get(RAW_ANCHOR, 0)
    unseen = 0  # characters of strings cut before the record was dumped
    if step.source is not None:
        header = "original record (imported; shown as JSON)"
        dropped: dict[str, int] = {}
        # a 200 MB string is dumped only as far as it can be shown
        source = cut_long_strings(step.source, lambda _: limit + _REDACT_MARGIN, dropped)
        text = json.dumps(source, ensure_ascii=False, indent=2, default=str)
        unseen = sum(dropped.values())
        cut = False
    elif record is not None:
        header = f"line {step.line or '?'} · byte offset {record.offset:,} · as in the file"
        text, cut = record.text, record.cut
    else:
        return [line((display_str(error or "the original record is not available",
                                  one_line=True), "note"))]
    rest = max(0, len(text) - limit) + unseen
    # mask before cutting (half a key is no longer recognisable), on a bounded window
    text = redact_text(text[: limit + _REDACT_MARGIN])[:limit]
    safe = "".join(
        display_str(text[i : i + _CHUNK], redact=False) for i in range(0, len(text), _CHUNK)
    )
    out = [line((header, "note"))]
    out.extend(line(*pieces) for pieces in wrap_pieces(lex_json(safe), max(20, width)))
    if rest:
        more = min(rest, RAW_STEP)
        out.append(line((f"… {rest:,} more characters: ⏎ shows {more:,} more", "note"),
                        anchor=RAW_ANCHOR, action="expand"))
    if cut:
        out.append(line(("… the line goes on; the rest was not read (copy it from the file)",
                         "note")))
    return out


def _head_fitting(part: str, room: int) -> str:
    """The longest head of ``part`` that fits ``room`` cells. Zero-width characters (a
    "zalgo" run of combining marks) may fill any prefix, so the window grows until it holds
    more than ``room`` cells or the whole part."""
    size = room + 64
    window = part[:size]
    while cell_len(window) <= room and size < len(part):
        size *= 4
        window = part[:size]
    pieces = chop_cells(window, room)
    return pieces[0] if pieces else ""


def wrap_pieces(pieces: list[Piece], width: int) -> list[tuple[Piece, ...]]:
    """Split styled pieces into lines at newlines and every ``width`` cells."""
    lines: list[tuple[Piece, ...]] = []
    current: list[Piece] = []
    used = 0
    for text, role in pieces:
        parts = text.split("\n")
        for n, part in enumerate(parts):
            if n:
                lines.append(tuple(current))
                current, used = [], 0
            while part:
                room = width - used
                # the head that fits, measured on a bounded window (measuring the whole rest
                # of a 64,000-character string for every line made wrapping quadratic)
                head = _head_fitting(part, room) if room > 0 else ""
                if len(head) == len(part) or (room <= 0 and cell_len(part) <= room):
                    current.append((part, role))
                    used += cell_len(part)
                    break
                if not head and not current:  # wider than a whole line: it goes alone
                    head = part[0]
                if head:
                    current.append((head, role))
                lines.append(tuple(current))
                current, used = [], 0
                part = part[len(head):]
    if current:
        lines.append(tuple(current))
    return lines
