"""While the screen is up, log records go to a file, never to the terminal it draws on.

``cli.main`` logs to stderr, which is right for plain commands; under a full-screen app a
warning printed to stderr would tear the screen. :func:`logging_to_file` swaps the root
logger's stream handlers for a file handler for the life of the app: the user sees one clear
line (a notification), a developer finds the traceback in the file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from trace_tui.core.io.log_file import log_path
from trace_tui.core.text.sanitize import SafeLogFormatter

__all__ = ["log_path", "logging_to_file"]


@contextmanager
def logging_to_file(path: Path | None = None) -> Iterator[Path | None]:
    """Route the root logger to ``path`` instead of the terminal; yields the path (or None)."""
    root = logging.getLogger()
    streams = [h for h in root.handlers if isinstance(h, logging.StreamHandler)
               and not isinstance(h, logging.FileHandler)]
    target: Path | None = path or log_path()
    handler: logging.Handler | None = None
    try:
        assert target is not None
        target.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(target, encoding="utf-8", delay=True)
    except OSError:
        handler, target = logging.NullHandler(), None  # nowhere to write: stay quiet on screen
    handler.setFormatter(SafeLogFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for stream in streams:
        root.removeHandler(stream)
    root.addHandler(handler)
    try:
        yield target
    finally:
        root.removeHandler(handler)
        handler.close()
        for stream in streams:
            root.addHandler(stream)
