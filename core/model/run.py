"""The model of one agent run: its steps in order, their tree, and the run-level records.

Steps are numbered in the order their first record appears in the file, which for an
append-only trace is the order in which they started. That number is what the time-travel
cursor moves over ("step 7 of 40"). :class:`Run` holds the steps with lookups by id and the
span tree; :class:`RunView` is the read-only face every reader offers (a whole :class:`Run` or
an index over a huge file); :class:`StepRow` is the light facts of one step.

A step itself (:class:`Step`, its messages, tool calls and usage, and the attribute names) is
in :mod:`trace_tui.core.model.step`; everything there is re-exported here, so
``from trace_tui.core.model.run import Step`` keeps working. This module knows nothing about
files or the UI.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from trace_tui.core.model import tree
from trace_tui.core.model.step import (
    A_AGENT_NAME,
    A_CONTEXT_TRUNCATED,
    A_CONTEXT_WINDOW,
    A_FINISH_REASONS,
    A_INPUT_MESSAGES,
    A_OPERATION,
    A_OUTPUT_MESSAGES,
    A_PROVIDER,
    A_REQUEST_MODEL,
    A_RESPONSE_ID,
    A_RESPONSE_MODEL,
    A_RETRIEVAL_DOCUMENTS,
    A_RETRIEVAL_QUERY,
    A_SYSTEM,
    A_TOOL_ARGUMENTS,
    A_TOOL_CALL_ID,
    A_TOOL_DEFINITIONS,
    A_TOOL_NAME,
    A_TOOL_RESULT,
    A_USAGE_CACHE_READ,
    A_USAGE_CACHE_WRITE,
    A_USAGE_INPUT,
    A_USAGE_OUTPUT,
    REQUEST_PARAMETERS,
    STATUSES,
    STEP_KINDS,
    Message,
    Step,
    ToolCall,
    Usage,
    measured_duration,
)

__all__ = [
    "A_AGENT_NAME",
    "A_CONTEXT_TRUNCATED",
    "A_CONTEXT_WINDOW",
    "A_FINISH_REASONS",
    "A_INPUT_MESSAGES",
    "A_OPERATION",
    "A_OUTPUT_MESSAGES",
    "A_PROVIDER",
    "A_REQUEST_MODEL",
    "A_RESPONSE_ID",
    "A_RESPONSE_MODEL",
    "A_RETRIEVAL_DOCUMENTS",
    "A_RETRIEVAL_QUERY",
    "A_SYSTEM",
    "A_TOOL_ARGUMENTS",
    "A_TOOL_CALL_ID",
    "A_TOOL_DEFINITIONS",
    "A_TOOL_NAME",
    "A_TOOL_RESULT",
    "A_USAGE_CACHE_READ",
    "A_USAGE_CACHE_WRITE",
    "A_USAGE_INPUT",
    "A_USAGE_OUTPUT",
    "BranchInfo",
    "Message",
    "Problem",
    "REQUEST_PARAMETERS",
    "Run",
    "RunInfo",
    "RunView",
    "STATUSES",
    "STEP_KINDS",
    "Step",
    "StepRow",
    "ToolCall",
    "TreeRow",
    "Usage",
    "measured_duration",
]


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Facts about the whole run from its ``run`` record (all optional)."""

    run_id: str | None = None
    session_id: str | None = None
    trace_id: str | None = None
    name: str | None = None
    started_at: float | None = None
    environment: dict[str, Any] = field(default_factory=dict)
    context_windows: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BranchInfo:
    """This run forks another: parent run, fork step and the edits applied there."""

    parent_run_id: str | None
    parent_path: str | None
    fork_step: int
    edits: tuple[dict[str, Any], ...]
    sources: dict[str, Any]
    name: str | None = None
    created_at: float | None = None
    status: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Something in the file that could not be used as-is: a corrupt line, a schema break."""

    line: int | None
    offset: int | None
    message: str
    preview: str = ""


@dataclass(frozen=True, slots=True)
class StepRow:
    """The light facts of one step that lists, the tree and the timeline draw.

    A reader of a huge file keeps only these per step (or less, in columns) and loads the full
    :class:`Step` with its payload on demand. ``parent_index`` is ``-1`` for a root.
    """

    index: int
    kind: str
    name: str
    depth: int
    parent_index: int
    status: str
    start_time: float | None
    end_time: float | None
    input_tokens: int | None
    output_tokens: int | None

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, when both are known (see :func:`measured_duration`)."""
        return measured_duration(self.start_time, self.end_time)


