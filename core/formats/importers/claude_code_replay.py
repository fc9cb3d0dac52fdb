"""Claude Code sessions indexed from facts: checkpoints as counts, a full mapper restored.

The indexer feeds a ``ClaudeCodeMapper(facts=True)`` (the same ``feed``; records carry only
what the index keeps) and keeps a :func:`checkpoint` every few lines; a view gets a full
mapper in that state (:func:`restore_into`) and replays the lines after it
(``docs/stateful-formats.md``).

The importer's big state is append-only and kept by reference (:mod:`.claude_code_refs`):
the ``parentUuid`` chain (arrays), the ``api-request`` records (requests, blobs and responses
as line refs), the model calls by message id and the sidechain lines' sub-agents (noted in
order in facts mode). So a checkpoint is a few counts and the line ref it is taken at, plus a
copy of the small state (the turn, unanswered tool calls, running sub-agents); restoring copies each
store's prefix ("as of" that line) into new full-mode stores, and shapes are read back from
their lines. No checkpoint is taken while a model call is open (its end is still to come).
"""

from __future__ import annotations

from typing import Any

from trace_tui.core.formats.base import CARRY_ALWAYS, CARRY_NONE

#: Line types whose text goes into later steps: the conversation (``user``/``assistant``,
#: rebuilt along ``parentUuid`` links that may cross a compaction or a rewind) and the
#: recorded requests (a request may be based on any earlier one).
_CARRIED = frozenset({"user", "assistant", "api-request", "api-request-blob", "api-request-shape"})


def checkpoint(mapper: Any) -> Any:
    """The facts-mode ``mapper``'s state between two lines (``()``: before the first line;
    ``None`` while a model call is open)."""
    if not mapper._fed:
        return ()
    if mapper._open or not mapper._facts:
        return None
    return (
        mapper._ref + 1, mapper._n, mapper._run_emitted, mapper._turn, mapper._turn_end,
        mapper._turn_done, mapper._parent, mapper._last_main, mapper._puuid, mapper.epoch,
        dict(mapper._tools), list(mapper._agent_calls), dict(mapper._agent_steps),
        set(mapper._truncated),
        mapper._chain, mapper._chain.mark(), mapper._requests, mapper._requests.mark(),
        mapper._calls, mapper._agent_log, len(mapper._agent_log),
    )  # fmt: skip


def restore_into(mapper: Any, state: tuple[Any, ...]) -> None:
    """Put a fresh full-mode ``mapper`` (reading old lines by reference) in ``state``."""
    (upto, mapper._n, mapper._run_emitted, mapper._turn, mapper._turn_end, mapper._turn_done,
     mapper._parent, mapper._last_main, mapper._puuid, mapper.epoch, tools, agent_calls,
     agent_steps, truncated, chain, chain_mark, requests, shapes, calls, agent_log,
     agents) = state  # fmt: skip
    mapper._tools, mapper._agent_calls = dict(tools), list(agent_calls)
    mapper._agent_steps, mapper._truncated = dict(agent_steps), set(truncated)
    lines = mapper._lines
    mapper._chain = chain.as_of(chain_mark, lines)
    mapper._requests = requests.as_of(upto, shapes, lines)
    mapper._llms._old = _CallsAsOf(calls.copy(), upto)
    maps: tuple[dict[str, str], ...] = ({}, {}, {})
    for which, key, value in agent_log[:agents]:
        maps[which][key] = value
    mapper._line_agent, mapper._agent_ids, mapper._agent_tool_spans = maps
    mapper._fed = True


class _CallsAsOf(dict[str, tuple[str, "str | None", tuple[int, ...]]]):
    """``CallStore._old`` of a restored mapper: every call the facts mapper had made before
    the line ref ``upto`` (all ended: no checkpoint while one is open), each copied from the
    facts mapper's (its lines below ``upto``) when first asked for. The facts mapper may add
    calls and lines meanwhile: its dict is a snapshot and its ref lists are only read."""

    def __init__(self, calls: dict[str, tuple[str, str | None, list[int]]], upto: int) -> None:
        super().__init__()
        self._calls, self._upto = calls, upto

    def pop(self, message_id: str, default: Any = None) -> Any:
        if dict.__contains__(self, message_id):
            return dict.pop(self, message_id)
        call = self._calls.pop(message_id, None)
        if call is None:
            return default
        refs = tuple(r for r in list(call[2]) if r < self._upto)
        return (call[0], call[1], refs) if refs else default


def carried(value: Any) -> int:
    """How far a line's text reaches beyond its own steps (search): conversation lines and
    recorded requests into every later model call or agent step, the rest nowhere."""
    kind = value.get("type") if isinstance(value, dict) else None
    return CARRY_ALWAYS if kind in _CARRIED else CARRY_NONE


def invented() -> frozenset[str]:
    """Lower-cased words the mapping writes that no line holds."""
    from trace_tui.core.formats.shared.vocabulary import invented_words

    return invented_words(*_MAPPING_MODULES)


_MAPPING_MODULES = (
    "trace_tui.core.formats.importers.claude_code",
    "trace_tui.core.formats.importers.claude_code_lines",
    "trace_tui.core.formats.importers.claude_code_context",
    "trace_tui.core.formats.importers.claude_code_requests",
    "trace_tui.core.formats.importers.claude_code_refs",
    "trace_tui.core.formats.shared.messages",
    "trace_tui.core.formats.shared.common",
    "trace_tui.core.formats.shared.coerce",
    "trace_tui.core.model.step",
    "trace_tui.core.model.run",
)
