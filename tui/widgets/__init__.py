"""Reusable widgets of the trace-tui screens; each carries its own ``DEFAULT_CSS``."""
