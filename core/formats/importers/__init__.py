"""core/formats/importers."""
