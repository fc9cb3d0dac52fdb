"""Short human formats for numbers the screen shows: durations, token counts, step numbers."""

from __future__ import annotations


def fmt_duration(seconds: float | None) -> str:
    """``250ms``, ``2.3s``, ``1m02s``, ``3h04m``; empty when unknown."""
    if seconds is None:
        return ""
    if seconds < 0.0005:
        return "<1ms"
    # each unit ends where its rounding would reach the next one: 0.9996 s is "1.0s", never
    # "1000ms"; 9.96 s is "10s", never "10.0s"; 59.7 s is "1m00s", never "60s"
    if seconds < 0.9995:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 9.95:
        return f"{seconds:.1f}s"
    if seconds < 59.5:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(max(int(seconds), 60), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def fmt_tokens(count: int | None) -> str:
    """Compact token counts: ``950``, ``12.3k``, ``128k``, ``1.05M``; empty when unknown."""
    if count is None:
        return ""
    if count < 1000:
        return str(count)
    if count < 100_000:
        return f"{count / 1000:.1f}k".replace(".0k", "k")
    if count < 1_000_000:
        return f"{count // 1000}k"
    return f"{count / 1_000_000:.2f}M".replace(".00M", "M")


def fmt_count(count: int) -> str:
    """A count with thousands separators: ``1,000,000``."""
    return f"{count:,}"


def fmt_percent(fraction: float | None) -> str:
    """``74%`` (``<1%`` for tiny shares); ``?`` when unknown."""
    if fraction is None:
        return "?"
    if 0 < fraction < 0.01:
        return "<1%"
    return f"{fraction * 100:.0f}%"
