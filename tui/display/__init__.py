"""tui/display."""
