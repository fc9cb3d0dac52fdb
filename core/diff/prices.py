"""What a model call costs: a small table of list prices, in US dollars per million tokens.

Used by the diff to show cost deltas next to token deltas. The table holds a handful of widely
used models (vendors' public list prices for standard, non-batch use); a model it does not know
stays *unknown* — the diff says so rather than guessing. Cached-input discounts and per-request
fees are not modelled, so a figure is an estimate of list price, not an invoice.

Keys match like context windows do: exact id first, else the longest key that is a prefix of
the model id, case-insensitively, after dropping a ``provider/`` prefix (``openai/gpt-4o-mini``
finds ``gpt-4o-mini``; ``gpt-4o-2024-08-06`` finds ``gpt-4o``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class Price:
    """List price of one model: dollars per million input and output tokens."""

    input_per_million: float
    output_per_million: float

    def cost(self, input_tokens: int | None, output_tokens: int | None) -> float | None:
        """Dollars for one call; ``None`` when neither token count is known."""
        if input_tokens is None and output_tokens is None:
            return None
        return (
            (input_tokens or 0) * self.input_per_million
            + (output_tokens or 0) * self.output_per_million
        ) / 1_000_000


#: List prices (USD per 1M tokens: input, output) of common models.
KNOWN_PRICES: dict[str, Price] = {
    "gpt-4o": Price(2.50, 10.00),
    "gpt-4o-mini": Price(0.15, 0.60),
    "gpt-4.1": Price(2.00, 8.00),
    "gpt-4.1-mini": Price(0.40, 1.60),
    "gpt-4.1-nano": Price(0.10, 0.40),
    "gpt-5": Price(1.25, 10.00),
    "gpt-5-mini": Price(0.25, 2.00),
    "gpt-5-nano": Price(0.05, 0.40),
    "o3": Price(2.00, 8.00),
    "o3-mini": Price(1.10, 4.40),
    "o4-mini": Price(1.10, 4.40),
    "claude-opus-4": Price(15.00, 75.00),
    "claude-sonnet-4": Price(3.00, 15.00),
    "claude-3-5-sonnet": Price(3.00, 15.00),
    "claude-3-7-sonnet": Price(3.00, 15.00),
    "claude-3-5-haiku": Price(0.80, 4.00),
    "gemini-2.5-pro": Price(1.25, 10.00),
    "gemini-2.5-flash": Price(0.30, 2.50),
}


def price_of(model: str | None, table: Mapping[str, Price] | None = None) -> Price | None:
    """The price of ``model`` from ``table`` (default: :data:`KNOWN_PRICES`), or ``None``."""
    if not model:
        return None
    if table is None:
        return _known_price(model)
    return _match(model, {k.lower(): v for k, v in table.items()})


@lru_cache(maxsize=256)
def _known_price(model: str) -> Price | None:
    return _match(model, {k.lower(): v for k, v in KNOWN_PRICES.items()})


def _match(model: str, prices: Mapping[str, Price]) -> Price | None:
    wanted = model.strip().lower()
    if "/" in wanted:
        wanted = wanted.rsplit("/", 1)[1]
    if wanted in prices:
        return prices[wanted]
    best: str | None = None
    for key in prices:
        if wanted.startswith(key) and (best is None or len(key) > len(best)):
            best = key
    return prices[best] if best is not None else None


def call_cost(
    model: str | None, input_tokens: int | None, output_tokens: int | None
) -> float | None:
    """Dollars for one model call, or ``None`` when the model's price or the usage is unknown."""
    price = price_of(model)
    return price.cost(input_tokens, output_tokens) if price is not None else None
