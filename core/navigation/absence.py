"""Three kinds of nothing: "not recorded by this format", "empty" and "none".

A view that says "no system prompt was sent" when the trace format never records system
prompts is lying. For the facts of a model call that views show as absent (system prompt,
tools offered), :func:`absence` says which kind of nothing it is, in the words ``show`` uses
("not recorded"):

* the attribute is there but empty → ``empty``;
* our own format (a step with no foreign source record) records these whenever they exist, so
  there, with the request's messages recorded, absence means ``none`` was sent or offered;
* otherwise (a foreign format, or a call whose content was not recorded) → ``not recorded``.
"""

from __future__ import annotations

from trace_tui.core.model.run import A_INPUT_MESSAGES, Step

NOT_RECORDED, EMPTY, NONE = "not recorded", "empty", "none"
SYSTEM = "gen_ai.system_instructions"
TOOLS = "gen_ai.tool.definitions"


def absence(step: Step, key: str) -> str | None:
    """``None`` when ``step`` has a non-empty value for ``key``; else which kind of nothing."""
    value = step.attributes.get(key)
    if value:
        return None
    if key == SYSTEM and step.system_prompt:
        return None
    if key in step.attributes:
        return EMPTY
    native = step.source is None and A_INPUT_MESSAGES in step.attributes
    return NONE if native else NOT_RECORDED


def system_prompt_note(step: Step) -> str:
    """What a view says when a model call shows no system prompt."""
    kind = absence(step, SYSTEM)
    if kind == EMPTY:
        return "system prompt: empty"
    if kind == NONE:
        return "no system prompt was sent"
    return "system prompt: not recorded by this format"


def tools_note(step: Step, names: str) -> str:
    """The "tools offered" line of a model call."""
    kind = absence(step, TOOLS)
    if kind is None:
        return f"tools offered ({len(step.tool_definitions)}): {names}"
    if kind == NOT_RECORDED:
        return "tools offered: not recorded by this format"
    return "tools offered (0): none"
