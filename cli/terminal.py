"""What the command line prints, made safe for any terminal: the one gate to stdout/stderr.

Every command's output and error lines pass through :func:`~trace_tui.core.text.sanitize.
sanitize_text` on their way out (:class:`SafeStream`), so a file name, a key name from a
crafted trace or a branch's ``parent_path`` that slipped past a call site still cannot set
the terminal's title, write its clipboard (OSC 52) or reorder a line with bidi overrides.
``\\n`` and ``\\t`` pass; our own output carries no escape sequences (colour is the screen's,
and Textual writes to the terminal itself, not through ``sys.stdout``).

The same gate makes output survive a terminal or pipe that is not UTF-8 (``LANG=C``,
``PYTHONIOENCODING=ascii``): characters the encoding lacks are written as ``\\uXXXX``
escapes instead of aborting the command.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from typing import TextIO

from trace_tui.core.text.sanitize import sanitize_text


class SafeStream(io.TextIOBase):
    """A text stream that sanitises what is written and passes it to ``raw``."""

    def __init__(self, raw: TextIO) -> None:
        super().__init__()
        self.raw = raw
        _tolerate_any_encoding(raw)

    def write(self, text: str) -> int:
        """Write ``text`` sanitised; returns ``len(text)`` as a text stream does."""
        self.raw.write(sanitize_text(text))
        return len(text)

    def flush(self) -> None:
        """Flush the stream underneath."""
        self.raw.flush()

    def isatty(self) -> bool:
        """Whether the stream underneath is a terminal."""
        return self.raw.isatty()

    def fileno(self) -> int:
        """The stream underneath's file descriptor."""
        return self.raw.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        """The stream underneath's encoding."""
        return getattr(self.raw, "encoding", None) or "utf-8"


def _tolerate_any_encoding(stream: TextIO) -> None:
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower().replace("_", "-")
    if encoding in ("utf-8", "utf8"):
        return
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, io.UnsupportedOperation):
            reconfigure(errors="backslashreplace")


@contextlib.contextmanager
def safe_output() -> Iterator[None]:
    """``sys.stdout`` and ``sys.stderr`` go through :class:`SafeStream` for the block."""
    saved = sys.stdout, sys.stderr
    sys.stdout = SafeStream(saved[0])
    sys.stderr = SafeStream(saved[1])
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        sys.stdout, sys.stderr = saved
