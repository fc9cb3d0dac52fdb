"""trace-tui: a terminal time-travel debugger for AI-agent runs.

The repository root is this package. ``core`` holds the trace model, reading, import,
replay and diff (no UI imports); ``tui`` holds the Textual application; ``themes`` holds
the colour themes.
"""

from __future__ import annotations

__version__ = "0.1.0"
