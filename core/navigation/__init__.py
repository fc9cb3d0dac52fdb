"""core/navigation."""
