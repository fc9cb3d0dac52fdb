"""core/formats/shared."""
