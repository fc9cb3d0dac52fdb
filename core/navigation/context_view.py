"""The run as it stood at step N, read through :class:`RunView` without touching other steps.

:func:`trace_tui.core.navigation.state.state_at` answers the same question for an in-memory
:class:`~trace_tui.core.model.run.Run` by slicing its step list, which is fine for small runs and
too slow on every key press of a million-step run. :func:`context_at` builds the same
:class:`~trace_tui.core.navigation.state.RunState` from indices found beforehand (the latest model
call
at or before N, the tool calls after it), loading only those steps.

``usage_so_far`` is left empty here: summing a million rows per key press is what this module
avoids (the gauge shows peaks from :class:`~trace_tui.core.navigation.run_facts.RunFacts` instead).
"""

from __future__ import annotations

from collections.abc import Sequence

from trace_tui.core.model.run import Message, RunView, Step
from trace_tui.core.navigation.state import RunState


def context_at(
    run: RunView, index: int, llm_index: int | None, tool_indices: Sequence[int] = ()
) -> RunState:
    """What the model had seen at step ``index``: its latest call's input, output and results.

    ``llm_index`` is the latest model call at or before ``index`` (or ``None``);
    ``tool_indices`` are the tool steps after that call, up to ``index``.
    """
    step = run.step(index)
    llm = run.step(llm_index) if llm_index is not None else None
    messages: list[Message] = []
    system = None
    if llm is not None:
        system = llm.system_prompt
        messages = llm.input_messages + llm.output_messages
    tools = [run.step(i) for i in tool_indices if llm_index is None or i > llm_index]
    finished = [t for t in tools if t.status != "running"]
    messages += [
        Message(role="tool", content=tool_result_text(t), tool_call_id=t.tool_call_id,
                name=t.tool_name)
        for t in finished
    ]
    return RunState(
        index=index,
        step=step,
        llm_step=llm,
        system_prompt=system,
        messages=messages,
        tool_results=finished,
    )


def tool_result_text(step: Step) -> str | None:
    """A tool step's result as the model would read it (text, or JSON text)."""
    result = step.tool_result
    if result is None and step.error:
        return step.error
    if result is None or isinstance(result, str):
        return result
    return Message.from_json({"role": "tool", "content": result}).content
