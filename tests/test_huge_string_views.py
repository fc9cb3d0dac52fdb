"""The inspector shows a step holding a huge string (a 200 MB pasted file) from its first
characters, masking and sanitising only what it shows plus a margin, and says how much is left
with an expand action. The documents are the same as when the whole string was processed."""

from __future__ import annotations

import pytest

import trace_tui.tui.documents.step_documents as documents
from trace_tui.core.model.run import Step
from trace_tui.tui.documents.json_lines import EXPAND_STEP, FoldState
from trace_tui.tui.documents.step_documents import (
    RAW_ANCHOR,
    RAW_STEP,
    payload_document,
    raw_document,
)

SECRET = "AKIAIOSFODNN7EXAMPLE"
PASTED = f"key {SECRET} \x1b[2J then " + "a line of a pasted file, é 中 😀\n" * 10_000


def _step() -> Step:
    source = {"type": "user", "message": {"role": "user", "content": PASTED},
              "toolUseResult": {"stdout": PASTED[::-1]}}
    return Step(index=0, span_id="a", parent_id=None, kind="agent", name="PASTED", line=3,
                attributes={"claude_code.prompt": PASTED, "short": "s"}, source=source)


def _texts(lines: list) -> list[tuple[str, str | None, str | None]]:
    return [(ln.text, ln.anchor, ln.action) for ln in lines]


@pytest.mark.parametrize("expand", [0, 1, 3])
def test_payload_is_the_same_as_with_the_whole_string(monkeypatch: pytest.MonkeyPatch,
                                                      expand: int) -> None:
    pointer = "/attributes/claude_code.prompt"
    state = FoldState()
    if expand:
        state.apply("expand", pointer)
        for _ in range(expand - 1):
            state.apply("more-chars", pointer)
    monkeypatch.setattr(documents, "CUT_OVER", 100_000)  # (1 MB in the app)
    cut = payload_document(_step(), state, 80)
    monkeypatch.setattr(documents, "CUT_OVER", 10**12)
    whole = payload_document(_step(), state, 80)
    assert _texts(cut) == _texts(whole)
    text = "\n".join(ln.text for ln in cut)
    assert SECRET not in text and "\x1b" not in text
    # counted whole (the mask made the string 15 characters longer)
    if expand:
        assert f"{len(PASTED) + 15 - expand * EXPAND_STEP:,} more chars" in text
    else:
        assert f"+{len(PASTED) + 15 - 160:,} chars" in text


@pytest.mark.parametrize("more", [0, 2])
def test_raw_view_is_the_same_as_with_the_whole_record(monkeypatch: pytest.MonkeyPatch,
                                                       more: int) -> None:
    expanded = {RAW_ANCHOR: more * RAW_STEP} if more else None
    monkeypatch.setattr(documents, "CUT_OVER", 100_000)
    cut = raw_document(_step(), None, 80, expanded=expanded)
    monkeypatch.setattr(documents, "CUT_OVER", 10**12)
    whole = raw_document(_step(), None, 80, expanded=expanded)
    assert _texts(cut[:-1]) == _texts(whole[:-1])
    assert cut[-1].action == whole[-1].action == "expand"
    assert "more characters" in cut[-1].text
    assert SECRET not in "\n".join(ln.text for ln in cut)
