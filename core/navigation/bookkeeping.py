"""Bookkeeping records: what an agent writes for itself, not steps of the run.

Claude Code transcripts hold attachments, queue operations, hook and system lines; Inspect
logs hold ``init``, ``state`` and ``store`` events. Importers keep them (as ``other`` steps,
with their original records) so nothing is lost, but among them the model and tool steps are
hard to find. Views fold them by default and keep them one key or flag away.
"""

from __future__ import annotations

from trace_tui.core.model.run import Run, Step


def is_bookkeeping(run: Run, step: Step) -> bool:
    """An ``other`` step that did not fail and holds no other step."""
    return step.kind == "other" and step.status != "error" and not run.children_of(step)


def bookkeeping_stretches(run: Run, *, shortest: int = 2) -> dict[int, list[Step]]:
    """Stretches of ``shortest`` or more consecutive bookkeeping steps, by their first index."""
    out: dict[int, list[Step]] = {}
    current: list[Step] = []
    for step in [*run.steps, None]:
        if step is not None and is_bookkeeping(run, step):
            current.append(step)
            continue
        if len(current) >= shortest:
            out[current[0].index] = current
        current = []
    return out


#: Formats whose ``other`` steps are the agent's own bookkeeping (transcript lines such as
#: attachments, queue operations and hooks; eval events such as init, state and store).
BOOKKEEPING_FORMATS = frozenset({"claude-code", "codex", "inspect-json", "inspect-eval"})
#: The filter the screen opens such a trace with: the run's steps, bookkeeping folded away
#: (Esc clears it and shows every record).
BOOKKEEPING_FILTER = "kind:agent,llm,tool,retrieval"
