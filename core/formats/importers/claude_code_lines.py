"""Claude Code transcript lines: which types exist, detection, and the lines that are ``other``.

:mod:`.claude_code` maps turns, model calls and tool calls; every other line (bookkeeping,
summaries, meta lines, types this importer does not know) becomes an ``other`` step described
here, so nothing in a transcript is dropped.
"""

from __future__ import annotations

from typing import Any

from trace_tui.core.formats.base import Head
from trace_tui.core.formats.shared.common import A_IMPORT_NOTE, as_dict
from trace_tui.core.formats.shared.messages import content_of, text_of

#: The line types Claude Code writes (a line of another type is still read, as ``other``).
LINE_TYPES = (
    "user",
    "assistant",
    "system",
    "summary",
    "file-history-snapshot",
    "queue-operation",
    "attachment",
    "progress",
    "last-prompt",
)


def detect_claude_code(head: Head) -> bool:
    """A line with a Claude Code ``type`` and ``sessionId``/``uuid`` (or a leading summary)."""
    rec = head.first_record
    if not isinstance(rec, dict) or not isinstance(rec.get("type"), str):
        return False
    if rec["type"] == "summary" and "leafUuid" in rec:
        return True
    if rec["type"] == "file-history-snapshot" and "snapshot" in rec:
        return True  # recent transcripts often open with one
    known = rec["type"] in LINE_TYPES or rec["type"].startswith("api-request")
    return known and ("sessionId" in rec or "uuid" in rec or "parentUuid" in rec)


def other_line(rec: dict[str, Any], line: int) -> tuple[str, dict[str, Any]]:
    """The label and attributes of the ``other`` step a line that is no turn, call or tool
    result becomes (bookkeeping, summaries, meta lines, unknown types: nothing is dropped)."""
    kind = rec.get("type")
    label = str(kind) if isinstance(kind, str) else "record without a type"
    if rec.get("subtype"):
        label += f" {rec['subtype']}"
    attrs: dict[str, Any] = {"claude_code.line_type": kind if isinstance(kind, str) else None}
    if kind == "summary":
        attrs["claude_code.summary"] = rec.get("summary")
    elif rec.get("isCompactSummary"):
        label, attrs["claude_code.summary"] = "compact summary", line_text(rec)
    elif rec.get("isMeta"):
        label, attrs["claude_code.text"] = "user (meta)", line_text(rec)
    elif kind == "user" and rec.get("isSidechain") and line_text(rec):
        label, attrs["claude_code.prompt"] = "subagent prompt", line_text(rec)
    elif kind == "user":
        attrs[A_IMPORT_NOTE] = "a user line with no prompt text and no tool result"
    elif kind not in LINE_TYPES:
        attrs[A_IMPORT_NOTE] = f"line {line}: a record type this importer does not know"
    return label, attrs


def line_text(rec: dict[str, Any]) -> str | None:
    """The text of a line's message (its content blocks joined)."""
    msg = as_dict(rec.get("message"))
    return text_of(content_of(msg.get("content")))
