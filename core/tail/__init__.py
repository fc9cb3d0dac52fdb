"""core/tail."""
