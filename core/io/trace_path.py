"""Is this path a trace file we may read? One check and one error type for every reader.

:func:`check_trace_path` refuses what is not a readable regular file (missing, a directory, a
FIFO, a socket, a device, no permission) with :class:`TraceOpenError`, whose message is one line
naming the file. The in-memory reader, the indexed reader and ``validate`` all use it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from trace_tui.core.errors import BadInput


class TraceOpenError(BadInput):
    """The trace cannot be opened; the message is one line naming the file."""


def check_trace_path(path: Path) -> os.stat_result:
    """Refuse paths that are not readable regular files, with a clear message."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise TraceOpenError(f"{path}: no such file") from None
    except OSError as exc:
        raise TraceOpenError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(info.st_mode):
        raise TraceOpenError(f"{path}: is a directory, not a trace file")
    if not stat.S_ISREG(info.st_mode):
        raise TraceOpenError(
            f"{path}: is not a regular file (FIFO, socket or device); trace-tui reads files"
        )
    if not os.access(path, os.R_OK):
        raise TraceOpenError(f"{path}: permission denied")
    return info
