"""Group keys for failures: error messages with their variable parts normalised, the shape of
the tool-call sequence, and the run's task, model and agent version.

Two runs that failed "the same way" differ in order numbers, ids, amounts and quoted values;
:func:`normalise_message` replaces those with placeholders (``<n>``, ``<id>``, ``<str>``) so
``ToolError: 35% exceeds the cap of 20%`` and ``ToolError: 40% exceeds the cap of 20%`` are one
message. :func:`sequence_shape` keeps the order of tool names and folds repeats (``a>b+>c``).
"""

from __future__ import annotations

import re

_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}\b")
_HEX = re.compile(r"\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{12,}\b")
_ID = re.compile(r"\b[A-Za-z]{1,6}[-_]\d[\w-]*\b")
_QUOTED = re.compile(r"'[^'\n]{0,200}'|\"[^\"\n]{0,200}\"|`[^`\n]{0,200}`")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_URL = re.compile(r"\bhttps?://\S+")
_NUMBER = re.compile(r"(?<![\w<])[-+]?\d+(?:[.,]\d+)*(?:e[-+]?\d+)?")
_SPACE = re.compile(r"\s+")
MESSAGE_LIMIT = 160
#: What ``triage --by`` can group on (see :mod:`.grouping`).
GROUP_BY = ("signature", "outcome", "tool", "error", "model", "version", "task")


def normalise_message(message: str) -> str:
    """``message`` with ids, numbers, quoted values, e-mails and URLs replaced by placeholders
    (its first line, cut to a group title's length)."""
    text = message.strip().splitlines()[0] if message.strip() else ""
    return normalise_text(text, quoted=True)[:MESSAGE_LIMIT]


def normalise_text(text: str, *, quoted: bool = False) -> str:
    """``text`` with ids, numbers, e-mails and URLs (and, with ``quoted``, quoted values)
    replaced by placeholders, whitespace folded."""
    for pattern, placeholder in ((_URL, "<url>"), (_EMAIL, "<email>"), (_UUID, "<id>"),
                                 (_QUOTED if quoted else None, "<str>"), (_HEX, "<id>"),
                                 (_ID, "<id>"), (_NUMBER, "<n>")):
        if pattern is not None:
            text = pattern.sub(placeholder, text)
    return _SPACE.sub(" ", text)


def sequence_shape(tools: list[str], limit: int = 12) -> str:
    """Tool names in call order with consecutive repeats folded (``a>b+>c``), cut to ``limit``."""
    folded: list[str] = []
    for name in tools:
        if folded and folded[-1].rstrip("+") == name:
            folded[-1] = name + "+"
        else:
            folded.append(name)
    if len(folded) > limit:
        folded = folded[: limit - 1] + ["…"]
    return ">".join(folded)


def task_key(name: str | None, first_user_message: str | None) -> str:
    """Which task a run did: its name, else its first user message, normalised."""
    text = name or first_user_message or ""
    return normalise_message(text)[:100]
