"""How many tokens a model's context window holds: a small table, overridable by the user.

Lookups go, most specific first: the step's own ``trace_tui.context_window`` attribute, the
run record's ``context_windows``, the user's overrides (``--context-window MODEL=TOKENS``, the
``TRACE_TUI_CONTEXT_WINDOWS`` environment variable, ``context_windows.json`` in the config
folder), then the built-in table. A model found nowhere stays unknown: the gauge says so
instead of guessing.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from trace_tui.core.errors import BadValue

log = logging.getLogger(__name__)

#: Context windows (input + output tokens) of widely used models, from the vendors' model
#: pages. Keys are matched as prefixes of the model id, longest first, after dropping a
#: ``provider/`` prefix, so ``gpt-4o-2024-08-06`` finds ``gpt-4o``.
KNOWN_CONTEXT_WINDOWS: dict[str, int] = {
    "gpt-3.5-turbo": 16_385,
    "gpt-4": 8_192,
    "gpt-4-32k": 32_768,
    "gpt-4-turbo": 128_000,
    "gpt-4o": 128_000,
    "gpt-4o-mini": 128_000,
    "gpt-4.1": 1_047_576,
    "gpt-4.1-mini": 1_047_576,
    "gpt-4.1-nano": 1_047_576,
    "gpt-5": 400_000,
    "o1": 200_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "claude-2": 100_000,
    "claude-3": 200_000,
    "claude-sonnet-4": 200_000,
    "claude-opus-4": 200_000,
    "claude-haiku-4": 200_000,
    "gemini-1.5-pro": 2_097_152,
    "gemini-1.5-flash": 1_048_576,
    "gemini-2.0-flash": 1_048_576,
    "gemini-2.5-pro": 1_048_576,
    "gemini-2.5-flash": 1_048_576,
    "llama-3.1": 131_072,
    "llama-3.3": 131_072,
    "mistral-large": 131_072,
    "deepseek-chat": 65_536,
}

ENV_VAR = "TRACE_TUI_CONTEXT_WINDOWS"


@dataclass(frozen=True, slots=True)
class ContextWindow:
    """A window size and where it came from (``step``, ``trace``, ``user`` or ``known``)."""

    tokens: int
    source: str


class ContextWindowTable:
    """Resolves a model id to its context window, most specific source first."""

    def __init__(self, user: Mapping[str, int] | None = None, *, builtin: bool = True) -> None:
        self.user = dict(user or {})
        self.builtin = dict(KNOWN_CONTEXT_WINDOWS) if builtin else {}

    def lookup(
        self, model: str | None, *, trace: Mapping[str, int] | None = None
    ) -> ContextWindow | None:
        """The window for ``model``; ``None`` when no source knows it."""
        if not model:
            return None
        for source, table in (("trace", trace or {}), ("user", self.user), ("known", self.builtin)):
            tokens = match_model(model, table)
            if tokens is not None:
                return ContextWindow(tokens, source)
        return None


def match_model(model: str, table: Mapping[str, int]) -> int | None:
    """Exact match, else the longest key that is a prefix of the model id (case-insensitive)."""
    wanted = model.strip().lower()
    if "/" in wanted:
        wanted = wanted.rsplit("/", 1)[1]
    lowered = {k.lower(): v for k, v in table.items()}
    if wanted in lowered:
        return lowered[wanted]
    best = None
    for key in lowered:
        if wanted.startswith(key) and (best is None or len(key) > len(best)):
            best = key
    return lowered[best] if best is not None else None


def parse_overrides(text: str) -> dict[str, int]:
    """Parse ``model=tokens[,model=tokens...]``; raises ``ValueError`` with a clear message."""
    out: dict[str, int] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        model, sep, tokens = item.partition("=")
        if not sep or not model.strip() or not tokens.strip().isdigit() or int(tokens) <= 0:
            raise BadValue(f"context window override {item!r} is not MODEL=TOKENS")
        out[model.strip()] = int(tokens)
    return out


def config_dir() -> Path:
    """trace-tui's configuration folder (``$XDG_CONFIG_HOME/trace-tui``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "trace-tui"


def load_user_windows(cli_overrides: list[str] | None = None) -> dict[str, int]:
    """User overrides from the config file, then the environment, then the command line."""
    merged: dict[str, int] = {}
    path = config_dir() / "context_windows.json"
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            merged.update({str(k): int(v) for k, v in data.items() if int(v) > 0})
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            log.warning("ignoring %s: %s", path, exc)
    if os.environ.get(ENV_VAR):
        merged.update(parse_overrides(os.environ[ENV_VAR]))
    for item in cli_overrides or ():
        merged.update(parse_overrides(item))
    return merged
