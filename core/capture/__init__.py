"""Capture a run from your own agent, and replay it inside your own code.

Import it as ``from trace_tui.core import capture`` (it needs no Textual)::

    from openai import OpenAI
    from trace_tui.core import capture

    client = OpenAI(http_client=capture.http_client())   # a client for the active session

    @capture.tool
    def lookup_order(order_id: str) -> dict: ...

    with capture.record("runs/current.jsonl", agent="support-agent", version="1.4.2") as run:
        with run.agent("support-agent"):
            ...                                            # the agent, unchanged

and in a test, the same code answered from the recording, with no network::

    with capture.replay("runs/incident.jsonl"):
        ...                                                # raises ReplayMiss on a changed call

See the README section "Capture a run, replay it in a test" and ``docs/capture.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trace_tui.core.capture.active import active_session
from trace_tui.core.capture.matching import NORMALISERS, ReplayMiss
from trace_tui.core.capture.recorder import Recorder
from trace_tui.core.capture.replayer import Answer, ReplayedToolError, Replayer
from trace_tui.core.capture.session import Session, SpanHandle, ToolCall
from trace_tui.core.capture.tools import retriever, tool
from trace_tui.core.capture.transport import async_http_client, http_client
from trace_tui.core.capture.writer import CaptureWarning
from trace_tui.core.model.run import Run

__all__ = [
    "NORMALISERS",
    "Answer",
    "CaptureWarning",
    "ReplayMiss",
    "ReplayedToolError",
    "Replayer",
    "Recorder",
    "Session",
    "SpanHandle",
    "ToolCall",
    "active_session",
    "async_http_client",
    "http_client",
    "record",
    "replay",
    "retriever",
    "tool",
]


def record(path: str | Path, *, agent: str, version: str | None = None, **options: Any) -> Recorder:
    """Start recording a run to ``path`` (a new file); use as ``with record(...) as run:``."""
    return Recorder(path, agent=agent, version=version, **options)


def replay(source: str | Path | Run, **options: Any) -> Replayer:
    """Answer the agent's calls from a recorded trace; use as ``with replay(path) as rep:``."""
    return Replayer(source, **options)
