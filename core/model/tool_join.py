"""Join each tool call a model made to its result, by what the trace does record.

Formats link a call to its result in different ways, and some not at all on the tool step:

1. **By id.** The tool step carries the call's id (``gen_ai.tool.call.id``): OTel GenAI, the
   native format, Claude Code, Codex, Inspect.
2. **By the next request.** OpenInference instrumentations of agent frameworks (the OpenAI
   Agents SDK, LangChain/LangGraph) put no id on tool spans; the model call that follows has the
   result as a ``role: "tool"`` message with the ``tool_call_id``. The result is recorded there
   even when no tool step is.
3. **By order within the parent.** A tool step without an id is paired with the first call of
   the same tool, not yet joined, made by an earlier model call in the same agent turn (the
   model step's parent, or the model step itself), in order.

:func:`join_tool_calls` returns one :class:`ToolJoin` per call; readiness
(:mod:`trace_tui.core.replay.readiness`), replay and the views use it, so they agree on which
calls were answered.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from trace_tui.core.model.run import A_TOOL_RESULT, Run, Step

BY_ID, BY_NEXT_REQUEST, BY_ORDER = "id", "next-request", "order"


@dataclass(frozen=True, slots=True)
class ToolJoin:
    """One tool call and where its result is: the tool step and/or a later request.

    ``llm`` is the 0-based index of the model step that made the call; ``tool`` the tool
    step's index (``None`` when no tool step was joined); ``request`` the index of the first
    later model step whose input holds the result as a tool message; ``how`` the rule that
    joined the tool step (``id``, ``order``) or ``next-request`` when only a request did.
    """

    call_id: str | None
    name: str
    llm: int
    tool: int | None
    request: int | None
    how: str | None

    def answered(self, run: Run) -> bool:
        """Whether the result (or the failure) is recorded anywhere."""
        if self.request is not None:
            return True
        if self.tool is None:
            return False
        step = run.steps[self.tool]
        return A_TOOL_RESULT in step.attributes or step.status == "error"


def _is_tool(step: Step) -> bool:
    return step.kind == "tool" or (step.kind != "llm" and step.tool_name is not None)


def join_tool_calls(run: Run) -> list[ToolJoin]:
    """Every tool call of every model step, joined to its result (see the module doc)."""
    steps = run.steps
    by_id: dict[str, int] = {}
    loose: list[int] = []  # tool steps without a call id, in file order
    for step in steps:
        if not _is_tool(step):
            continue
        if step.tool_call_id:
            by_id.setdefault(step.tool_call_id, step.index)
        else:
            loose.append(step.index)
    in_request = _results_in_requests(steps)
    calls = [(s, c) for s in steps if s.kind == "llm" for c in s.output_tool_calls]
    taken: set[int] = set()
    joins: list[ToolJoin] = []
    waiting: dict[tuple[str | None, str], list[int]] = defaultdict(list)
    for n, (llm, call) in enumerate(calls):
        tool = by_id.get(call.id) if call.id else None
        how = BY_ID if tool is not None else None
        later = in_request.get(call.id, []) if call.id else []
        request = next((i for i in later if i > llm.index), None)
        joins.append(ToolJoin(call.id, call.name, llm.index, tool, request, how))
        if tool is None:
            waiting[(llm.parent_id, call.name)].append(n)
            waiting[(llm.span_id, call.name)].append(n)
    for index in loose:
        step = steps[index]
        name = step.tool_name or step.name
        queue = waiting.get((step.parent_id, name), [])
        while queue and (joins[queue[0]].tool is not None or queue[0] in taken):
            queue.pop(0)
        if not queue or joins[queue[0]].llm > index:
            continue
        n = queue.pop(0)
        taken.add(n)
        j = joins[n]
        joins[n] = ToolJoin(j.call_id, j.name, j.llm, index, j.request, BY_ORDER)
    return [j if j.tool is not None or j.request is None else _by_request(j) for j in joins]


def _by_request(join: ToolJoin) -> ToolJoin:
    return ToolJoin(join.call_id, join.name, join.llm, None, join.request, BY_NEXT_REQUEST)


def _results_in_requests(steps: list[Step]) -> dict[str, list[int]]:
    """Call id → indexes of the model steps whose input has that call's tool message."""
    out: dict[str, list[int]] = defaultdict(list)
    for step in steps:
        if step.kind != "llm":
            continue
        for message in step.input_messages:
            if message.role == "tool" and message.tool_call_id:
                out[message.tool_call_id].append(step.index)
    return out


def call_ids_of_tool_steps(run: Run) -> dict[int, str]:
    """Tool step index → the id of the call it answers, where a join found one."""
    return {j.tool: j.call_id for j in join_tool_calls(run) if j.tool is not None and j.call_id}


def unanswered_calls(run: Run) -> list[ToolJoin]:
    """The calls whose result is recorded nowhere (not on a tool step, not in a request)."""
    return [j for j in join_tool_calls(run) if not j.answered(run)]
