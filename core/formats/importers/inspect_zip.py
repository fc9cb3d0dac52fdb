"""Read the members of an Inspect ``.eval`` zip, also when the zip was cut short.

A finished ``.eval`` has ``header.json``; a live or crashed one may only have
``_journal/start.json`` and the samples written so far, and a cut file has no central
directory at all. :func:`read_eval_zip` then walks the local file headers from the start and
inflates every member that is complete, reporting the rest.
"""

from __future__ import annotations

import logging
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trace_tui.core.formats.base import FormatError
from trace_tui.core.formats.shared.documents import parse_document

log = logging.getLogger(__name__)

_LOCAL = b"PK\x03\x04"
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


def read_eval_zip(path: Path) -> tuple[dict[str, Any], Iterator[Any], list[str]]:
    """The log header, the samples (parsed one at a time) and notes on anything skipped.

    Notes are appended while the sample iterator runs, so read them after it is exhausted.
    """
    notes: list[str] = []
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        log.info("%s: %s; reading local file headers", path, exc)
        members = _scan_local_headers(path.read_bytes(), notes)
        header = _header(members, notes)
        samples = (_parse(members[n], n, notes) for n in _sample_names(members))
        return header, samples, notes
    names = archive.namelist()
    members_small = {
        n: archive.read(n) for n in names if n in ("header.json", "_journal/start.json")
    }
    header = _header(members_small, notes)
    return header, _zip_samples(archive, _sample_names(names), notes), notes


def _zip_samples(archive: zipfile.ZipFile, names: list[str], notes: list[str]) -> Iterator[Any]:
    with archive:
        for name in names:
            try:
                data = archive.read(name)
            except (zipfile.BadZipFile, zlib.error, OSError) as exc:
                notes.append(f"{name}: cannot be read ({exc}); skipped")
                continue
            yield _parse(data, name, notes)


def _header(members: Any, notes: list[str]) -> dict[str, Any]:
    for name in ("header.json", "_journal/start.json"):
        if name in members:
            value = _parse(members[name], name, notes)
            if isinstance(value, dict):
                return value
    notes.append("the log has no readable header.json or _journal/start.json")
    return {}


def _parse(data: bytes, name: str, notes: list[str]) -> Any:
    try:
        value, note = parse_document(data)
    except FormatError as exc:
        notes.append(f"{name}: {exc}; skipped")
        return None
    if note:
        notes.append(f"{name}: {note}")
    return value


def _sample_names(names: Any) -> list[str]:
    samples = [n for n in names if n.startswith("samples/") and n.endswith(".json")]
    return sorted(
        samples, key=lambda n: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", n)]
    )


def _scan_local_headers(data: bytes, notes: list[str]) -> dict[str, bytes]:
    """Members of a zip with no central directory, by walking its local file headers."""
    members: dict[str, bytes] = {}
    pos = 0
    while data.startswith(_LOCAL, pos) and pos + _LOCAL_HEADER.size <= len(data):
        fields = _LOCAL_HEADER.unpack_from(data, pos)
        flags, method, size, name_len, extra_len = (
            fields[2],
            fields[3],
            fields[7],
            fields[9],
            fields[10],
        )
        name = data[pos + 30 : pos + 30 + name_len].decode("utf-8", errors="replace")
        start = pos + 30 + name_len + extra_len
        try:
            content, pos = _inflate(data, start, method, size, flags)
        except (zlib.error, ValueError) as exc:
            notes.append(f"{name}: cut short ({exc}); skipped it and what followed")
            break
        members[name] = content
    if (
        pos < len(data)
        and not data.startswith(b"PK\x01\x02", pos)
        and not data.startswith(b"PK\x05\x06", pos)
    ):
        notes.append(
            f"the zip is cut or corrupt at byte {pos} of {len(data)}: read the members before it"
        )
    return members


def _inflate(data: bytes, start: int, method: int, size: int, flags: int) -> tuple[bytes, int]:
    if method == 0 and not flags & 0x08:
        if start + size > len(data):
            raise ValueError("stored member ends after the end of the file")
        return data[start : start + size], start + size
    if method != 8:
        raise ValueError(f"compression method {method} is not supported")
    inflater = zlib.decompressobj(-15)
    content = inflater.decompress(data[start:])
    if not inflater.eof:
        raise ValueError("compressed member ends after the end of the file")
    end = len(data) - len(inflater.unused_data)
    if flags & 0x08:  # a data descriptor follows: optional signature, crc, sizes
        end += 16 if data.startswith(b"PK\x07\x08", end) else 12
    return content, end
