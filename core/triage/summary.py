"""One run reduced to what triage needs: a small, JSON-able, cacheable :class:`RunSummary`.

A summary holds the run's outcome (:mod:`.outcomes`), what its signature is made of (task,
models, agent version, error, tool-call sequence) and, per step, stable alignment keys
(:func:`align_keys`), so failing runs can be aligned with successful ones later without reading
either file again. Everything here is computed in the process that read the file (possibly a
pool worker) and must survive a trip through JSON.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from trace_tui.core.diff.align import step_content, step_label
from trace_tui.core.model.run import Run, Step
from trace_tui.core.reading.reader import open_run
from trace_tui.core.text.canonical import canonical_json
from trace_tui.core.triage.outcomes import Outcome, classify
from trace_tui.core.triage.signature import normalise_text, sequence_shape, task_key

#: Steps whose alignment keys a summary keeps (the start of a run is where it diverges).
KEY_LIMIT = 2000
_VERSION_KEYS = ("agent_version", "prompt_version", "agent.version", "service.version",
                 "agent_commit", "git_commit")


@dataclass(slots=True)
class RunSummary:
    """What triage knows about one run file (see module doc)."""

    path: str
    size: int
    mtime_ns: int
    format: str = ""
    task: str = ""
    started_at: float | None = None
    models: list[str] = field(default_factory=list)
    version: str = ""
    steps: int = 0
    outcome: str = "completed"
    step: int | None = None
    tool: str = ""
    error_type: str = ""
    error: str = ""
    shape: str = ""
    keys: list[list[str]] = field(default_factory=list)
    unreadable: str = ""

    @property
    def failed(self) -> bool:
        """True when the run did not complete cleanly (or could not be read)."""
        return self.outcome != "completed"

    def to_json(self) -> dict[str, Any]:
        """A JSON object (the cache's line)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunSummary:
        """The summary a cache line holds."""
        return cls(**data)


def summarise(path: str | os.PathLike[str], *, policy_path: str | None = None) -> RunSummary:
    """Read the trace at ``path`` and summarise it; an unreadable file is a ``cut_short`` run
    with the reason in ``unreadable`` (triage goes on with the other files)."""
    file = Path(path)
    stat = file.stat()
    summary = RunSummary(str(file), stat.st_size, stat.st_mtime_ns)
    try:
        run = open_run(file)
    except Exception as exc:  # any unreadable file: reported, never fatal for the batch
        summary.outcome, summary.unreadable = "cut_short", str(exc)[:300]
        summary.error = summary.unreadable
        return summary
    blocked = _first_blocked(run, policy_path) if policy_path else None
    outcome = classify(run, blocked_step=blocked, cut=_ends_cut(run))
    _fill(summary, run, outcome)
    return summary


def _fill(summary: RunSummary, run: Run, outcome: Outcome) -> None:
    steps = run.steps
    summary.format = run.format_name
    summary.started_at = run.info.started_at if run.info.started_at is not None else (
        steps[0].start_time if steps else None)
    summary.models = sorted({m for s in steps if s.kind == "llm" and (m := s.model)})
    summary.version = _version(run)
    summary.steps = len(steps)
    summary.task = task_key(run.info.name, _first_user_message(steps))
    summary.outcome, summary.step = outcome.kind, outcome.step
    summary.tool, summary.error_type, summary.error = outcome.tool, outcome.error, \
        (outcome.detail or outcome.error)[:500]
    upto = outcome.step if outcome.step is not None else len(steps) - 1
    summary.shape = sequence_shape([_tool(s) for s in steps[: upto + 1]
                                    if s.kind in ("tool", "retrieval")])
    summary.keys = align_keys(steps[:KEY_LIMIT])


def align_keys(steps: list[Step]) -> list[list[str]]:
    """Per step ``[weak, mid, strong]`` alignment keys, stable across processes.

    ``weak`` and ``mid`` follow :mod:`trace_tui.core.diff.align`'s rules (kind, label, tree
    position; plus span name) so triage aligns runs as ``diff`` does. ``strong`` says when two
    runs did *the same thing* at a step, which for triage ignores what varies between runs of
    one task (ids, numbers, amounts: :func:`~.signature.normalise_text`) and adds what makes a
    step go wrong: its status, a tool's result or a retrieval's documents, and whether a model
    call was sent a system prompt and a complete context.
    """
    index_of: dict[str, int] = {}
    idents: list[str] = []
    depths: list[int] = []
    out: list[list[str]] = []
    for position, step in enumerate(steps):
        ident = f"{step.kind}\x1f{step_label(step)}"
        parent = index_of.get(step.parent_id) if step.parent_id is not None else None
        depth = 0 if parent is None else depths[parent] + 1
        weak = f"{ident}\x1f{depth}\x1f{idents[parent] if parent is not None else ''}"
        mid = f"{weak}\x1f{step.name}"
        strong = hashlib.blake2b(f"{mid}\x00{_behaviour(step)}".encode("utf-8", "surrogatepass"),
                                 digest_size=8).hexdigest()
        out.append([weak, mid, strong])
        depths.append(depth)
        idents.append(ident)
        index_of.setdefault(step.span_id, position)
    return out


def _behaviour(step: Step) -> str:
    """What a step did, with the parts that vary between runs of one task normalised."""
    content = step_content(step)
    if step.kind in ("tool", "retrieval"):
        outcome = step.tool_result if step.kind == "tool" else len(step.documents)
        content += "\x00" + canonical_json(outcome)
    if step.kind == "llm":
        content += f"\x00{step.system_prompt is not None}" \
                   f"\x00{step.attr('trace_tui.context.truncated') is True}"
    status = step.status if step.kind != "agent" else ""
    return f"{status}\x00{normalise_text(content)[:4000]}"


def _tool(step: Step) -> str:
    return step.tool_name or step.name


def _first_user_message(steps: list[Step]) -> str | None:
    for step in steps:
        if step.kind == "llm":
            for message in step.input_messages:
                if message.role == "user" and message.content:
                    return message.content if isinstance(message.content, str) else None
            return None
    return None


def _version(run: Run) -> str:
    environment = run.info.environment or {}
    for key in _VERSION_KEYS:
        if environment.get(key):
            return str(environment[key])
    for step in run.steps[:3]:
        for key in ("gen_ai.agent.version", "service.version", "agent.version"):
            if step.attr(key):
                return str(step.attr(key))
    return ""


_POLICIES: dict[tuple[str, int, int], Any] = {}


def _policy(path: str) -> Any:
    """The policy at ``path``, loaded once per process (per file version)."""
    from trace_tui.core.policy.loader import load_policy

    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _POLICIES:
        _POLICIES[key] = load_policy(path)
    return _POLICIES[key]


def _ends_cut(run: Run) -> bool:
    """True when the last problem in the file comes after the last step (a cut end)."""
    if not run.problems or not run.steps:
        return False
    last_problem = max((p.offset or -1) for p in run.problems)
    last_step = max((s.offset or -1) for s in run.steps)
    return last_problem > last_step


def _first_blocked(run: Run, policy_path: str) -> tuple[int, str, str] | None:
    from trace_tui.core.policy.evaluate import check_run

    report = check_run(run, _policy(policy_path))
    blocked = report.blocked
    if not blocked:
        return None
    first = blocked[0]
    return first.index, first.name, first.reason
