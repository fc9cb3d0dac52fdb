"""A recorded run of the example agent as regression tests (``trace_replay`` is trace-tui's
pytest fixture). Run: ``python -m pytest examples/test_support_agent.py``.

The first test records a run (against the scripted model, on loopback) into a temporary
folder; in your project the recording would be a file you keep, e.g. the production run of
an incident, captured with ``capture.record``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
pytest_plugins = ["trace_tui.core.capture.pytest_plugin"]  # trace_replay, no_network

import support_agent  # noqa: E402
from scripted_model import serve  # noqa: E402

from trace_tui.core import capture  # noqa: E402


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    trace = tmp_path_factory.mktemp("runs") / "order-desk.jsonl"
    with serve() as url, capture.record(trace, agent="order-desk", version="1.0"):
        support_agent.answer("Where is my order A-17?", url)
    return trace


def test_replay_gives_the_recorded_answer(trace_replay, no_network, recording) -> None:  # type: ignore[no-untyped-def]
    rep = trace_replay(recording)
    assert (
        support_agent.answer("Where is my order A-17?")
        == "Order A-17 is shipped. It arrives Thursday."
    )
    assert no_network == []
    assert [a.match for a in rep.answers] == [
        "recorded-response",
        "exact-args",
        "recorded-response",
    ]


def test_what_if_the_order_was_lost(trace_replay, recording) -> None:  # type: ignore[no-untyped-def]
    """The in-code twin of ``trace-tui fork --at 3 --set /attributes/gen_ai.tool.call.result=...``:
    the edited tool result changes the next model request, so replay stops there."""
    rep = trace_replay(recording)
    rep.edit_tool("lookup_order", {"order_id": "A-17", "status": "lost"})
    with pytest.raises(capture.ReplayMiss) as miss:
        support_agent.answer("Where is my order A-17?")
    assert miss.value.call == "model call #2 (chat scripted-1)"


def test_what_if_the_order_was_lost_with_an_answer(trace_replay, recording) -> None:  # type: ignore[no-untyped-def]
    """Give the changed call an answer and assert the agent's new outcome."""
    rep = trace_replay(recording, responder=lambda request: "Sorry, order A-17 was lost.")
    rep.edit_tool("lookup_order", {"order_id": "A-17", "status": "lost"})
    assert support_agent.answer("Where is my order A-17?") == "Sorry, order A-17 was lost."
