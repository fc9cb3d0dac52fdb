"""Fork, replay and branch bookkeeping for the debugger screen, without any widget.

:class:`ForkSession` drives one fork the way ``trace-tui fork`` does (``cli/fork_command.py``):
plan the fork against the parent run, replay it with the recorded fixtures, save the branch
atomically in ``.trace-tui/`` beside the trace, and, when the replay stops for a model response
or a tool result, take a manual answer, resume and save again. Its methods block and are meant
for one worker thread at a time (a :class:`~trace_tui.core.replay.engine.Replay` is not
thread-safe).

The editor side is here too: :func:`editable_json` is the text the user edits (secrets masked,
controls escaped as JSON ``\\uXXXX`` so nothing reaches the terminal raw, yet the JSON still
round-trips) and :func:`edits_from_text` turns the edited text into JSON-Patch edits.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trace_tui.core.model.run import Run
from trace_tui.core.reading.reader import open_run
from trace_tui.core.replay.branches import (
    BranchEntry,
    branch_tree,
    find_root,
    read_branch_head,
    save_branch,
)
from trace_tui.core.replay.engine import COMPLETE, Replay
from trace_tui.core.replay.exchange import ModelRequest, ToolCallRequest
from trace_tui.core.replay.fork import ForkError, ForkPlan, diff_edits, plan_fork
from trace_tui.core.replay.values import Pending, Sources
from trace_tui.core.text.redact import Redactor
from trace_tui.core.text.sanitize import sanitize_text
from trace_tui.tui.display.safe_text import display_value

log = logging.getLogger(__name__)

#: Characters a JSON dump may still hold raw that must not reach a terminal.
_SUSPECT = re.compile(r"[^\x20-\x7e\n]")


# --------------------------------------------------------------------------- editing
def editable_json(record: dict[str, Any]) -> str:
    """``record`` as the JSON text the user edits: masked, indented, controls escaped.

    ``json.dumps`` escapes C0 controls itself; DEL, C1 controls, bidi overrides and invisible
    characters (whatever the one sanitiser would replace) become ``\\uXXXX`` escapes, which
    parse back to the same characters.
    """
    text = json.dumps(display_value(record), indent=2, ensure_ascii=False)

    def escape(match: re.Match[str]) -> str:
        ch = match.group(0)
        return ch if sanitize_text(ch) == ch else f"\\u{ord(ch):04x}"

    return _SUSPECT.sub(escape, text)


def edits_from_text(shown: str, edited: str) -> list[dict[str, Any]]:
    """The JSON-Patch edits from the record as shown to the record as edited.

    Raises :class:`ForkError` with one line when the text is not JSON, not an object, or
    changes something that cannot be edited (ids, kind, times).
    """
    try:
        value = json.loads(edited)
    except json.JSONDecodeError as exc:
        raise ForkError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") \
            from None
    if not isinstance(value, dict):
        raise ForkError("the record must stay a JSON object")
    return diff_edits(json.loads(shown), value)


def describe_edit(edit: dict[str, Any], limit: int = 80) -> str:
    """One line for an edit: ``replace /attributes/x/discount_pct = 15`` (not yet sanitised)."""
    text = f"{edit['op']} {edit['path']}"
    if "value" in edit:
        value = json.dumps(edit["value"], ensure_ascii=False)
        text += " = " + (value if len(value) <= limit else value[: limit - 1] + "…")
    return text


# --------------------------------------------------------------------------- pending
def pending_summary(pending: Pending, messages: int = 3) -> list[str]:
    """What a stopped replay needs, as plain lines (the screen sanitises them)."""
    request = pending.request
    lines = [pending.reason]
    if isinstance(request, ToolCallRequest):
        args = json.dumps(request.arguments, ensure_ascii=False, sort_keys=True)
        lines.append(f"tool {request.name}({args[:300]})"
                     + (f"  call id {request.call_id}" if request.call_id else ""))
        lines.append("Type the tool's result: JSON (an object, a number…) or plain text.")
    elif isinstance(request, ModelRequest):
        history = request.messages
        lines.append(f"the model sees {len(history)} message(s); the last "
                     f"{min(messages, len(history))}:")
        for message in history[-messages:]:
            lines.append(f"  {message.get('role', '?')}: {_content_preview(message)}")
        lines.append('Type the model\'s reply as text, or a JSON message such as '
                     '{"content": null, "tool_calls": [{"name": "...", "arguments": {...}}]}.')
    return lines


def _content_preview(message: dict[str, Any], limit: int = 160) -> str:
    content = message.get("content")
    if content is None and message.get("tool_calls"):
        names = [c.get("name") or c.get("function", {}).get("name", "?")
                 for c in message["tool_calls"] if isinstance(c, dict)]
        text = "calls " + ", ".join(str(n) for n in names)
    else:
        text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- fork session
@dataclass(frozen=True, slots=True)
class ForkOutcome:
    """Where a replay got to after :meth:`ForkSession.start` or :meth:`ForkSession.answer`.

    ``error`` is one line when the fork could not go on (saving refused, a bad answer); the
    branch saved before, if any, is still at ``path``.
    """

    path: Path | None
    name: str
    status: str
    note: str | None
    pending: Pending | None
    warnings: tuple[str, ...] = ()
    error: str | None = None

    @property
    def complete(self) -> bool:
        """True when the replay reached the end of the run."""
        return self.status == COMPLETE


class ForkSession:
    """One fork of the trace at ``trace_path``: plan, replay, save, answer, save again."""

    def __init__(self, trace_path: Path, format_name: str | None, redactor: Redactor) -> None:
        self.trace_path = trace_path
        self.format_name = format_name
        self.redactor = redactor
        self.replay: Replay | None = None
        self.path: Path | None = None
        self._parent: Run | None = None

    def parent(self) -> Run:
        """The whole parent run (read once; blocking: call from a worker thread)."""
        if self._parent is None:
            self._parent = open_run(self.trace_path, self.format_name)
        return self._parent

    def plan(self, step_number: int, edits: list[dict[str, Any]]) -> ForkPlan:
        """Check the fork (``ForkError`` with the readiness reason when it cannot replay)."""
        return plan_fork(self.parent(), step_number, edits)

    def start(self, plan: ForkPlan) -> ForkOutcome:
        """Replay ``plan`` with the recorded fixtures and save the branch."""
        self.replay = Replay(plan, Sources())
        self.replay.run()
        return self._save(plan.warnings)

    def answer(self, value: Any) -> ForkOutcome:
        """Give the pending step ``value`` (typed by the user), go on, save again."""
        replay = self._current()
        try:
            replay.answer(value)
        except (ValueError, TypeError) as exc:  # a reply of the wrong shape: ask again
            log.info("manual answer refused: %s", exc)
            return self._outcome(error=f"that answer does not fit: {exc}")
        replay.resume()
        return self._save(())

    def _current(self) -> Replay:
        if self.replay is None:
            raise RuntimeError("no replay has started")
        return self.replay

    def _save(self, warnings: tuple[str, ...]) -> ForkOutcome:
        replay = self._current()
        try:
            # never over another branch (answers typed by hand are user work): the first
            # save takes a free name, later saves update this session's own file
            self.path = save_branch(
                replay,
                self.trace_path,
                output=self.path,
                redactor=self.redactor,
                own=self.path,
                new_name_if_taken=True,
            )
        except (OSError, ValueError) as exc:  # BranchError is a ValueError
            log.exception("saving the branch failed")
            return self._outcome(warnings, error=f"cannot save the branch: {exc}")
        return self._outcome(warnings)

    def _outcome(self, warnings: tuple[str, ...] = (), error: str | None = None) -> ForkOutcome:
        replay = self._current()
        return ForkOutcome(self.path, replay.plan.name, replay.status, replay.note,
                           replay.pending, warnings, error)


# --------------------------------------------------------------------------- branch facts
@dataclass(frozen=True, slots=True)
class BranchFacts:
    """What the debugger knows about the file it shows as a branch or a root of branches."""

    path: Path
    entry: BranchEntry | None
    root: Path
    branches: int

    @property
    def is_branch(self) -> bool:
        """True when the file is a branch with a readable parent."""
        return self.entry is not None and self.entry.parent is not None

    @property
    def label(self) -> str:
        """The branch's name (or file stem), for the status line."""
        if self.entry is None:
            return ""
        return self.entry.name or self.path.stem


def read_branch_facts(path: Path) -> BranchFacts:
    """Branch facts of ``path``: its branch record, its root trace, how many branches hang
    below it (blocking: reads the heads of the files in ``.trace-tui/``)."""
    entry = read_branch_head(path) if path.is_file() else None
    root = find_root(path)
    tree = branch_tree(path) if entry is None else None
    count = sum(1 for _ in tree.walk()) - 1 if tree is not None else 0
    return BranchFacts(path, entry, root, count)


def same_file(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name the same file (resolved paths; no I/O errors raised)."""
    return os.path.realpath(a) == os.path.realpath(b)
