"""Three kinds of nothing in every view: "not recorded by this format", "empty", "none".

OTel GenAI spans recorded without content and Codex rollouts (no tool schemas) must not be
shown as "no system prompt was sent" or "tools offered (0): none"; ``show`` says "not
recorded", and so do the chat and context views and the gauge. Our own format records these
whenever they exist, so there absence still means none.
"""

from __future__ import annotations

from support import FOREIGN, SAMPLES
from trace_tui.core.model.run import Step
from trace_tui.core.navigation.absence import EMPTY, NONE, NOT_RECORDED, SYSTEM, TOOLS, absence
from trace_tui.core.navigation.context_view import context_at
from trace_tui.core.navigation.gauge import breakdown
from trace_tui.core.reading.reader import open_run
from trace_tui.tui.documents.conversation import chat_document, context_document


def _text(lines) -> str:
    return "\n".join(line.text for line in lines)


def _views(run, step: Step) -> str:
    state = context_at(run, step.index, step.index)
    return _text(chat_document(step, 100, {})) + "\n" + _text(context_document(state, 100, {}))


def test_otel_genai_without_content_says_not_recorded() -> None:
    run = open_run(FOREIGN / "otel-genai" / "otel-genai-orders.jsonl")
    llm = run.steps_of_kind("llm")[0]
    text = _views(run, llm)
    assert "no system prompt was sent" not in text and "none" not in text
    assert "system prompt: not recorded by this format" in text
    assert "tools offered: not recorded by this format" in text
    parts = {p.key: p for p in breakdown(llm, None).parts}
    assert not parts["system"].recorded and not parts["history"].recorded


def test_codex_tools_offered_are_not_recorded_not_zero() -> None:
    run = open_run(FOREIGN / "codex" / "codex-0.169.0_orders.jsonl")
    llm = next(s for s in run.steps_of_kind("llm") if s.output_tool_calls)
    assert absence(llm, TOOLS) == NOT_RECORDED
    assert "tools offered (0)" not in _views(run, llm)


def test_our_format_still_says_none_was_sent_when_the_prompt_is_gone() -> None:
    run = open_run(SAMPLES / "system_prompt_evicted.jsonl")
    gone = [s for s in run.steps_of_kind("llm") if not s.system_prompt]
    assert gone, "the sample evicts its system prompt"
    assert absence(gone[0], SYSTEM) == NONE
    assert "no system prompt was sent" in _views(run, gone[0])


def test_an_empty_value_is_empty() -> None:
    step = Step(0, "a", None, "llm", "chat", attributes={SYSTEM: "", TOOLS: []})
    assert absence(step, SYSTEM) == EMPTY and absence(step, TOOLS) == EMPTY


FOREIGN_TRACES = [
    p for p in sorted(FOREIGN.glob("*/*")) if p.is_file() and p.suffix not in (".md", ".py")
]


def test_no_foreign_view_says_none_for_what_its_format_does_not_record() -> None:
    """Every model call of every foreign trace: the views never claim "none was sent" or
    "tools offered (0)" unless the trace recorded an empty value."""
    for trace in FOREIGN_TRACES:
        run = open_run(trace)
        for step in run.steps_of_kind("llm"):
            text = _views(run, step)
            if absence(step, SYSTEM) != EMPTY:
                assert "no system prompt was sent" not in text, (trace.name, step.number)
            if absence(step, TOOLS) != EMPTY:
                assert "tools offered (0)" not in text, (trace.name, step.number)
