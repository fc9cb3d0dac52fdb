"""``trace-tui open`` / ``tail``: build the app from the command-line arguments and run it.

The trace is opened by :func:`~trace_tui.tui.app.build_app` before the app starts, so a
missing file or an unknown format reaches ``cli.main`` as one line, never as a traceback or
an empty screen. While the screen is up, log records go to a file (see
:mod:`trace_tui.tui.logfile`), not to the terminal.
"""

from __future__ import annotations

import argparse

from trace_tui.tui.app import build_app
from trace_tui.tui.logfile import logging_to_file


def run_app(args: argparse.Namespace, follow: bool) -> int:
    """Run the debugger on ``args.file``; returns the exit code."""
    app = build_app(
        args.file,
        follow=follow,
        format_name=getattr(args, "format", None),
        context_windows=getattr(args, "context_window", None) or [],
        theme=getattr(args, "theme", None),
        redactor=getattr(args, "redactor", None),
        policy=getattr(args, "policy", None),
    )
    with logging_to_file():
        app.run()
    return int(app.return_code or 0)
