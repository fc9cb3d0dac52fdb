"""pytest fixtures for replay in code. A test suite opts in with one line, in its top-level
``conftest.py`` or in a test module::

    pytest_plugins = ["trace_tui.core.capture.pytest_plugin"]

(It is not an auto-loaded ``pytest11`` plugin: installing trace-tui does not change anyone
else's test runs.) The fixtures:

``trace_replay``
    A factory: ``rep = trace_replay("incidents/run-0412.jsonl", **options)`` activates a
    :class:`~trace_tui.core.capture.replayer.Replayer` for the rest of the test (closed
    afterwards). The agent's own code then runs against the recording. It also turns on
    ``no_network`` for the test.
``no_network``
    Every socket ``connect`` in the test is refused with ``OSError`` and remembered; the
    fixture's value is the list of addresses tried, so a test can assert it stayed empty.

Importing this module imports nothing else (``core`` loads no UI library, and pytest loads
Pygments): the fixtures are built and registered when pytest configures the session, and the
capture package loads on first use.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trace_tui.core.capture.replayer import Replayer

PLUGIN_NAME = "trace_tui.core.capture.fixtures"


def pytest_configure(config: Any) -> None:
    """pytest hook: register the fixtures (once per session)."""
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(_fixtures(), PLUGIN_NAME)


def _fixtures() -> object:
    import pytest

    class CaptureFixtures:
        """The fixtures, as a plugin object."""

        @pytest.fixture
        def no_network(self, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
            """Refuse (and remember) every socket connect made during the test."""
            attempts: list[Any] = []

            def refuse(sock: socket.socket, address: Any) -> Any:
                attempts.append(address)
                raise OSError(f"network access blocked by the no_network fixture: {address!r}")

            monkeypatch.setattr(socket.socket, "connect", refuse)
            monkeypatch.setattr(socket.socket, "connect_ex", refuse)
            return attempts

        @pytest.fixture
        def trace_replay(self, no_network: list[Any]) -> Iterator[Callable[..., Replayer]]:
            """Start replaying a recorded trace for this test: ``trace_replay(path, **options)``."""
            from trace_tui.core.capture.replayer import Replayer

            started: list[Replayer] = []

            def start(source: str | Path, **options: Any) -> Replayer:
                replayer = Replayer(source, **options)
                replayer.activate()
                started.append(replayer)
                return replayer

            yield start
            for replayer in started:
                replayer.close()

    return CaptureFixtures()
