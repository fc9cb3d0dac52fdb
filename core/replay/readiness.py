"""Can this run be replayed? What a fork would lack, said before the user forks.

Replay rebuilds each model call from what the trace recorded and answers tool calls from
recorded results. It needs message content, tool schemas, tool results and model parameters;
a system prompt is needed whenever the run had one. :func:`readiness` lists what is missing,
per kind, with the steps concerned, so ``show``, the screen and ``fork`` tell the same story.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trace_tui.core.model.run import A_INPUT_MESSAGES, A_OUTPUT_MESSAGES, Run
from trace_tui.core.model.tool_join import unanswered_calls

#: The facts replay needs, by key, with the sentence shown when one is missing.
NEEDS: dict[str, str] = {
    "message_content": "no message content (model inputs or outputs were not recorded)",
    "system_prompt": "no system prompt recorded",
    "tool_schemas": "no tool schemas (the tools offered to the model were not recorded)",
    "tool_results": "no tool results for some tool calls",
    "model_parameters": "no model parameters (temperature, max_tokens, ...)",
}


@dataclass(frozen=True, slots=True)
class Gap:
    """One missing fact: its key, a sentence, and the 1-based steps it concerns."""

    key: str
    message: str
    steps: tuple[int, ...] = ()

    def describe(self, limit: int = 6) -> str:
        """The sentence with the first few step numbers."""
        if not self.steps:
            return self.message
        shown = ", ".join(map(str, self.steps[:limit]))
        more = f" and {len(self.steps) - limit} more" if len(self.steps) > limit else ""
        label = "step" if len(self.steps) == 1 else "steps"
        return f"{self.message} ({label} {shown}{more})"


@dataclass(frozen=True, slots=True)
class Readiness:
    """What a replay of the run would lack; ``ready`` when nothing blocks it.

    ``blocking`` gaps make replay impossible (no content, no tool results); ``warnings`` make
    it less faithful (no parameters, no schemas) but possible.
    """

    blocking: tuple[Gap, ...] = field(default=())
    warnings: tuple[Gap, ...] = field(default=())

    @property
    def ready(self) -> bool:
        """True when replay can run."""
        return not self.blocking

    def summary(self) -> str:
        """One line for ``show`` and the status bar."""
        if not self.blocking and not self.warnings:
            return "replay-ready"
        parts = [g.describe(3) for g in self.blocking + self.warnings]
        head = "replay-ready, but" if self.ready else "not replayable:"
        return f"{head} {'; '.join(parts)}"


def readiness(run: Run) -> Readiness:
    """Check the recorded run for everything a replay needs."""
    # A call still running (live tail) or waiting for an answer (a stopped branch) has no
    # output yet by design: that is not a gap in the recording.
    llm = [
        s
        for s in run.steps_of_kind("llm")
        if s.status != "running" and not s.attr("trace_tui.replay.pending")
    ]
    blocking: list[Gap] = []
    warnings: list[Gap] = []
    if not llm:
        return Readiness(blocking=(Gap("message_content", "no model calls in the run"),))
    no_content = tuple(
        s.number
        for s in llm
        if A_INPUT_MESSAGES not in s.attributes or A_OUTPUT_MESSAGES not in s.attributes
    )
    if no_content:
        blocking.append(Gap("message_content", NEEDS["message_content"], no_content))
    called = [(s, call) for s in llm for call in s.output_tool_calls]
    # results joined to calls by id, by the next request's tool message, or by order within
    # the parent (:mod:`~trace_tui.core.model.tool_join`): the same join replay uses
    # A call the run ended on (no later model call in its turn, like a final-answer tool)
    # needs no result: no recorded request is built from it.
    live = {s.index for s in llm}
    last_llm: dict[str | None, int] = {s.parent_id: s.index for s in llm}
    missing = tuple(
        sorted(
            {
                j.llm + 1
                for j in unanswered_calls(run)
                if j.llm in live and last_llm[run.steps[j.llm].parent_id] > j.llm
            }
        )
    )
    if missing:
        blocking.append(Gap("tool_results", NEEDS["tool_results"], missing))
    if called and not any(s.tool_definitions for s in llm):
        warnings.append(Gap("tool_schemas", NEEDS["tool_schemas"]))
    if not any(s.system_prompt for s in llm):
        warnings.append(Gap("system_prompt", NEEDS["system_prompt"]))
    no_params = tuple(s.number for s in llm if not s.parameters)
    if no_params:
        warnings.append(Gap("model_parameters", NEEDS["model_parameters"], no_params))
    return Readiness(tuple(blocking), tuple(warnings))
