"""Deciding the byte scan's candidates: what the per-step scan decides, cheaper where it can be.

A candidate is decided as :func:`~trace_tui.core.navigation.step_query.iter_matches` decides it
(its row, then the step built from its records), except a step indexed from a foreign source
line (:data:`~trace_tui.core.index.columns.ORIGIN_SOURCE_LINE`) that has no ``span_end``: its
line is read and decoded once for every candidate of that line; when the light decoder can
tell from the parsed line that the step keeps, unchanged, a string holding each word the query
needs in the payload (:meth:`~trace_tui.core.formats.base.LightDecoder.shown`), the step
matches without being mapped; else the decoder maps it again (``remap``, as
:class:`~trace_tui.core.index.store.StepLoader` would), and the record is read by the builder's
rules (:func:`~trace_tui.core.index.record_facts.start_facts`) and matched without building a
:class:`~trace_tui.core.model.run.Step`
(:meth:`~trace_tui.core.navigation.step_query.StepQuery.matches_facts`). Anything unusual (a
record that breaks the builder's rules, a kind that is not the index's, a huge line, the
file's first line) takes the per-step path. A test checks both ways agree on every sample.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

from trace_tui.core.index.columns import ORIGIN_SOURCE_LINE
from trace_tui.core.index.foreign import position_in_line
from trace_tui.core.index.record_facts import start_facts
from trace_tui.core.index.run_view import IndexedRun
from trace_tui.core.index.store import BIG_STRING_BYTES as BIG
from trace_tui.core.index.store import read_line_at
from trace_tui.core.io.jsonl import decode_bytes
from trace_tui.core.model.run import STEP_KINDS
from trace_tui.core.navigation.step_query import StepQuery, fold

#: Not parsed yet.
_UNSET: Any = object()


class Confirmer:
    """Decides candidate steps of ``run`` for ``query`` (see the module doc)."""

    def __init__(self, run: IndexedRun, query: StepQuery) -> None:
        self.run = run
        self.query = query

    def matching(self, indices: Iterable[int], cancelled: Callable[[], bool] = lambda: False,
                 *, first: bool = False) -> list[int]:
        """The steps among ``indices`` that match, in their order (only the first one with
        ``first``); stops early when cancelled."""
        run, query = self.run, self.query
        with run._lock:
            cols, fd, remap, shown = run._cols, run._fd, run._remap, run._shown
        lines: dict[int, list[Any]] = {}  # the last line: its bytes and parsed values
        found: list[int] = []
        for index in indices:
            if cancelled():
                break
            verdict = query.matches_row(cols.row(index))
            if verdict is None:
                if (
                    fd is None
                    or remap is None
                    or cols.origin[index] != ORIGIN_SOURCE_LINE
                    or cols.end_offset[index] >= 0
                    or index in cols.extra_ends
                ):
                    verdict = query.matches_step(run.step(index))
                else:
                    verdict = self._light_verdict(cols, index, fd, remap, shown, lines)
            if verdict:
                found.append(index)
                if first:
                    break
        return found

    def _light_verdict(self, cols: Any, index: int, fd: int, remap: Any, shown: Any,
                       lines: dict[int, list[Any]]) -> bool:
        """The verdict on a step mapped from its source line alone (its row needed more)."""
        offset, length, line = cols.offset[index], cols.length[index], cols.line[index]
        entry = lines.get(offset)
        if entry is None:  # the line's bytes, parsed quickly (for shown), parsed exactly
            raw = read_line_at(fd, offset, length) if 0 < offset and length <= BIG else None
            lines.clear()  # candidates come in order: a line's steps one after another
            entry = lines[offset] = [raw, _UNSET, _UNSET]
        raw = entry[0]
        position = position_in_line(cols, index)
        if raw is not None and shown is not None:
            if entry[1] is _UNSET:
                try:
                    entry[1] = orjson.loads(raw)  # only its strings are looked at
                except orjson.JSONDecodeError:
                    entry[1] = None
            if isinstance(entry[1], dict) and self._shown_in(
                entry[1], position, shown, fold(cols.name_of(index)),
                STEP_KINDS[cols.kind[index]],
            ):
                return True
        if entry[2] is _UNSET:  # decoded as the step loader decodes it
            value = decode_bytes(raw, offset, line) if raw is not None else None
            entry[2] = value if isinstance(value, dict) else None
        value = entry[2]
        record = None if value is None else remap(value, position, line)
        facts = None
        if isinstance(record, dict) and record.get("type") in ("span", "span_start"):
            facts = start_facts(record, record["type"] == "span")
        if facts is None or facts[2] != STEP_KINDS[cols.kind[index]]:
            return self.query.matches_step(self.run.step(index))  # the builder decides
        _, _, kind, name, status, error, _, _, attributes = facts
        return self.query.matches_facts(kind, name, status, attributes, error)

    def _shown_in(self, value: Any, position: int, shown: Any, name: str, kind: str) -> bool:
        """Does the decoder vouch for every payload term, and for every word not in the
        step's name or kind (then the step matches: its row already did)?"""
        query = self.query
        for term in (*query.payload, *(w for w in query.words if w not in name and w != kind)):
            if not shown(value, position, lambda text, term=term: term in fold(text)):
                return False
        return True
