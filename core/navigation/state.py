"""The run as it stood at step N: what the model had seen, and how full its window was.

"State at step N" is what time travel shows: the conversation as the latest model call up to
N saw it (system prompt, input messages), what it answered, and the tool results that came
back after it up to N. Nothing after step N is visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trace_tui.core.model.context_windows import ContextWindow, ContextWindowTable
from trace_tui.core.model.run import A_CONTEXT_WINDOW, Message, Run, RunView, Step, Usage


@dataclass(frozen=True, slots=True)
class RunState:
    """The run at one step (0-based ``index``)."""

    index: int
    step: Step
    llm_step: Step | None
    system_prompt: str | None
    messages: list[Message] = field(default_factory=list)
    tool_results: list[Step] = field(default_factory=list)
    usage_so_far: Usage = field(default_factory=Usage)

    @property
    def step_count(self) -> int:
        """How many steps had started by this point."""
        return self.index + 1


def state_at(run: Run, index: int) -> RunState:
    """The state of ``run`` at the step with 0-based ``index`` (clamped to the run)."""
    if not run.steps:
        raise IndexError("the run has no steps")
    index = max(0, min(index, len(run.steps) - 1))
    visible = run.steps[: index + 1]
    llm = next((s for s in reversed(visible) if s.kind == "llm"), None)
    messages: list[Message] = []
    system = None
    if llm is not None:
        system = llm.system_prompt
        messages = llm.input_messages + llm.output_messages
    later_tools = [s for s in visible if s.kind == "tool" and (llm is None or s.index > llm.index)]
    messages += [
        Message(
            role="tool",
            content=_result_text(s),
            tool_call_id=s.tool_call_id,
            name=s.tool_name,
        )
        for s in later_tools
        if s.status != "running"
    ]
    tool_results = [s for s in visible if s.kind == "tool" and s.status != "running"]
    return RunState(
        index=index,
        step=run.steps[index],
        llm_step=llm,
        system_prompt=system,
        messages=messages,
        tool_results=tool_results,
        usage_so_far=_usage_of(visible),
    )


def context_window_for(
    run: RunView, step: Step, table: ContextWindowTable
) -> ContextWindow | None:
    """The context window of the model behind ``step`` (``None`` when unknown)."""
    own = step.attr(A_CONTEXT_WINDOW)
    if isinstance(own, int) and not isinstance(own, bool) and own > 0:
        return ContextWindow(own, "step")
    return table.lookup(step.model, trace=run.info.context_windows)


def _usage_of(steps: list[Step]) -> Usage:
    partial = Run()
    partial.steps = steps
    return partial.token_totals()


def _result_text(step: Step) -> str | None:
    result = step.tool_result
    if result is None and step.error:
        return step.error
    if result is None or isinstance(result, str):
        return result
    return Message.from_json({"role": "tool", "content": result}).content
