"""The per-user key that makes redaction marks unguessable: ``<config dir>/redact.key``.

A mark ``«redacted:KIND#HASH»`` lets two occurrences of one secret look alike. A bare digest
of the secret would let anyone holding a trace test guesses against it offline (a 6-digit
password falls in a second), so HASH is the first 6 hex digits of an HMAC-SHA-256 keyed with
32 random bytes that belong to the user: marks match within everything one user writes, and
mean nothing to someone without the key.

The key is created on first use, atomically and private from the start: written to a
temporary file opened ``O_CREAT | O_EXCL`` with mode ``0600``, flushed, then published with
``link()`` (which fails if another process published one first; then that one is read). A key
file that is a symbolic link, not a regular file, or of the wrong size is never used or
replaced: a random key for this process only is used instead, with a warning in the log.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import threading
from pathlib import Path

from trace_tui.core.model.context_windows import config_dir

log = logging.getLogger(__name__)

KEY_FILE = "redact.key"
KEY_BYTES = 32
_lock = threading.Lock()
_cached: dict[Path, bytes] = {}


def user_hash_key(folder: Path | None = None) -> bytes:
    """The user's redaction key (created on first use); cached per process."""
    path = (folder if folder is not None else config_dir()) / KEY_FILE
    with _lock:
        key = _cached.get(path)
        if key is None:
            key = _load_or_create(path)
            _cached[path] = key
        return key


def _load_or_create(path: Path) -> bytes:
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    except (OSError, ValueError) as exc:
        log.warning("redaction key %s is unusable (%s); using a key for this run only", path, exc)
        return secrets.token_bytes(KEY_BYTES)
    try:
        return _create(path)
    except OSError as exc:
        log.warning("cannot create redaction key %s (%s); using a key for this run only", path, exc)
        return secrets.token_bytes(KEY_BYTES)


def _read(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        data = os.read(fd, KEY_BYTES * 2 + 1).strip()
    finally:
        os.close(fd)
    key = bytes.fromhex(data.decode("ascii"))
    if len(key) != KEY_BYTES:
        raise ValueError(f"expected {KEY_BYTES} bytes")
    return key


def _create(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = secrets.token_bytes(KEY_BYTES)
    temp = path.with_name(f".{KEY_FILE}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        os.write(fd, key.hex().encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, path)  # atomic, and never over a key someone else published first
    except FileExistsError:
        return _read(path)
    finally:
        temp.unlink(missing_ok=True)
    return key
