"""What happened in one run, decided from explicit signals in the trace, never from guesses.

Rules, in order; the first that matches is the run's outcome (``docs/triage.md`` documents
each with the fields it reads):

1. ``cut_short``: the trace ends while the run is still going: its root span never ended, or
   the file ends in a cut or corrupt record after the last step.
2. ``context_overflow``: a model call's context was truncated or evicted (the
   ``trace_tui.context.truncated`` flag importers and agents set, a model call without the
   system prompt an earlier call had, or input tokens at or over the model's known window), or
   a model call failed with a context-length error.
3. ``loop``: the run stopped at an iteration limit (an error naming ``max_iterations``, max
   turns or a recursion limit) or repeated the same tool call with the same arguments and the
   same result three or more times in a row (no progress).
4. ``empty_retrieval``: a retrieval returned no documents (or a search-like tool an empty
   result) and a later model call answered the user without retrieving again.
5. ``tool_error``: a tool or retrieval step failed.
6. ``model_refusal``: a model call ended with a refusal (``finish_reason`` ``content_filter`` or
   ``refusal``, or a refusal content part).
7. ``error``: any other failed step (a model call's API error, the agent span's error).
8. ``policy_blocked``: with a policy, a step the policy blocks (checked after the run's own
   failures: a blocked step in an otherwise clean run).
9. ``completed``: none of the above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from trace_tui.core.model.context_windows import ContextWindowTable
from trace_tui.core.model.run import RunView, Step

COMPLETED = "completed"
OUTCOMES: tuple[str, ...] = ("cut_short", "context_overflow", "loop", "empty_retrieval",
                             "tool_error", "model_refusal", "error", "policy_blocked", COMPLETED)
DESCRIPTIONS = {
    "cut_short": "crashed or cut short",
    "context_overflow": "context window overflow or eviction",
    "loop": "max iterations or loop without progress",
    "empty_retrieval": "empty retrieval answered anyway",
    "tool_error": "tool error",
    "model_refusal": "model refusal",
    "error": "other error",
    "policy_blocked": "blocked by policy",
    COMPLETED: "completed",
}
#: Short labels for narrow tables.
SHORT = {
    "cut_short": "cut short", "context_overflow": "context overflow", "loop": "loop",
    "empty_retrieval": "empty retrieval", "tool_error": "tool error",
    "model_refusal": "refusal", "error": "error", "policy_blocked": "policy blocked",
    COMPLETED: "completed",
}
LOOP_REPEATS = 3
_ITERATION_LIMIT = re.compile(
    r"max[_ ]?iterations?|max(?:imum)?[_ ]turns?|recursion[_ ]limit|iteration limit", re.I)
_CONTEXT_ERROR = re.compile(
    r"context[_ ]length|maximum context|context window|prompt is too long|too many tokens", re.I)
_REFUSAL_REASONS = {"content_filter", "refusal"}
_SEARCH_TOOL = re.compile(r"search|retriev|lookup_docs|query_kb|find_doc", re.I)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A run's outcome: its kind, the step that shows it (0-based, or None) and what failed."""

    kind: str
    step: int | None = None
    tool: str = ""
    error: str = ""
    detail: str = ""

    @property
    def failed(self) -> bool:
        """True for every outcome but ``completed``."""
        return self.kind != COMPLETED


def classify(run: RunView, *, blocked_step: tuple[int, str, str] | None = None,
             windows: ContextWindowTable | None = None, cut: bool = False) -> Outcome:
    """The outcome of ``run`` (see module doc).

    ``blocked_step`` is the first step a policy blocked, as (index, tool, reason); ``cut`` says
    the file ended in a cut or corrupt record after the last step.
    """
    steps = [run.step(i) for i in range(len(run))]
    context = _Context(windows or ContextWindowTable(), dict(run.info.context_windows), cut)
    for rule in (_cut_short, _context_overflow, _loop, _empty_retrieval, _tool_error,
                 _model_refusal, _other_error):
        found = rule(steps, context)
        if found is not None:
            return found
    if blocked_step is not None:
        index, tool, reason = blocked_step
        return Outcome("policy_blocked", index, tool, reason)
    return Outcome(COMPLETED)


@dataclass(frozen=True, slots=True)
class _Context:
    windows: ContextWindowTable
    trace_windows: dict[str, int]
    cut: bool


def _cut_short(steps: list[Step], context: _Context) -> Outcome | None:
    if not steps:
        return Outcome("cut_short", None, "", "", "the trace has no steps")
    roots = [s for s in steps if s.parent_id is None or s.parent_id not in _ids(steps)]
    unfinished = [s for s in roots if s.status == "running"]
    if unfinished:
        last = steps[-1]
        return Outcome("cut_short", last.index, last.tool_name or "", "",
                       f"{unfinished[0].name} never ended")
    if context.cut:
        last = steps[-1]
        return Outcome("cut_short", last.index, "", "", "the file ends in a cut record")
    return None


def _ids(steps: list[Step]) -> set[str]:
    return {s.span_id for s in steps}


