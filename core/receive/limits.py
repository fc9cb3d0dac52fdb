"""How much a receiver takes: a span rate limit (token bucket) and a backlog limit.

Over the rate, an export is answered 429 with a ``Retry-After`` that says when enough spans
will be allowed again; with too many exports waiting to be written, 503 with ``Retry-After``.
OTLP exporters retry both with back-off, so nothing is dropped: it arrives later.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class SpanRate:
    """A token bucket of spans per second, with a burst of one second's worth (or more)."""

    def __init__(self, per_second: float | None, *, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.capacity = max(burst or 0.0, per_second or 0.0)
        self._tokens = self.capacity
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def take(self, spans: int) -> float:
        """Take ``spans`` tokens; 0.0 when allowed, else the seconds to wait before a retry.

        A batch bigger than the whole bucket is allowed when the bucket is full (it could
        never pass otherwise); nothing is taken when it is refused.
        """
        if not self.per_second:
            return 0.0
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.per_second)
            self._last = now
            if spans <= self._tokens or self._tokens >= self.capacity:
                self._tokens -= spans
                return 0.0
            return (min(spans, self.capacity) - self._tokens) / self.per_second


def retry_after_header(seconds: float) -> str:
    """A ``Retry-After`` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
