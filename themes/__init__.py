"""trace-tui's colour themes: one JSON file per theme in this folder, loaded as Textual themes.

Each file names its Textual colours, our own variables (``step-llm``, ``step-tool``,
``step-error``, ``diff-added``, ``gauge-warn`` ...) used by the widgets' CSS, and the Pygments
style that colours JSON payloads. :func:`load_themes` reads them all; the first theme's
variables are the defaults for any other theme (Textual's built-in ones) the user picks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from textual.theme import Theme

DEFAULT_THEME = "trace-dark"
NO_COLOR_THEME = "trace-high-contrast"
_COLOR_FIELDS = ("primary", "secondary", "accent", "warning", "error", "success",
                 "foreground", "background", "surface", "panel", "boost")


@dataclass(frozen=True, slots=True)
class ThemeFile:
    """A theme read from this folder: the Textual theme, its short name and Pygments style."""

    theme: Theme
    short_name: str
    title: str
    pygments_style: str


def _read(name: str, text: str) -> ThemeFile:
    data = json.loads(text)
    colors = {k: v for k, v in data.get("colors", {}).items() if k in _COLOR_FIELDS}
    if "primary" not in colors:
        raise ValueError(f"theme file {name}: colors.primary is required")
    theme = Theme(
        name=str(data["name"]),
        dark=bool(data.get("dark", True)),
        variables={str(k): str(v) for k, v in data.get("variables", {}).items()},
        **colors,
    )
    return ThemeFile(
        theme=theme,
        short_name=str(data.get("short_name") or theme.name),
        title=str(data.get("title") or theme.name),
        pygments_style=str(data.get("pygments_style") or ("monokai" if theme.dark else "default")),
    )


@cache
def load_themes() -> tuple[ThemeFile, ...]:
    """Every theme file in this package, the default (dark) theme first."""
    files = sorted(
        (entry for entry in resources.files(__name__).iterdir() if entry.name.endswith(".json")),
        key=lambda entry: entry.name,
    )
    themes = [_read(entry.name, entry.read_text(encoding="utf-8")) for entry in files]
    themes.sort(key=lambda t: t.theme.name != DEFAULT_THEME)
    return tuple(themes)


def theme_variable_defaults() -> dict[str, str]:
    """Our variables with the default theme's values (fallbacks for foreign themes)."""
    return dict(load_themes()[0].theme.variables)


def resolve_theme_name(name: str) -> str:
    """The registered theme name for ``name`` (``dark`` → ``trace-dark``); ValueError if unknown."""
    wanted = name.strip().lower()
    for item in load_themes():
        if wanted in (item.short_name, item.theme.name, item.title.lower()):
            return item.theme.name
    known = ", ".join(t.short_name for t in load_themes())
    raise ValueError(f"unknown theme {name!r}; choose one of: {known}")


def pygments_style_for(theme_name: str, dark: bool) -> str:
    """The Pygments style a theme names (a sensible one for themes that are not ours)."""
    for item in load_themes():
        if item.theme.name == theme_name:
            return item.pygments_style
    return "github-dark" if dark else "default"
