"""The small query language behind search (``/``) and filter (``&``) in the step list.

``kind:tool,llm``  steps of these kinds (``k:`` for short)
``is:error``       failed steps (also ``is:running``, ``is:ok``)
``name:lookup``    the step's name contains the text
``text:refund``    the step's payload (attributes, error) contains the text
``refund``         a bare word: in the name *or* the payload

Words are ANDed and case-insensitive (:func:`fold`); quote to keep spaces (``"order id"``).
A step's *payload text* (:func:`payload_text`) is the decoded text of its attributes (keys,
string values and integers, as a reader sees them: ``C:\\tmp`` is found by ``c:\tmp``, ``é`` by
``é`` however the file escaped it) and its error. Name, kind and status checks read only the
light :class:`~trace_tui.core.model.run.StepRow`; payload checks load the step. Over an indexed
file, :mod:`trace_tui.core.index.byte_search` finds the candidates by scanning the file's bytes
first and confirms each with :meth:`StepQuery.matches_step`, so both give the same steps.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from trace_tui.core.errors import BadValue
from trace_tui.core.model.run import STEP_KINDS, RunView, Step, StepRow

_STATUS_WORDS = {"error": "error", "errors": "error", "failed": "error", "ok": "ok",
                 "running": "running", "unset": "unset"}


#: Characters whose ``str.lower()`` is (or holds) an ASCII letter: kept as they are by
#: :func:`fold`, so a folded ASCII word only ever matches ASCII text (the byte scan relies on it).
_KEEP_CASE = ("\u0130", "\u212a")  # LATIN CAPITAL I WITH DOT ABOVE, KELVIN SIGN


def fold(text: str) -> str:
    """``text`` for case-insensitive matching: ``str.lower()``, except that the two characters
    whose lower case is ASCII (``İ``, the Kelvin sign) stay as they are."""
    if "\u0130" in text or "\u212a" in text:
        return _fold_keeping(text, 0)
    return text.lower()


def _fold_keeping(text: str, which: int) -> str:
    if which == len(_KEEP_CASE):
        return text.lower()
    keep = _KEEP_CASE[which]
    return keep.join(_fold_keeping(part, which + 1) for part in text.split(keep))


class QueryError(BadValue):
    """The query text cannot be understood (the message says why)."""


@dataclass(frozen=True, slots=True)
class StepQuery:
    """A parsed query; empty fields do not constrain."""

    text: str
    kinds: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    names: tuple[str, ...] = ()
    payload: tuple[str, ...] = ()
    words: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> StepQuery:
        """Parse ``text``; raises :class:`QueryError` for unknown kinds or bad quoting."""
        try:
            tokens = shlex.split(text)
        except ValueError as exc:
            raise QueryError(f"cannot read the query: {exc}") from None
        kinds: set[str] = set()
        statuses: set[str] = set()
        names: list[str] = []
        payload: list[str] = []
        words: list[str] = []
        for token in tokens:
            field, sep, value = token.partition(":")
            field = field.lower()
            if sep and field in ("kind", "k"):
                for kind in filter(None, value.lower().split(",")):
                    if kind not in STEP_KINDS:
                        raise QueryError(f"unknown kind {kind!r}; kinds: {', '.join(STEP_KINDS)}")
                    kinds.add(kind)
            elif sep and field in ("is", "status"):
                status = _STATUS_WORDS.get(value.lower())
                if status is None:
                    raise QueryError(f"unknown status {value!r}; try is:error, is:ok, is:running")
                statuses.add(status)
            elif sep and field == "name":
                names.append(fold(value))
            elif sep and field == "text":
                payload.append(fold(value))
            else:
                words.append(fold(token))
        return cls(text, frozenset(kinds), frozenset(statuses), tuple(names), tuple(payload),
                   tuple(words))

    @property
    def empty(self) -> bool:
        """True when the query constrains nothing."""
        return not (self.kinds or self.statuses or self.names or self.payload or self.words)

    @property
    def needs_payload(self) -> bool:
        """True when some step may need its payload loaded to decide."""
        return bool(self.payload or self.words)

    def matches_row(self, row: StepRow) -> bool | None:
        """Decide from the light row: True, False, or ``None`` when the payload must be read."""
        if self.kinds and row.kind not in self.kinds:
            return False
        if self.statuses and row.status not in self.statuses:
            return False
        name = fold(row.name)
        if any(n not in name for n in self.names):
            return False
        if self.payload or any(w not in name and w != row.kind for w in self.words):
            return None
        return True

    def matches_step(self, step: Step) -> bool:
        """Decide with the whole step (payload included)."""
        return self.matches_facts(step.kind, step.name, step.status, step.attributes,
                                  step.error)

    def matches_facts(self, kind: str, name: str, status: str, attributes: dict[str, Any],
                      error: str | None) -> bool:
        """:meth:`matches_step` for a step given by its facts (a record read by the
        builder's rules, without building the step)."""
        row_like = StepRow(-1, kind, name, 0, -1, status, None, None, None, None)
        quick = self.matches_row(row_like)
        if quick is not None:
            return quick
        pieces = _pieces(attributes, error)
        needles = (*self.payload, *self.words)
        if sum(map(len, pieces)) > HUGE_PAYLOAD and not any("\n" in n for n in needles):
            holds = _held_piecewise(pieces)  # (no piece is ever joined or folded whole twice)
        else:
            haystack = fold("\n".join(pieces))
            holds = haystack.__contains__
        folded = fold(name)
        if any(not holds(p) for p in self.payload):
            return False
        return all(w in folded or w == kind or holds(w) for w in self.words)


#: Payload text longer than this (a 200 MB pasted file) is searched a piece at a time: one
#: piece's folded copy at most, where joining and folding the whole took twice its size.
HUGE_PAYLOAD = 16 * 1024 * 1024


def _held_piecewise(pieces: list[str]) -> Callable[[str], bool]:
    """Does the folded payload (pieces joined by newlines) hold a needle without a newline?
    Folding is per character, so that is: does one folded piece hold it."""
    def holds(needle: str) -> bool:
        return any(needle in fold(piece) for piece in pieces if len(piece) >= len(needle))

    return holds


def payload_text(step: Step) -> str:
    """Folded searchable text of a step's payload: every key, string value and integer of its
    attributes (decoded, one per line; floats, booleans and nulls are not text) and its error."""
    return fold("\n".join(_payload_pieces(step)))


def _payload_pieces(step: Step) -> list[str]:
    return _pieces(step.attributes, step.error)


def _pieces(attributes: dict[str, Any], error: str | None) -> list[str]:
    pieces: list[str] = []
    _strings(attributes, pieces, 0)
    if error:
        pieces.append(error)
    return pieces


def _strings(value: Any, out: list[str], depth: int) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, bool) or value is None or isinstance(value, float):
        return
    elif isinstance(value, int):
        out.append(str(value))
    elif depth > 200:  # deeper than any JSON parser here reads; not searched
        return
    elif isinstance(value, dict):
        for key, item in value.items():
            out.append(str(key))
            _strings(item, out, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _strings(item, out, depth + 1)


def iter_matches(
    run: RunView,
    query: StepQuery,
    indices: Iterable[int],
    cancelled: Callable[[], bool] = lambda: False,
) -> Iterator[int]:
    """The indices among ``indices`` whose step matches ``query`` (stops when cancelled)."""
    for index in indices:
        if cancelled():
            return
        verdict = query.matches_row(run.row(index))
        if verdict is None:
            verdict = query.matches_step(run.step(index))
        if verdict:
            yield index
