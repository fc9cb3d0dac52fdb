"""The model of one agent run: steps (spans), their tree, messages, tool calls and usage.

A *step* is one span of the run: an agent turn, a model call (llm), a tool call, a retrieval
or anything else. Steps are numbered in the order their first record appears in the file,
which for an append-only trace is the order in which they started. That number is what the
time-travel cursor moves over ("step 7 of 40").

Every step keeps its payload as a flat ``attributes`` dict whose keys are OpenTelemetry GenAI
attribute names where one exists (``gen_ai.request.model``, ``gen_ai.input.messages``,
``gen_ai.tool.call.result`` ...). Typed accessors on :class:`Step` read them, so importers only
have to produce native records and everything above (UI, replay, diff) reads one shape.

This module knows nothing about files or the UI.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

STEP_KINDS: tuple[str, ...] = ("agent", "llm", "tool", "retrieval", "other")
STATUSES: tuple[str, ...] = ("ok", "error", "unset", "running")

# Attribute names (OpenTelemetry GenAI semantic conventions where one exists).
A_OPERATION = "gen_ai.operation.name"
A_PROVIDER = "gen_ai.provider.name"
A_REQUEST_MODEL = "gen_ai.request.model"
A_RESPONSE_MODEL = "gen_ai.response.model"
A_RESPONSE_ID = "gen_ai.response.id"
A_FINISH_REASONS = "gen_ai.response.finish_reasons"
A_SYSTEM = "gen_ai.system_instructions"
A_INPUT_MESSAGES = "gen_ai.input.messages"
A_OUTPUT_MESSAGES = "gen_ai.output.messages"
A_TOOL_DEFINITIONS = "gen_ai.tool.definitions"
A_USAGE_INPUT = "gen_ai.usage.input_tokens"
A_USAGE_OUTPUT = "gen_ai.usage.output_tokens"
A_USAGE_CACHE_READ = "gen_ai.usage.cache_read.input_tokens"
A_USAGE_CACHE_WRITE = "gen_ai.usage.cache_creation.input_tokens"
A_TOOL_NAME = "gen_ai.tool.name"
A_TOOL_CALL_ID = "gen_ai.tool.call.id"
A_TOOL_ARGUMENTS = "gen_ai.tool.call.arguments"
A_TOOL_RESULT = "gen_ai.tool.call.result"
A_RETRIEVAL_QUERY = "gen_ai.retrieval.query.text"
A_RETRIEVAL_DOCUMENTS = "gen_ai.retrieval.documents"
A_AGENT_NAME = "gen_ai.agent.name"
A_CONTEXT_WINDOW = "trace_tui.context_window"
A_CONTEXT_TRUNCATED = "trace_tui.context.truncated"

#: Model parameters a replay needs, by their attribute names.
REQUEST_PARAMETERS: tuple[str, ...] = (
    "gen_ai.request.temperature",
    "gen_ai.request.top_p",
    "gen_ai.request.top_k",
    "gen_ai.request.max_tokens",
    "gen_ai.request.seed",
    "gen_ai.request.stop_sequences",
    "gen_ai.request.frequency_penalty",
    "gen_ai.request.presence_penalty",
)


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call the model asked for: its id, the tool's name and the parsed arguments."""

    id: str | None
    name: str
    arguments: Any

    @classmethod
    def from_json(cls, data: Any) -> ToolCall:
        """Build from the native ``{"id", "name", "arguments"}`` object (lenient)."""
        if not isinstance(data, dict):
            return cls(id=None, name=str(data), arguments=None)
        call_id = data.get("id")
        return cls(
            id=str(call_id) if call_id is not None else None,
            name=str(data.get("name") or ""),
            arguments=data.get("arguments"),
        )


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message in the native shape (close to OpenAI chat, arguments as objects).

    ``content`` is text, or ``None`` for an assistant turn that only calls tools; a list of
    parts from a foreign format is kept as-is in ``parts`` and flattened to text here.
    """

    role: str
    content: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None

    @classmethod
    def from_json(cls, data: Any) -> Message:
        """Build from a native message object; anything odd becomes readable text."""
        if not isinstance(data, dict):
            return cls(role="unknown", content=_text_of(data))
        calls = data.get("tool_calls") or ()
        return cls(
            role=str(data.get("role") or "unknown"),
            content=_text_of(data.get("content")),
            tool_calls=tuple(ToolCall.from_json(c) for c in calls if c is not None)
            if isinstance(calls, list)
            else (),
            tool_call_id=_opt_str(data.get("tool_call_id")),
            name=_opt_str(data.get("name")),
        )

    def to_json(self) -> dict[str, Any]:
        """The native JSON object for this message (only the fields that are set)."""
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in self.tool_calls
            ]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            out["name"] = self.name
        return out


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage of one model call. ``None`` means not recorded, never zero by default.

    ``input_tokens`` counts the whole prompt the model read, cache reads and writes included
    (importers normalise providers that report them separately).
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None

    @property
    def total_tokens(self) -> int | None:
        """Input plus output, or ``None`` when neither is known."""
        if self.input_tokens is None and self.output_tokens is None:
            return None
        return (self.input_tokens or 0) + (self.output_tokens or 0)

    @property
    def recorded(self) -> bool:
        """True when at least one count was recorded."""
        return any(
            v is not None
            for v in (
                self.input_tokens,
                self.output_tokens,
                self.cache_read_tokens,
                self.cache_write_tokens,
            )
        )


@dataclass(slots=True)
class Step:
    """One span of the run, with its payload in ``attributes``.

    ``index`` is the 0-based step number (users see ``index + 1``). ``offset`` and ``line``
    locate the step's first record in the source file; ``source`` keeps the original foreign
    record(s) an importer built the step from, so the inspector can show both.
    """

    index: int
    span_id: str
    parent_id: str | None
    kind: str
    name: str
    start_time: float | None = None
    end_time: float | None = None
    status: str = "unset"
    error: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    offset: int | None = None
    line: int | None = None
    source: Any = None

    # ----------------------------------------------------------------- generic facts
    @property
    def number(self) -> int:
        """The 1-based step number shown to users."""
        return self.index + 1

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, when both are known (see :func:`measured_duration`)."""
        return measured_duration(self.start_time, self.end_time)

    @property
    def is_error(self) -> bool:
        """True when the span failed or a tool reported an error result."""
        return self.status == "error"

    def attr(self, name: str, default: Any = None) -> Any:
        """One attribute by its (OpenTelemetry) name."""
        return self.attributes.get(name, default)

    # ----------------------------------------------------------------- llm steps
    @property
    def model(self) -> str | None:
        """The model that answered (response model, else the requested one)."""
        value = self.attributes.get(A_RESPONSE_MODEL) or self.attributes.get(A_REQUEST_MODEL)
        return str(value) if value else None

    @property
    def system_prompt(self) -> str | None:
        """The system prompt text sent with this model call, if recorded."""
        value = self.attributes.get(A_SYSTEM)
        return _text_of(value) if value is not None else None

    @property
    def input_messages(self) -> list[Message]:
        """The messages sent to the model (system prompt excluded; see ``system_prompt``)."""
        return _messages(self.attributes.get(A_INPUT_MESSAGES))

    @property
    def output_messages(self) -> list[Message]:
        """What the model answered (usually one assistant message)."""
        return _messages(self.attributes.get(A_OUTPUT_MESSAGES))

    @property
    def output_tool_calls(self) -> list[ToolCall]:
        """Tool calls the model asked for in this step's response."""
        return [call for msg in self.output_messages for call in msg.tool_calls]

    @property
    def tool_definitions(self) -> list[dict[str, Any]]:
        """Tool schemas offered to the model."""
        value = self.attributes.get(A_TOOL_DEFINITIONS)
        return [t for t in value if isinstance(t, dict)] if isinstance(value, list) else []

    @property
    def parameters(self) -> dict[str, Any]:
        """Model parameters recorded for this call, keyed by short name (``temperature``)."""
        return {
            name.rsplit(".", 1)[1]: self.attributes[name]
            for name in REQUEST_PARAMETERS
            if name in self.attributes
        }

    @property
    def usage(self) -> Usage | None:
        """Token usage when any count was recorded, else ``None``."""
        usage = Usage(
            input_tokens=_opt_int(self.attributes.get(A_USAGE_INPUT)),
            output_tokens=_opt_int(self.attributes.get(A_USAGE_OUTPUT)),
            cache_read_tokens=_opt_int(self.attributes.get(A_USAGE_CACHE_READ)),
            cache_write_tokens=_opt_int(self.attributes.get(A_USAGE_CACHE_WRITE)),
        )
        return usage if usage.recorded else None

    # ----------------------------------------------------------------- tool steps
    @property
    def tool_name(self) -> str | None:
        """Name of the tool this step ran."""
        value = self.attributes.get(A_TOOL_NAME)
        return str(value) if value is not None else None

    @property
    def tool_call_id(self) -> str | None:
        """The call id linking this tool step to the model's request for it."""
        value = self.attributes.get(A_TOOL_CALL_ID)
        return str(value) if value is not None else None

    @property
    def tool_arguments(self) -> Any:
        """The arguments the tool was called with (parsed JSON)."""
        return self.attributes.get(A_TOOL_ARGUMENTS)

    @property
    def tool_result(self) -> Any:
        """The result exactly as the tool returned it (error results too)."""
        return self.attributes.get(A_TOOL_RESULT)

    # ----------------------------------------------------------------- retrieval
    @property
    def retrieval_query(self) -> str | None:
        """The retrieval query text."""
        value = self.attributes.get(A_RETRIEVAL_QUERY)
        return _text_of(value) if value is not None else None

    @property
    def documents(self) -> list[dict[str, Any]]:
        """Documents a retrieval returned (``id``, ``score``, ``content``)."""
        value = self.attributes.get(A_RETRIEVAL_DOCUMENTS)
        return [d for d in value if isinstance(d, dict)] if isinstance(value, list) else []


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
        ancestors = {parent.span_id}
        up = self.parent_of(parent)
        while up is not None and up.span_id not in ancestors:
            ancestors.add(up.span_id)
            up = self.parent_of(up)
        adopted = [o for o in orphans if o.span_id not in ancestors]  # never close a cycle
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
        depth, seen = 0, {step.span_id}
        parent = self.parent_of(step)
        while parent is not None and parent.span_id not in seen:
            seen.add(parent.span_id)
            depth += 1
            parent = self.parent_of(parent)
        return depth

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


def measured_duration(start: float | None, end: float | None) -> float | None:
    """Seconds from ``start`` to ``end``; ``None`` when either is unknown, or when they are the
    same instant: a record with one timestamp (a Claude Code line, an OpenHands event) says
    when something happened, not how long it took, and 0 ms would be a measurement."""
    if start is None or end is None or end == start:
        return None
    return max(0.0, end - start)


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _text_of(value: Any) -> str | None:
    """Flatten content to text: strings as-is, lists of parts joined, other JSON as JSON."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        pieces: list[str] = []
        for part in value:
            if isinstance(part, str):
                pieces.append(part)
            elif isinstance(part, dict):
                text = part.get("text", part.get("content"))
                pieces.append(text if isinstance(text, str) else _json_text(part))
            else:
                pieces.append(_json_text(part))
        return "\n".join(pieces)
    return _json_text(value)


def _json_text(value: Any) -> str:
    import json

    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def _messages(value: Any) -> list[Message]:
    return [Message.from_json(m) for m in value] if isinstance(value, list) else []