class RunView(Protocol):
    """What every consumer of a run reads: the in-memory :class:`Run` and indexed readers.

    Steps are addressed by 0-based index in start order; ``row`` is cheap, ``step`` may parse
    the payload on demand. ``version`` changes whenever steps are added or updated.
    """

    info: RunInfo
    path: str | None
    format_name: str
    branch: BranchInfo | None

    @property
    def problems(self) -> list[Problem]:
        """Problems met while reading (read-only here: an indexed run computes its list)."""
        ...

    def __len__(self) -> int: ...

    def step(self, index: int) -> Step: ...

    def row(self, index: int) -> StepRow: ...

    @property
    def version(self) -> int: ...


@dataclass(slots=True)
class TreeRow:
    """One row of the flattened span tree: the step and its depth."""

    step: Step
    depth: int


class Run:
    """A run's steps in start order, with lookups by id, the tree and per-step state.

    Runs grow: a reader calls :meth:`add_step` and :meth:`update_step` as records arrive
    (live tail), and everything else reads through the methods below.
    """

    def __init__(
        self,
        info: RunInfo | None = None,
        *,
        path: str | None = None,
        format_name: str = "native",
    ) -> None:
        self.info = info or RunInfo()
        self.path = path
        self.format_name = format_name
        self.branch: BranchInfo | None = None
        self.problems: list[Problem] = []
        self.steps: list[Step] = []
        self._by_id: dict[str, Step] = {}
        self._children: dict[str | None, list[Step]] = {}
        self._depths: list[int] = []
        self._waiting: dict[str, list[Step]] = {}
        self._version = 0

    # ----------------------------------------------------------------- building
    def add_step(self, step: Step) -> Step:
        """Append a new step (its ``index`` is set here) and link it into the tree.

        A step whose parent has not arrived yet hangs at the root until it does (exporters
        such as OpenTelemetry's write children before their parents); then it is adopted.
        """
        step.index = len(self.steps)
        parent = self._tree_parent(step)
        self._depths.append(self._depths[self._by_id[parent].index] + 1 if parent else 0)
        self.steps.append(step)
        self._by_id[step.span_id] = step
        self._children.setdefault(parent, []).append(step)
        if step.parent_id and parent is None:
            self._waiting.setdefault(step.parent_id, []).append(step)
        self._adopt_waiting(step)
        self._version += 1
        return step

    def reorder(self, order: Sequence[int]) -> None:
        """Put the steps in ``order`` (file positions in display order, from
        :func:`~trace_tui.core.navigation.run_order.run_order`): indexes, tree and depths
        follow. For a run read whole; a live view maps positions instead."""
        steps = [self.steps[i] for i in order]
        self.steps, self._by_id, self._children, self._depths = [], {}, {}, []
        self._waiting = {}
        for step in steps:
            self.add_step(step)

    def _adopt_waiting(self, parent: Step) -> None:
        orphans = self._waiting.pop(parent.span_id, [])
        above = tree.ancestors(parent.span_id, self._parent_id)
        adopted = [o for o in orphans if o.span_id not in above]  # never close a cycle
        if not adopted:
            return
        moved = {o.span_id for o in adopted}
        self._children[None] = [c for c in self._children[None] if c.span_id not in moved]
        children = self._children.setdefault(parent.span_id, [])
        children.extend(adopted)
        children.sort(key=lambda c: c.index)
        stack = list(adopted)
        while stack:
            child = stack.pop()
            self._depths[child.index] = self._depths[self._by_id[child.parent_id].index] + 1  # type: ignore[index]
            stack.extend(self._children.get(child.span_id, ()))

    def touch(self) -> None:
        """Note that a step changed in place (a span's end record arrived)."""
        self._version += 1

    @property
    def version(self) -> int:
        """Changes whenever a step is added or updated."""
        return self._version

    def _tree_parent(self, step: Step) -> str | None:
        """The parent id used in the tree: orphans (parent never seen yet) hang at the root."""
        return step.parent_id if step.parent_id in self._by_id else None

    # ----------------------------------------------------------------- lookups
    def __len__(self) -> int:
        return len(self.steps)

    def step(self, index: int) -> Step:
        """The step at a 0-based index."""
        return self.steps[index]

    def row(self, index: int) -> StepRow:
        """The light facts of the step at ``index`` (see :class:`StepRow`)."""
        step = self.steps[index]
        parent = self.parent_of(step)
        usage = step.usage
        return StepRow(
            index=index,
            kind=step.kind,
            name=step.name,
            depth=self._depths[index],
            parent_index=parent.index if parent is not None else -1,
            status=step.status,
            start_time=step.start_time,
            end_time=step.end_time,
            input_tokens=usage.input_tokens if usage else None,
            output_tokens=usage.output_tokens if usage else None,
        )

    def step_by_id(self, span_id: str) -> Step | None:
        """The step with this span id, or ``None``."""
        return self._by_id.get(span_id)

    def parent_of(self, step: Step) -> Step | None:
        """The parent step, or ``None`` for a root."""
        return self._by_id.get(step.parent_id) if step.parent_id else None

    def children_of(self, step: Step | None) -> list[Step]:
        """Children in start order; ``None`` gives the roots."""
        key = None if step is None else step.span_id
        return list(self._children.get(key, ()))

    def roots(self) -> list[Step]:
        """Top-level steps (no parent, or a parent that is not in this file)."""
        return self.children_of(None)

    def depth_of(self, step: Step) -> int:
        """How many ancestors the step has in this file."""
        return tree.depth(step.span_id, self._parent_id)

    def _parent_id(self, span_id: str) -> str | None:
        """The id of the step's parent when that step is in this file (else ``None``)."""
        step = self._by_id.get(span_id)
        parent = step.parent_id if step is not None else None
        return parent if parent is not None and parent in self._by_id else None

    def tree_rows(self) -> Iterator[TreeRow]:
        """Depth-first rows of the span tree, children in start order."""
        stack: list[tuple[Step, int]] = [(s, 0) for s in reversed(self.roots())]
        seen: set[str] = set()
        while stack:
            step, depth = stack.pop()
            if step.span_id in seen:
                continue
            seen.add(step.span_id)
            yield TreeRow(step, depth)
            stack.extend((c, depth + 1) for c in reversed(self._children.get(step.span_id, ())))

    def max_depth(self) -> int:
        """The deepest nesting level in the tree (0 when every step is a root)."""
        return max((row.depth for row in self.tree_rows()), default=0)

    def steps_of_kind(self, kind: str) -> list[Step]:
        """All steps of one kind, in start order."""
        return [s for s in self.steps if s.kind == kind]

    def errors(self) -> list[Step]:
        """Steps that failed, in start order."""
        return [s for s in self.steps if s.is_error]

    def first_error(self) -> Step | None:
        """The first failed step, or ``None``."""
        return next((s for s in self.steps if s.is_error), None)

    def tool_step_for_call(self, call_id: str) -> Step | None:
        """The tool step that ran a given tool-call id."""
        return next((s for s in self.steps if s.kind == "tool" and s.tool_call_id == call_id), None)

    # ----------------------------------------------------------------- totals
    def token_totals(self) -> Usage:
        """Summed usage over the llm steps that recorded it (``None`` fields stay unknown)."""
        sums: dict[str, int | None] = dict.fromkeys(
            ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
        )
        for step in self.steps:
            usage = step.usage if step.kind == "llm" else None
            if usage is None:
                continue
            for key in sums:
                value = getattr(usage, key)
                if value is not None:
                    sums[key] = (sums[key] or 0) + value
        return Usage(**sums)
