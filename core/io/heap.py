"""Giving freed heap memory back to the system (glibc's ``malloc_trim``), where there is one.

Indexing a big trace allocates and frees a lot of short-lived memory chunk by chunk; glibc
keeps freed pages of its heap resident (and the top of the heap only shrinks past its last
block in use). After the first full read the process would hold that memory until it exits.
:func:`trim_heap` asks glibc to return every free page (``malloc_trim(0)``): ~180 bytes a step
after indexing 100k steps (``bench/RESULTS.md``). Elsewhere (macOS, musl, Windows) it does
nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

_trim: Callable[[int], int] | None = None
_looked = False


def trim_heap() -> bool:
    """Return free heap pages to the system; ``True`` when glibc's ``malloc_trim`` ran."""
    global _trim, _looked
    if not _looked:
        _looked = True
        _trim = _malloc_trim()
    if _trim is None:
        return False
    try:
        _trim(0)
    except OSError:  # pragma: no cover - a libc that refuses: nothing to give back
        return False
    return True


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # only when asked: not on the way to the first screen

    try:
        trim = ctypes.CDLL(None).malloc_trim  # the process's own libc
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim
