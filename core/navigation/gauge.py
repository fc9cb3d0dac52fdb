"""Context-window gauge maths: how full the model's window was, and with what.

For one model call, :func:`breakdown` splits the prompt into system prompt, tool schemas,
history and tool results (plus the output, which shares the window) by character share,
about four characters a token, scaled to the recorded input tokens when usage was recorded.
The total is *exact* when usage was recorded and *estimated* otherwise; the split is always an
estimate, and says so. :func:`truncation_notes` says when earlier context was dropped or
compacted: flagged by the agent (``trace_tui.context.truncated``), or visible as a prompt that
shrank sharply, lost messages or lost its system prompt since the previous call.

A window that no source knows stays ``None``: the gauge says "unknown", never guesses.
Pure logic; no UI imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from trace_tui.core.model.context_windows import ContextWindow
from trace_tui.core.model.run import A_CONTEXT_TRUNCATED, A_INPUT_MESSAGES, Message, Step
from trace_tui.core.navigation.absence import NOT_RECORDED, SYSTEM, TOOLS, absence

CHARS_PER_TOKEN = 4
WARN_FRACTION = 0.8
#: A prompt below this share of the previous call's prompt counts as a sharp shrink.
SHRINK_RATIO = 0.6
#: ... and only when at least this many tokens went away.
MIN_SHRINK_TOKENS = 200

PART_LABELS: dict[str, str] = {
    "system": "system prompt",
    "tools": "tool schemas",
    "history": "history",
    "tool_results": "tool results",
    "output": "output",
}


@dataclass(frozen=True, slots=True)
class ContextPart:
    """One slice of the window: its key (``system``...), label, characters and tokens."""

    key: str
    label: str
    chars: int
    tokens: int
    exact: bool
    #: False when the trace format does not record this part (shown as "not recorded", not 0)
    recorded: bool = True


@dataclass(frozen=True, slots=True)
class ContextBreakdown:
    """How one model call filled its window."""

    step_index: int
    model: str | None
    parts: tuple[ContextPart, ...]
    input_tokens: int
    input_exact: bool
    output_tokens: int
    output_exact: bool
    cached_tokens: int | None
    window: ContextWindow | None

    @property
    def used_tokens(self) -> int:
        """Input plus output tokens: what the window had to hold."""
        return self.input_tokens + self.output_tokens

    @property
    def fraction(self) -> float | None:
        """Used share of the window (may exceed 1), or ``None`` when the window is unknown."""
        if self.window is None or self.window.tokens <= 0:
            return None
        return self.used_tokens / self.window.tokens

    @property
    def level(self) -> str:
        """``unknown``, ``ok``, ``warn`` (from 80 %) or ``over`` (100 % and more)."""
        return fraction_level(self.fraction)

    @property
    def exact(self) -> bool:
        """True when both totals come from recorded usage."""
        return self.input_exact and self.output_exact


@dataclass(frozen=True, slots=True)
class ContextNote:
    """Something the gauge must say about this call's context (``kind`` names the reason)."""

    kind: str
    text: str


def fraction_level(fraction: float | None) -> str:
    """The warning level of a window share."""
    if fraction is None:
        return "unknown"
    if fraction >= 1.0:
        return "over"
    return "warn" if fraction >= WARN_FRACTION else "ok"


def text_size(value: Any) -> int:
    """Characters ``value`` takes as prompt text (strings as-is, other JSON as JSON)."""
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value)
    try:
        return len(orjson.dumps(value, default=str))
    except (TypeError, orjson.JSONEncodeError):
        return len(repr(value))


def message_size(message: Message) -> int:
    """Characters of one message: content plus tool-call names and arguments."""
    size = len(message.content or "")
    for call in message.tool_calls:
        size += len(call.name) + text_size(call.arguments)
    return size


def breakdown(step: Step, window: ContextWindow | None) -> ContextBreakdown:
    """Split model call ``step``'s window use into parts (see the module docstring)."""
    messages = step.input_messages
    chars = {
        "system": len(step.system_prompt or ""),
        "tools": text_size(step.tool_definitions) if step.tool_definitions else 0,
        "history": sum(message_size(m) for m in messages if m.role != "tool"),
        "tool_results": sum(message_size(m) for m in messages if m.role == "tool"),
    }
    out_chars = sum(message_size(m) for m in step.output_messages)
    usage = step.usage
    recorded_in = usage.input_tokens if usage else None
    recorded_out = usage.output_tokens if usage else None
    input_tokens = recorded_in if recorded_in is not None else _estimate(sum(chars.values()))
    split = _scale(chars, input_tokens)
    output_tokens = recorded_out if recorded_out is not None else _estimate(out_chars)
    missing = {
        "system": absence(step, SYSTEM) == NOT_RECORDED,
        "tools": absence(step, TOOLS) == NOT_RECORDED,
        "history": A_INPUT_MESSAGES not in step.attributes,
        "tool_results": A_INPUT_MESSAGES not in step.attributes,
    }
    parts = [
        ContextPart(k, PART_LABELS[k], chars[k], split[k], False, not missing[k]) for k in chars
    ]
    parts.append(ContextPart("output", PART_LABELS["output"], out_chars, output_tokens,
                             recorded_out is not None))
    return ContextBreakdown(
        step_index=step.index,
        model=step.model,
        parts=tuple(parts),
        input_tokens=input_tokens,
        input_exact=recorded_in is not None,
        output_tokens=output_tokens,
        output_exact=recorded_out is not None,
        cached_tokens=usage.cache_read_tokens if usage else None,
        window=window,
    )


def truncation_notes(step: Step, previous: Step | None) -> list[ContextNote]:
    """Why this call's context looks truncated or compacted, if it does (most certain first).

    ``previous`` is the model call before ``step`` (``None`` for the first one).
    """
    notes: list[ContextNote] = []
    if step.attr(A_CONTEXT_TRUNCATED) is True:
        notes.append(ContextNote("flagged", "context truncated/compacted before this call "
                                            "(recorded by the agent)"))
    if previous is None:
        return notes
    where = f"step {previous.number}"
    now, before = _input_tokens(step), _input_tokens(previous)
    if now is not None and before is not None and before - now >= MIN_SHRINK_TOKENS \
            and now < before * SHRINK_RATIO:
        notes.append(ContextNote(
            "shrank", f"input shrank from {before:,} to {now:,} tokens since {where}: "
                      "earlier context was likely dropped or summarised"))
    dropped = len(previous.input_messages) - len(step.input_messages)
    if dropped >= 2:
        notes.append(ContextNote("messages", f"{dropped} fewer messages sent than at {where}"))
    if previous.system_prompt and not step.system_prompt:
        notes.append(ContextNote("system", f"system prompt missing: it was sent at {where}"))
    return notes


def _input_tokens(step: Step) -> int | None:
    usage = step.usage
    return usage.input_tokens if usage else None


def _estimate(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


def _scale(chars: dict[str, int], total_tokens: int) -> dict[str, int]:
    """Share ``total_tokens`` out by character share (largest remainder, sums exactly)."""
    total_chars = sum(chars.values())
    if total_chars <= 0:
        out = dict.fromkeys(chars, 0)
        out["history"] = total_tokens
        return out
    raw = {k: total_tokens * c / total_chars for k, c in chars.items()}
    out = {k: int(v) for k, v in raw.items()}
    short = total_tokens - sum(out.values())
    for key in sorted(raw, key=lambda k: raw[k] - out[k], reverse=True)[:short]:
        out[key] += 1
    return out
