"""Assay's tool-name patterns for ``tools.allow`` / ``tools.deny``: exactly five forms.

``"*"`` matches every tool; ``"read_*"`` is a prefix, ``"*_file"`` a suffix, ``"*search*"`` a
substring; a pattern without ``*`` is an exact name. A ``*`` anywhere else is a literal asterisk
(``read_*_file`` matches only a tool literally named so; ``*a*b*`` looks for the text ``a*b``),
and ``"**"`` is the substring form with an empty substring, so it matches everything. This is
Assay's documented matcher (docs/reference/config/policies.md, "Wildcards"), not a glob.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Matcher = Callable[[str], bool]


def compile_pattern(pattern: str) -> Matcher:
    """A predicate for one pattern (see the module doc for the five forms)."""
    if pattern == "*":
        return lambda name: True
    if len(pattern) >= 2 and pattern.startswith("*") and pattern.endswith("*"):
        middle = pattern[1:-1]
        return lambda name: middle in name
    if pattern.startswith("*"):
        suffix = pattern[1:]
        return lambda name: name.endswith(suffix)
    if pattern.endswith("*"):
        prefix = pattern[:-1]
        return lambda name: name.startswith(prefix)
    return lambda name: name == pattern


def matches(name: str, pattern: str) -> bool:
    """True when ``name`` matches one Assay tool pattern."""
    return compile_pattern(pattern)(name)


def first_match(name: str, patterns: Iterable[str]) -> str | None:
    """The first pattern that matches ``name``, or ``None``."""
    for pattern in patterns:
        if matches(name, pattern):
            return pattern
    return None


def is_interior_star(pattern: str) -> bool:
    """True for a pattern whose ``*`` is not a wildcard (it will only match literally)."""
    core = pattern
    if core.startswith("*"):
        core = core[1:]
    if core.endswith("*"):
        core = core[:-1]
    return "*" in core and pattern not in ("*", "**") and set(pattern) != {"*"}
