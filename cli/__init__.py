"""The trace-tui command line: argument parsing, printing and exit codes, and nothing else."""

from __future__ import annotations

from trace_tui.cli.commands import main

__all__ = ["main"]
