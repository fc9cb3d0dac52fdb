"""The first screen imports only what it needs (issue 15): opening a trace loads the debugger,
not the policy checker (jsonschema), fork and replay, the branch tree or the diff screen; those
are imported when their key is first pressed; and a native trace is read without importing
the importers of other formats. Checked in a fresh interpreter on the modules ``trace-tui
open`` imports before its first paint."""

from __future__ import annotations

import subprocess
import sys

from support import SAMPLES

#: Modules the first screen of ``trace-tui open FILE`` must not import.
NOT_ON_THE_FIRST_SCREEN = (
    "jsonschema",
    "trace_tui.core.policy.loader",
    "trace_tui.core.policy.evaluate",
    "trace_tui.core.diff.compare",
    "trace_tui.core.replay.branches",
    "trace_tui.core.replay.engine",
    "trace_tui.tui.diff.screen",
    "trace_tui.tui.screens.answer",
    "trace_tui.tui.screens.branches",
    "trace_tui.tui.screens.fork_editor",
    "trace_tui.tui.session.branch_session",
    "trace_tui.tui.session.policy_session",
    "trace_tui.core.formats.importers.api_exchanges",
    "trace_tui.core.formats.importers.claude_code",
    "trace_tui.core.formats.importers.otlp",
)


def test_opening_a_trace_imports_no_fork_replay_policy_or_diff() -> None:
    code = (
        "import sys\n"
        "import trace_tui.cli.commands, trace_tui.tui.launch\n"
        "from trace_tui.tui.screens.debugger import DebuggerScreen\n"
        "from trace_tui.core.reading.source import open_source\n"
        f"source = open_source({str(SAMPLES / 'discount_over_cap.jsonl')!r})\n"
        "assert source.format_name == 'native' and source.update().added\n"
        f"bad = [m for m in {NOT_ON_THE_FIRST_SCREEN!r} if m in sys.modules]\n"
        "assert 'textual.app' in sys.modules and DebuggerScreen\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
