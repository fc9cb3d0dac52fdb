"""tui/documents."""
