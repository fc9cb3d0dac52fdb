"""The scanned file read in blocks of whole lines, for :mod:`trace_tui.core.index.byte_search`.

Small blocks first (so that a hit near the start shows at once), then doubling up to
:data:`BLOCK_BYTES`. A block is never copied to cut it: its tail (part of the next line) is
read again with the next block. A line longer than a block is read on to its end; a huge string
held apart in the spill (a blob: see :mod:`~trace_tui.core.index.blobs`) is read a block at a
time, each piece overlapping the one before by :data:`BLOB_OVERLAP` bytes.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator

from trace_tui.core.index.run_view import ScanView

#: Bytes read per block (cut back to the last newline); the first blocks are smaller so that
#: a hit near the start shows at once.
BLOCK_BYTES = 8 * 1024 * 1024
FIRST_BLOCK_BYTES = 512 * 1024
#: Bytes each piece of a blob repeats from the one before (a word cut by the piece's start).
BLOB_OVERLAP = 64 * 1024


def blocks(view: ScanView, first: int) -> Iterator[tuple[int, bytes, int]]:
    """Blocks of the scanned file from ``first`` up to ``view.size``: ``(offset, data, end)``
    where ``data[:end]`` is whole lines (the rest, part of the next line, is read again with
    the next block: cheaper than copying the block to cut it)."""
    at, size = first, FIRST_BLOCK_BYTES
    while at < view.size:
        data = os.pread(view.fd, min(size, view.size - at), at)
        size = min(size * 2, BLOCK_BYTES)
        if not data:
            return
        end = len(data)
        if at + end < view.size:
            end = data.rfind(b"\n") + 1
            if not end and view.spilled and data[:1] == b'"':
                # a huge string held apart in the spill (a blob): scanned a block at a time
                at = yield from _blob_pieces(view, at, data)
                continue
            if not end:  # one line longer than a block: read on to its end
                data += _rest_of_line(view, at + len(data))
                end = len(data)
        yield at, data, end
        at += end


def _blob_pieces(
    view: ScanView, at: int, data: bytes
) -> Generator[tuple[int, bytes, int], None, int]:
    """The blob line starting at ``at`` (``data``: its first block) as pieces of about a
    block, each read as one line at ``at`` (a quote first, so the hit is known as a blob's);
    returns where the next line starts."""
    start = at
    while True:
        cut = data.find(b"\n")
        piece = data if cut < 0 else data[:cut]
        block = piece if piece[:1] == b'"' else b'"' + piece
        yield start, block, len(block)
        at += len(data)
        if cut >= 0:
            return at - len(data) + cut + 1
        if at >= view.size:
            return at
        overlap = piece[-BLOB_OVERLAP:]
        data = overlap + os.pread(view.fd, min(BLOCK_BYTES, view.size - at), at)
        at -= len(overlap)


def _rest_of_line(view: ScanView, at: int) -> bytes:
    parts: list[bytes] = []
    while at < view.size:
        data = os.pread(view.fd, min(BLOCK_BYTES, view.size - at), at)
        if not data:
            break
        cut = data.find(b"\n")
        if cut >= 0:
            parts.append(data[: cut + 1])
            break
        parts.append(data)
        at += len(data)
    return b"".join(parts)
