"""Which capture session is in charge: the sessions activated and not yet deactivated.

Kept apart from :mod:`~trace_tui.core.capture.session` so the transports, which hand each
request to the active session, need not import the session module that builds them (no
import cycle). The innermost (last activated) session is the active one.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trace_tui.core.capture.session import Session

_ACTIVE: list[Session] = []
_ACTIVE_LOCK = threading.Lock()


def active_session() -> Session | None:
    """The innermost active session, or ``None`` (then wrappers call straight through)."""
    return _ACTIVE[-1] if _ACTIVE else None


def push_session(session: Session) -> None:
    """``session`` becomes the active one."""
    with _ACTIVE_LOCK:
        _ACTIVE.append(session)


def drop_session(session: Session) -> None:
    """``session`` is no longer active (a no-op when it was not)."""
    with _ACTIVE_LOCK:
        if session in _ACTIVE:
            _ACTIVE.remove(session)
