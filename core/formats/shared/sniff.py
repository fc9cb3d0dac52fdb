"""Cheap structure sniffing of a JSON document's first bytes, for format detection.

A whole-document format (an Inspect log, a SWE-agent ``.traj``, a Langfuse export) is usually
pretty-printed over many lines and far larger than the 64 KiB detection may read, so it cannot
be parsed from its head. :func:`doc_shape` tokenises the head instead (strings and brackets
only, no values) and records the *key paths* it sees, e.g. ``("trajectory", "[]", "action")``
for the first item of a top-level ``trajectory`` array. Detectors then ask
``shape.has("trajectory", "[]", "action")``. Only the first element of every array is walked,
so the set of paths stays small.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from trace_tui.core.io.jsonl import BOM

_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')
_MAX_DEPTH = 6


@dataclass
class DocShape:
    """What the head of a JSON document looks like: its container and the key paths seen."""

    container: str  # "object", "array" or "" (not JSON)
    paths: set[tuple[str, ...]] = field(default_factory=set)
    values: dict[tuple[str, ...], str] = field(default_factory=dict)

    def has(self, *path: str) -> bool:
        """True when the key path was seen (``"[]"`` stands for "first array element")."""
        return tuple(path) in self.paths

    def value(self, *path: str) -> str | None:
        """The string value at a key path, when it was a short string."""
        return self.values.get(tuple(path))

    def top_keys(self) -> list[str]:
        """Keys of the top-level object (or of the first element of a top-level array)."""
        depth = 2 if self.container == "array" else 1
        return sorted({p[-1] for p in self.paths if len(p) == depth and p[-1] != "[]"})


@dataclass
class _Frame:
    kind: bytes
    path: tuple[str, ...]
    index: int = 0
    expect_key: bool = True
    key: str | None = None
    record: bool = True


@lru_cache(maxsize=4)
def doc_shape(data: bytes) -> DocShape:
    """Tokenise the head of a JSON document and collect key paths (never raises).

    Cached: every detector asks about the same head, which is tokenised once.
    """
    body = data[len(BOM) :] if data.startswith(BOM) else data
    start = body.lstrip()[:1]
    if start not in (b"{", b"["):
        return DocShape("")
    shape = DocShape("object" if start == b"{" else "array")
    stack: list[_Frame] = []
    pending_string: str | None = None
    for match in _TOKEN.finditer(body):
        token = match.group()
        if token[:1] == b'"':
            pending_string = _decode(token)
            frame = stack[-1] if stack else None
            if frame is not None and frame.kind == b"{" and not frame.expect_key and frame.key:
                if frame.record and len(pending_string) <= 200:
                    shape.values[frame.path + (frame.key,)] = pending_string
            continue
        if not _step(stack, shape, token, pending_string):
            break
        pending_string = None
    return shape


def _step(stack: list[_Frame], shape: DocShape, token: bytes, pending: str | None) -> bool:
    """Apply one structural token; False when the document's top level has closed."""
    frame = stack[-1] if stack else None
    if token in (b"{", b"["):
        path = _child_path(frame)
        record = (frame is None or frame.record) and len(path) < _MAX_DEPTH
        if frame is not None and frame.kind == b"[" and frame.index > 0:
            record = False
        stack.append(_Frame(token, path, record=record))
        if record and path:
            shape.paths.add(path)
        return True
    if token == b":" and frame is not None and frame.kind == b"{":
        frame.key, frame.expect_key = pending, False
        if frame.record and pending is not None:
            shape.paths.add(frame.path + (pending,))
        return True
    if token == b"," and frame is not None:
        frame.index += 1
        frame.expect_key, frame.key = True, None
        return True
    if token in (b"}", b"]"):
        if stack:
            stack.pop()
        return bool(stack)
    return True


def _child_path(frame: _Frame | None) -> tuple[str, ...]:
    if frame is None:
        return ()
    if frame.kind == b"[":
        return frame.path + ("[]",)
    return frame.path + (frame.key or "?",)


def _decode(token: bytes) -> str:
    text = token[1:-1].decode("utf-8", errors="replace")
    if "\\" not in text:
        return text
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)
