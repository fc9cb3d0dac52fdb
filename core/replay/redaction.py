"""Secrets in branches: masked when a branch is saved, matched through the mask when re-replayed.

A replay works on the original values in memory (a live model or tool gets the real context),
but a branch file is written through a :class:`~trace_tui.core.text.redact.Redactor`
(:func:`saved_records`), like every other export. That has two consequences this module
takes care of:

* **Re-replaying a saved branch** (``trace-tui replay BRANCH``) reuses the answers it got
  before. Those are looked up by request (or tool call), and the request saved in the file
  is the masked one while the request the replay builds again from the raw parent is not.
  :class:`RedactedAnswers` compares both *through the redactor*: redaction is deterministic
  and idempotent (a placeholder stays itself), so a saved request and the same request built
  again mask to the same thing, and a request that differs in a secret still differs.
* **The request hash** a replayed model step carries (``trace_tui.replay.request_hash``) is
  recomputed over the request as saved, so a hash of a raw request that held a secret is
  never written, and the same fork replayed twice still gives byte-identical files.

A branch file saved with ``--no-redact`` matches the same way; so does re-replaying a redacted
branch with ``--no-redact`` (matching then uses the built-in rules: see
:func:`matching_redactor`). What cannot come back is a secret the saved file no longer has:
an edit or a hand-typed answer that held one is replayed with its placeholder.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from trace_tui.core.export.convert import redact_records
from trace_tui.core.model.run import A_TOOL_ARGUMENTS, A_TOOL_NAME, Run, Step
from trace_tui.core.replay.exchange import (
    REQUEST_ATTRS,
    ModelRequest,
    ModelResponse,
    ToolCallRequest,
    ToolResult,
    digest,
    parse_arguments,
)
from trace_tui.core.replay.fixtures import AnswerFixtures, FixtureHit
from trace_tui.core.replay.records import A_REQUEST_HASH
from trace_tui.core.text.redact import Redactor


def matching_redactor(redactor: Redactor | None) -> Redactor:
    """The redactor requests are compared through: ``redactor`` when it is on, else built-in.

    Matching always masks, even for ``--no-redact``, so a branch saved redacted still finds
    its earlier answers when replayed raw (and a raw one when replayed redacted).
    """
    return redactor if redactor is not None and redactor.enabled else Redactor()


def saved_records(records: Iterable[dict[str, Any]], redactor: Redactor) -> list[dict[str, Any]]:
    """A branch's records as its file holds them: masked, stamped, request hashes redone."""
    out = redact_records(records, redactor)
    if redactor.enabled:
        for record in out:
            attrs = record.get("attributes")
            if isinstance(attrs, dict) and A_REQUEST_HASH in attrs:
                attrs[A_REQUEST_HASH] = digest(_request_part(attrs))
    return out


def masked_edits(edits: Iterable[dict[str, Any]], redactor: Redactor) -> list[Any]:
    """Edits as a branch file saves them (to compare a fork with a saved one)."""
    return list(redactor.value(list(edits)))


def masked_request(request: ModelRequest, redactor: Redactor) -> ModelRequest:
    """``request`` with its secrets masked (its key is what a saved request's key is)."""
    return replace(request, attributes=redactor.value(request.attributes))


def masked_call(call: ToolCallRequest, redactor: Redactor) -> ToolCallRequest:
    """``call`` with its name and (parsed) arguments masked."""
    return replace(
        call,
        name=redactor.text(call.name),
        arguments=redactor.value(parse_arguments(call.arguments)),
    )


class RedactedAnswers(AnswerFixtures):
    """:class:`~trace_tui.core.replay.fixtures.AnswerFixtures` matched with secrets masked on both
    sides.

    The questions (requests, tool calls) of the branch's steps are masked to build the lookup
    tables; the answers are the branch file's own. Each request or call the replay asks about
    is masked the same way before it is looked up.
    """

    def __init__(self, branch: Run, first_index: int, redactor: Redactor) -> None:
        self._redactor = redactor
        super().__init__(_masked_questions(branch, redactor), first_index)

    def take_model(self, request: ModelRequest) -> FixtureHit[ModelResponse] | None:
        """An earlier answer to this request (compared masked), or ``None``."""
        return super().take_model(masked_request(request, self._redactor))

    def take_tool(self, call: ToolCallRequest) -> FixtureHit[ToolResult] | None:
        """An earlier answer to this tool call (compared masked), or ``None``."""
        return super().take_tool(masked_call(call, self._redactor))


def _request_part(attrs: dict[str, Any]) -> dict[str, Any]:
    return {k: attrs[k] for k in REQUEST_ATTRS if k in attrs}


def _masked_questions(branch: Run, redactor: Redactor) -> Run:
    """A copy of ``branch`` whose requests and tool calls are masked (answers as they are)."""
    copy = Run(branch.info, path=branch.path, format_name=branch.format_name)
    for step in branch.steps:
        copy.add_step(_masked_step(step, redactor))
    return copy


def _masked_step(step: Step, redactor: Redactor) -> Step:
    attrs = dict(step.attributes)
    attrs.update(redactor.value(_request_part(attrs)))
    if A_TOOL_ARGUMENTS in attrs:
        attrs[A_TOOL_ARGUMENTS] = redactor.value(parse_arguments(attrs[A_TOOL_ARGUMENTS]))
    if isinstance(attrs.get(A_TOOL_NAME), str):
        attrs[A_TOOL_NAME] = redactor.text(attrs[A_TOOL_NAME])
    return replace(step, name=redactor.text(step.name), attributes=attrs)


__all__ = [
    "RedactedAnswers",
    "masked_call",
    "masked_edits",
    "masked_request",
    "matching_redactor",
    "saved_records",
]