def _context_overflow(steps: list[Step], context: _Context) -> Outcome | None:
    had_system = False
    for step in steps:
        if step.kind != "llm":
            continue
        if step.attr("trace_tui.context.truncated") is True:
            return Outcome("context_overflow", step.index, "", "",
                           "the context was truncated before this call")
        if step.is_error and step.error and _CONTEXT_ERROR.search(step.error):
            return Outcome("context_overflow", step.index, "", error_type(step.error),
                           step.error)
        system = step.system_prompt
        if system is not None:
            had_system = True
        elif had_system and step.attr("gen_ai.system_instructions", None) is None \
                and "gen_ai.input.messages" in step.attributes:
            return Outcome("context_overflow", step.index, "", "",
                           "the system prompt earlier calls had was not sent")
        usage = step.usage
        known = (context.windows.lookup(step.model, trace=context.trace_windows)
                 if step.model else None)
        window = known.tokens if known is not None else None
        if usage and usage.input_tokens and window and usage.input_tokens >= window:
            return Outcome("context_overflow", step.index, "", "",
                           f"{usage.input_tokens} input tokens fill the {window}-token window")
    return None


def _loop(steps: list[Step], context: _Context) -> Outcome | None:
    streak_start = _repeated_calls(steps)
    for step in steps:
        if step.is_error and step.error and _ITERATION_LIMIT.search(step.error):
            where = streak_start if streak_start is not None else step
            return Outcome("loop", where.index, where.tool_name or "", error_type(step.error),
                           step.error)
    if streak_start is not None:
        name = streak_start.tool_name or streak_start.name
        return Outcome("loop", streak_start.index, name, "",
                       f"{name} called {LOOP_REPEATS}× or more in a row with the same arguments "
                       "and result")
    return None


def _repeated_calls(steps: list[Step]) -> Step | None:
    """The first of ``LOOP_REPEATS`` identical calls in a row with identical results."""
    calls = [s for s in steps if s.kind in ("tool", "retrieval")]
    streak = 1
    for position in range(1, len(calls)):
        before, after = calls[position - 1], calls[position]
        same = (before.tool_name == after.tool_name
                and before.tool_arguments == after.tool_arguments
                and before.tool_result == after.tool_result)
        streak = streak + 1 if same else 1
        if streak >= LOOP_REPEATS:
            return calls[position - streak + 1]
    return None


def _empty_retrieval(steps: list[Step], context: _Context) -> Outcome | None:
    for position, step in enumerate(steps):
        if not _is_empty_retrieval(step):
            continue
        for later in steps[position + 1:]:
            if later.kind in ("retrieval",) or (later.kind == "tool" and _is_search(later)):
                break
            if later.kind == "llm" and not later.output_tool_calls and later.output_messages:
                return Outcome("empty_retrieval", step.index, step.tool_name or step.name, "",
                               "the model answered after a retrieval found nothing")
    return None


def _is_search(step: Step) -> bool:
    return bool(_SEARCH_TOOL.search(step.tool_name or step.name))


def _is_empty_retrieval(step: Step) -> bool:
    if step.is_error:
        return False
    if step.kind == "retrieval":
        return "gen_ai.retrieval.documents" in step.attributes and not step.documents
    if step.kind == "tool" and _is_search(step):
        return _empty(step.tool_result)
    return False


def _empty(value: Any) -> bool:
    if value in (None, "", [], {}):
        return value is not None
    if isinstance(value, dict):
        for key in ("documents", "results", "hits", "items"):
            if key in value:
                return value[key] in ([], None)
    return False


def _tool_error(steps: list[Step], context: _Context) -> Outcome | None:
    for step in steps:
        if step.kind in ("tool", "retrieval") and step.is_error:
            message = step.error or _text(step.tool_result)
            return Outcome("tool_error", step.index, step.tool_name or step.name,
                           error_type(message), message)
    return None


def _model_refusal(steps: list[Step], context: _Context) -> Outcome | None:
    for step in steps:
        if step.kind != "llm":
            continue
        reasons = step.attr("gen_ai.response.finish_reasons") or []
        if isinstance(reasons, str):
            reasons = [reasons]
        refused = any(str(r).lower() in _REFUSAL_REASONS for r in reasons)
        if not refused:
            refused = any(part.get("type") == "refusal" for msg in _raw_outputs(step)
                          for part in msg.get("parts", msg.get("content", [])) or []
                          if isinstance(part, dict))
        if refused:
            return Outcome("model_refusal", step.index, "", "refusal",
                           "the model refused to answer")
    return None


def _raw_outputs(step: Step) -> list[dict[str, Any]]:
    value = step.attr("gen_ai.output.messages")
    return [m for m in value if isinstance(m, dict)] if isinstance(value, list) else []


def _other_error(steps: list[Step], context: _Context) -> Outcome | None:
    for step in steps:
        if step.is_error:
            message = step.error or ""
            return Outcome("error", step.index, "", error_type(message), message)
    return None


_ERROR_TYPE = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception|Exceeded|Timeout|Refused|"
                         r"Denied|NotFound|Invalid\w*))\b")
_ERROR_PREFIX = re.compile(r"^\s*([A-Za-z_][\w.]{2,40}):\s")


def error_type(message: str) -> str:
    """The error's type as the message states it (``ToolError: …`` → ``ToolError``), or ``""``."""
    match = _ERROR_TYPE.match(message) or _ERROR_PREFIX.match(message)
    return match.group(1) if match else ""


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ("error", "message", "detail"):
            if isinstance(value.get(key), str):
                return str(value[key])
    return "" if value is None else str(value)[:500]
