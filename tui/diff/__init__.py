"""tui/diff."""
