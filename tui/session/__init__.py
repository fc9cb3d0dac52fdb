"""tui/session."""
