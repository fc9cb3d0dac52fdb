"""Times in traces, parsed and written by one set of rules.

Traces carry times as ISO 8601 strings (``2026-11-02T09:30:00.000Z``) or epoch numbers. Reading:
:func:`parse_iso` and :func:`epoch_of` (what the run builder stores; a naive time is local, as
the index's fast path reads it too). Writing:
:func:`iso_utc`, UTC with a ``Z``, at the precision the caller names: ``"micro"`` (what
``convert`` and the importers write), ``"milli"`` (the inspector's record), or ``"auto"``
(milliseconds unless finer digits exist: what a fork writes, so a recorded ``.123Z`` stays
``.123Z``).

The index's fast path decodes times with msgspec (RFC 3339) instead; ``core/index/fast.py``
documents the two places where that differs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

Precision = Literal["auto", "milli", "micro"]


def parse_iso(text: str) -> datetime | None:
    """An ISO 8601 time (``Z`` or an offset; naive stays naive); ``None`` if it is not one."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def epoch_of(value: Any) -> float | None:
    """Seconds since the epoch from an ISO 8601 string or a number; ``None`` if unusable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value:
        moment = parse_iso(value)
        return None if moment is None else moment.timestamp()
    return None


def iso_utc(seconds: float, precision: Precision = "micro") -> str:
    """``seconds`` since the epoch as ISO 8601 in UTC ending in ``Z``."""
    return iso_of(datetime.fromtimestamp(seconds, tz=UTC), precision)


def iso_of(moment: datetime, precision: Precision = "micro") -> str:
    """An aware (or naive, taken as UTC) ``datetime`` as ISO 8601 in UTC ending in ``Z``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if precision == "auto":
        precision = "milli" if moment.microsecond % 1000 == 0 else "micro"
    spec = "milliseconds" if precision == "milli" else "microseconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")
