"""The example agent under examples/ records offline against its scripted model and replays
with no network, through the documented pytest fixtures (``pytest_plugins``)."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from support import ROOT

pytest_plugins = ["trace_tui.core.capture.pytest_plugin"]


def load(name: str) -> ModuleType:
    sys.path.insert(0, str(ROOT / "examples"))
    try:
        spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(ROOT / "examples"))


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModuleType, Path, str]:
    """The example's ``record`` command, run in-process against its scripted model."""
    agent = load("support_agent")
    trace = tmp_path_factory.mktemp("example") / "runs" / "current.jsonl"
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert agent.main(["record", str(trace), "--pace", "0"]) == 0
    return agent, trace, out.getvalue()


def test_example_agent_records_then_replays_offline(
    recording: tuple[ModuleType, Path, str], trace_replay: Any, no_network: list[Any]
) -> None:
    agent, trace, printed = recording
    assert printed == "Order A-17 is shipped. It arrives Thursday.\n"
    rep = trace_replay(trace)
    assert agent.answer("Where is my order A-17?") == printed.strip()
    assert no_network == []
    assert [a.match for a in rep.answers] == [
        "recorded-response",
        "exact-args",
        "recorded-response",
    ]
