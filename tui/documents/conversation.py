"""Inspector documents that read as a conversation: a step's exchange, and the model's context.

``chat`` shows what a step said and heard: a model call's messages and answer (roles, inline
tool calls), a tool call's arguments and result, a retrieval's query and documents.
``context`` shows exactly what the model saw at the cursor: the latest call's system prompt,
the tools it was offered, every input message, its answer, and the tool results that came
back afterwards up to this step. Long texts are cut with an ``expand`` action per block.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from trace_tui.core.model.run import Message, Step
from trace_tui.core.navigation.absence import system_prompt_note, tools_note
from trace_tui.core.navigation.state import RunState
from trace_tui.core.replay.provenance import is_waiting
from trace_tui.tui.display.formatting import fmt_count, fmt_tokens
from trace_tui.tui.display.safe_text import display_str
from trace_tui.tui.documents.lines import DocLine, line, wrap_text

BLOCK_PREVIEW = 2_000
BLOCK_STEP = 64_000
_ROLES = {"system", "user", "assistant", "tool"}
#: What a branch's stopped step shows instead of an answer.
WAITING = "waiting for an answer: the replay stopped here ('trace-tui replay BRANCH " \
    "--answer VALUE' goes on)"


class Blocks:
    """Builds document lines block by block; each long block is cut unless expanded."""

    def __init__(self, width: int, expanded: dict[str, int]) -> None:
        self.width = max(24, width)
        self.expanded = expanded
        self.lines: list[DocLine] = []

    def heading(self, text: str, role: str = "heading", note: str = "") -> None:
        """A bold title line (trace text in it must already be safe)."""
        self.lines.append(line(("▌", role), (text, role), (note, "note")))

    def note(self, text: str, role: str = "note") -> None:
        """A dim explanatory line."""
        self.lines.append(line(("  ", "plain"), (text, role)))

    def blank(self) -> None:
        """An empty separator line."""
        self.lines.append(line())

    def text(self, key: str, value: str | None, role: str = "plain") -> None:
        """A block of trace text, wrapped, cut at the preview size unless expanded."""
        if not value:
            self.note("(empty)")
            return
        limit = BLOCK_PREVIEW + self.expanded.get(key, 0)
        wrapped, left = wrap_text(value, self.width - 2, limit=limit)
        self.lines.extend(line(("  ", "plain"), (text, role), anchor=key) for text in wrapped)
        if left:
            self.lines.append(line(("  ", "plain"),
                                   (f"… {left:,} more chars (Enter shows more)", "note"),
                                   anchor=key, action="more-chars"))

    def json(self, key: str, value: Any) -> None:
        """A JSON value pretty-printed as a text block."""
        if isinstance(value, str):
            self.text(key, value)
            return
        try:
            text = json.dumps(value, ensure_ascii=False, indent=2, default=str)
        except (TypeError, ValueError):
            text = repr(value)
        self.text(key, text, "str")

    def message(self, key: str, message: Message) -> None:
        """One chat message: role heading, content, inline tool calls."""
        role = f"role-{message.role}" if message.role in _ROLES else "role-other"
        label = display_str(message.role, one_line=True, limit=40)
        extra = ""
        if message.role == "tool":
            extra = " " + display_str(
                f"{message.name or ''} ({message.tool_call_id or 'no call id'})",
                one_line=True, limit=80)
        self.heading(label + extra, role)
        if message.content is not None or not message.tool_calls:
            self.text(key, message.content)
        for n, call in enumerate(message.tool_calls):
            args = _compact(call.arguments)
            self.lines.append(line(
                ("  ⮑ call ", "role-tool"),
                (display_str(call.name, one_line=True, limit=80), "role-tool"),
                (" " + display_str(args, one_line=True, limit=self.width), "str"),
                (display_str(f"  id {call.id}", one_line=True, limit=60) if call.id else "",
                 "note"),
                anchor=f"{key}/call{n}"))


def _compact(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


def chat_document(step: Step, width: int, expanded: dict[str, int]) -> list[DocLine]:
    """The conversation view of one step."""
    out = Blocks(width, expanded)
    if step.kind == "llm":
        _llm_exchange(out, step)
    elif step.kind == "tool":
        out.heading("tool call " + display_str(step.tool_name or step.name, one_line=True,
                                               limit=80), "role-tool",
                    display_str(f"  id {step.tool_call_id}", one_line=True, limit=60)
                    if step.tool_call_id else "")
        out.note("arguments")
        out.json("args", step.tool_arguments)
        out.note("result" + ("  (the tool failed)" if step.is_error else ""),
                 "error" if step.is_error else "note")
        if is_waiting(step):
            out.note(WAITING, "warn")
        else:
            out.json("result", step.tool_result)
    elif step.kind == "retrieval":
        _retrieval(out, step)
    else:
        kind = display_str(step.kind, one_line=True, limit=20)
        article = "an" if kind[:1].lower() in "aeiou" else "a"
        out.note(f"{article} {kind} step has no conversation; "
                 "see Payload (p) or Context (x)")
    if step.error:
        out.blank()
        out.heading("error", "error")
        out.text("error", step.error, "error")
    return out.lines


def _llm_exchange(out: Blocks, step: Step) -> None:
    model = display_str(step.model or "unknown model", one_line=True, limit=60)
    out.heading(f"model call · {model}")
    if step.system_prompt:
        out.heading("system", "role-system")
        out.text("system", step.system_prompt)
    else:
        note = system_prompt_note(step)
        out.note(note, "warn" if note.startswith("no ") else "note")
    for n, message in enumerate(step.input_messages):
        out.message(f"in{n}", message)
    out.blank()
    out.heading("response", "heading", _finish(step))
    outputs = step.output_messages
    if not outputs:
        out.note(WAITING if is_waiting(step) else "(no response recorded)",
                 "warn" if is_waiting(step) else "note")
    for n, message in enumerate(outputs):
        out.message(f"out{n}", message)


def _finish(step: Step) -> str:
    reasons = step.attr("gen_ai.response.finish_reasons")
    usage = step.usage
    bits = []
    if isinstance(reasons, list) and reasons:
        bits.append("finish " + ", ".join(display_str(r, one_line=True, limit=30)
                                          for r in reasons))
    if usage is not None:
        bits.append(f"in {fmt_tokens(usage.input_tokens) or '?'} / "
                    f"out {fmt_tokens(usage.output_tokens) or '?'} tokens")
    return "  " + " · ".join(bits) if bits else ""


def _retrieval(out: Blocks, step: Step) -> None:
    out.heading("retrieval query", "role-user")
    out.text("query", step.retrieval_query)
    docs = step.documents
    out.heading(f"documents ({len(docs)})", "role-tool")
    if not docs:
        out.note("nothing came back", "warn")
    for n, doc in enumerate(docs[:200]):
        label = display_str(f"#{n + 1} {doc.get('id', '?')}  score {doc.get('score', '?')}",
                            one_line=True, limit=100)
        out.note(label, "meta")
        out.text(f"doc{n}", _as_text(doc.get("content")))


def _as_text(value: Any) -> str | None:
    return value if value is None or isinstance(value, str) else _compact(value)


def context_document(state: RunState, width: int, expanded: dict[str, int]) -> list[DocLine]:
    """Exactly what the model saw at the cursor (see the module docstring)."""
    out = Blocks(width, expanded)
    llm = state.llm_step
    if llm is None:
        out.note(f"no model call yet at step {state.index + 1}: the model has seen nothing")
        return out.lines
    model = display_str(llm.model or "unknown model", one_line=True, limit=60)
    out.heading(f"what the model saw at step {state.index + 1}",
                note=f"  (its latest call: step {llm.number}, {model})")
    tools = llm.tool_definitions
    names = ", ".join(display_str(t.get("name", "?"), one_line=True, limit=40) for t in tools)
    out.note(tools_note(llm, names or "none"), "meta")
    params = llm.parameters
    if params:
        out.note(display_str("parameters: " + ", ".join(f"{k}={v}" for k, v in params.items()),
                             one_line=True, limit=width), "meta")
    if state.system_prompt:
        out.heading("system", "role-system", f"  {fmt_count(len(state.system_prompt))} chars")
        out.text("ctx-system", state.system_prompt)
    else:
        note = system_prompt_note(llm)
        out.note(note, "warn" if note.startswith("no ") else "note")
    n_in, n_out = len(llm.input_messages), len(llm.output_messages)
    _messages(out, "ctx-in", state.messages[:n_in])
    out.blank()
    out.heading(f"the model's answer (step {llm.number})")
    _messages(out, "ctx-out", state.messages[n_in : n_in + n_out])
    later = state.messages[n_in + n_out :]
    if later:
        out.blank()
        out.heading(f"tool results since, up to step {state.index + 1}",
                    note="  (the model sees these in its next call)")
        _messages(out, "ctx-later", later)
    return out.lines


def _messages(out: Blocks, prefix: str, messages: Iterable[Message]) -> None:
    for n, message in enumerate(messages):
        out.message(f"{prefix}{n}", message)
