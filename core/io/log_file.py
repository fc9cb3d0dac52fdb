"""trace-tui's own log file, and the one place an unexpected error's traceback is written.

``$XDG_STATE_HOME/trace-tui/trace-tui.log`` (``~/.local/state/...`` by default). The screen
routes logging there while it is up (:mod:`trace_tui.tui.logfile`); the command line appends
the traceback of anything that is not :class:`~trace_tui.core.errors.BadInput` and names the
file in its one-line report.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path


def log_path() -> Path:
    """``$XDG_STATE_HOME/trace-tui/trace-tui.log`` (``~/.local/state/...`` by default)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / "trace-tui" / "trace-tui.log"


def record_exception(
    exc: BaseException,
    what: str,
    path: Path | None = None,
    clean: Callable[[str], str] | None = None,
) -> Path | None:
    """Append ``exc``'s traceback to the log file; returns its path (None: nowhere to write).

    ``what`` says what was running (e.g. ``"trace-tui show"``); ``clean`` (the terminal
    sanitiser, passed by the caller: this layer does not import it) is applied to the text.
    The log is append-only and ours alone, so it is appended to rather than rewritten.
    """
    target = path or log_path()
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    text = "".join(traceback.format_exception(exc))
    if clean is not None:  # the sanitiser: the log is read later in a terminal
        text = clean(text)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "a", encoding="utf-8") as stream:
            stream.write(f"{stamp} ERROR unexpected error in {what}\n{text}\n")
    except OSError:
        return None
    return target
