"""Syntax colours from Pygments: a style's palette for document roles, and JSON lexing.

Documents tag pieces with roles (``key``, ``str``, ``num`` ...); :func:`role_styles` maps
them to the colours of the Pygments style the current theme names. :func:`lex_json` runs the
Pygments JSON lexer over at most :data:`HIGHLIGHT_CAP` characters (the raw view of a 10 MB
record highlights its head and shows the rest plain), returning (text, role) pieces.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pygments.lexers.data import JsonLexer
from pygments.styles import get_style_by_name
from pygments.token import Keyword, Name, Number, Punctuation, String, Token
from pygments.util import ClassNotFound
from rich.style import Style

#: The most characters ever fed to the highlighter at once.
HIGHLIGHT_CAP = 64_000

ROLE_TOKENS: dict[str, Any] = {
    "key": Name.Tag,
    "str": String.Double,
    "num": Number,
    "bool": Keyword.Constant,
    "null": Keyword.Constant,
    "punct": Punctuation,
}


@lru_cache(maxsize=16)
def role_styles(style_name: str) -> dict[str, Style]:
    """Rich styles for the syntax roles in Pygments style ``style_name`` (fallback: default)."""
    try:
        style = get_style_by_name(style_name)
    except ClassNotFound:
        style = get_style_by_name("default")
    out: dict[str, Style] = {}
    for role, token in ROLE_TOKENS.items():
        spec = style.style_for_token(token)
        color = spec.get("color")
        out[role] = Style(
            color=f"#{color}" if color else None,
            bold=bool(spec.get("bold")) or None,
            italic=bool(spec.get("italic")) or None,
        )
    return out


def _role_of(token: Any) -> str:
    while token is not Token:
        for role, wanted in ROLE_TOKENS.items():
            if token is wanted:
                return role
        if token in String:
            return "str"
        if token in Number:
            return "num"
        if token in Keyword:
            return "bool"
        token = token.parent
    return "plain"


_LEXER = JsonLexer()


def lex_json(text: str) -> list[tuple[str, str]]:
    """(text, role) pieces for JSON ``text``; past :data:`HIGHLIGHT_CAP` it stays ``plain``.

    ``text`` must already be sanitised: the lexer only colours it.
    """
    head, tail = text[:HIGHLIGHT_CAP], text[HIGHLIGHT_CAP:]
    pieces = [(value, _role_of(token)) for token, value in _LEXER.get_tokens(head) if value]
    if pieces and pieces[-1][0].endswith("\n") and not head.endswith("\n"):
        pieces[-1] = (pieces[-1][0][:-1], pieces[-1][1])
        if not pieces[-1][0]:
            pieces.pop()
    if tail:
        pieces.append((tail, "plain"))
    return pieces
