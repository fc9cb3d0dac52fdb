"""The light facts of a native ``span``/``span_start`` record, by the builder's rules.

:meth:`StepColumns.add_record <trace_tui.core.index.columns.StepColumns.add_record>` applies
well-formed records (what importers emit) without building a
:class:`~trace_tui.core.model.run.Step` on a scratch run: :func:`start_facts` reads what the
columns keep, exactly as :meth:`RunBuilder._start
<trace_tui.core.model.builder.RunBuilder._start>` would, and declines every record the builder
would reject, so the builder still words every problem. ``tests/test_index_direct.py`` checks
the two ways give the same columns.
"""

from __future__ import annotations

from typing import Any

from trace_tui.core.model.builder import _error_text as error_text
from trace_tui.core.model.run import STEP_KINDS
from trace_tui.core.model.times import epoch_of

__all__ = ["END_STATUSES", "StartFacts", "error_text", "start_facts", "time_of"]

#: A record's light facts as :func:`start_facts` reads them: span id, parent id, kind, name,
#: status, error, start, end, attributes.
StartFacts = tuple[
    str, str | None, str, str, str, str | None, float | None, float | None, dict[str, Any]
]
#: The builder's ``_status`` values (a tuple: a record's value may be unhashable).
END_STATUSES = ("ok", "error", "unset")


def time_of(value: Any) -> float | None:
    """:func:`~trace_tui.core.model.times.epoch_of`, remembering recent UTC times (``Z``): an
    importer's records repeat them (a step's end is the next one's start)."""
    if type(value) is not str or not value.endswith("Z"):
        return epoch_of(value)
    known = _EPOCHS.get(value)
    if known is None:
        known = epoch_of(value)
        if known is None:
            return None
        if len(_EPOCHS) >= _EPOCHS_KEPT:
            _EPOCHS.clear()
        _EPOCHS[value] = known
    return known


_EPOCHS: dict[str, float] = {}
_EPOCHS_KEPT = 4096


def start_facts(record: dict[str, Any], complete: bool) -> StartFacts | None:
    """The light facts of a ``span``/``span_start`` record by the builder's rules
    (:meth:`RunBuilder._start <trace_tui.core.model.builder.RunBuilder._start>`), or ``None``
    when the record breaks them (the builder then says how)."""
    span_id = record.get("span_id")
    kind = record.get("kind")
    attributes = record.get("attributes") or {}
    if (
        type(span_id) is not str
        or not span_id
        or type(kind) is not str
        or kind not in STEP_KINDS
        or type(attributes) is not dict
    ):
        return None
    parent = record.get("parent_id")
    status = record.get("status")
    if status not in END_STATUSES:
        status = "unset" if complete else "running"
    error = error_text(record.get("error"))
    if error and status != "error" and status != "running":
        status = "error"
    return (
        span_id,
        parent if isinstance(parent, str) and parent else None,
        kind,
        str(record.get("name") or kind),
        status,
        error,
        time_of(record.get("start_time")),
        time_of(record.get("end_time")),
        attributes,
    )
