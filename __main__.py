"""Entry point for ``python -m trace_tui``."""

from __future__ import annotations

from trace_tui.cli.commands import main

if __name__ == "__main__":
    raise SystemExit(main())
