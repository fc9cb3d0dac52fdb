"""The context-window gauge for the step at the cursor.

Shows the latest model call at or before the cursor: input (and output) tokens against the
model's window as a bar and a percentage, the split into system prompt, tool schemas,
history, tool results and output (estimated by character share, labelled so; totals exact
where usage was recorded), the peak so far and the run's peak, a warning from 80 %, and any
truncation or compaction. An unknown window is said plainly, with the flag that fixes it.

The numbers come from :mod:`trace_tui.core.navigation.gauge`; this widget only lays them out,
compactly
in a short pane and as a list in a tall one.
"""

from __future__ import annotations

import textwrap

from rich.style import Style
from rich.text import Text

from trace_tui.core.navigation.gauge import ContextBreakdown, ContextNote, fraction_level
from trace_tui.tui.display.formatting import fmt_count, fmt_percent, fmt_tokens
from trace_tui.tui.display.safe_text import display_str
from trace_tui.tui.session.gauge_model import GaugeModel
from trace_tui.tui.widgets.text_line import TextLines

UNKNOWN_WINDOW = "window unknown (use --context-window MODEL=TOKENS)"
_PART_CLASS = {"system": "system", "tools": "tools", "history": "history",
               "tool_results": "results", "output": "output"}
_SHORT = {"system": "sys", "tools": "tools", "history": "hist", "tool_results": "results",
          "output": "out"}


class ContextGauge(TextLines):
    """Bar, percentage, breakdown, peaks and warnings for the model call at the cursor."""

    DEFAULT_CSS = """
    ContextGauge { height: 5; padding: 0 1; background: $panel;
                   text-wrap: nowrap; text-overflow: ellipsis; }
    ContextGauge > .gauge--ok { color: $gauge-ok; text-style: bold; }
    ContextGauge > .gauge--warn { color: $gauge-warn; text-style: bold; }
    ContextGauge > .gauge--over { color: $gauge-over; text-style: bold; }
    ContextGauge > .gauge--unknown { color: $text-muted; text-style: bold; }
    ContextGauge > .gauge--empty { color: $gauge-empty; }
    ContextGauge > .gauge--system { color: $gauge-system; }
    ContextGauge > .gauge--tools { color: $gauge-tools; }
    ContextGauge > .gauge--history { color: $gauge-history; }
    ContextGauge > .gauge--results { color: $gauge-results; }
    ContextGauge > .gauge--output { color: $gauge-output; }
    ContextGauge > .gauge--muted { color: $text-muted; }
    ContextGauge > .gauge--title { text-style: bold; }
    """

    COMPONENT_CLASSES = {
        "gauge--ok", "gauge--warn", "gauge--over", "gauge--unknown", "gauge--empty",
        "gauge--system", "gauge--tools", "gauge--history", "gauge--results", "gauge--output",
        "gauge--muted", "gauge--title",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._model: GaugeModel | None = None
        self._styles: dict[str, Style] | None = None
        self._text: Text | None = None
        #: What ``_text`` was laid out for: the model, the width and the height.
        self._text_for: tuple[GaugeModel | None, int, int] | None = None

    @property
    def model(self) -> GaugeModel | None:
        """What the gauge shows."""
        return self._model

    def show(self, model: GaugeModel | None) -> None:
        """Show ``model`` (``None`` before any step); repaint only if the gauge looks
        different (the next step often has the same latest model call)."""
        self._model = model
        if not self.is_mounted:
            self.refresh()
            return
        key = self._layout_key()
        text = self._layout()
        if text != self._text:
            self._text = text
            self.refresh()
        self._text_for = key

    def shown_text(self) -> Text:
        """The gauge laid out for the current model and size."""
        key = self._layout_key()
        if self._text is None or self._text_for != key:
            self._text, self._text_for = self._layout(), key
        return self._text

    def _layout_key(self) -> tuple[GaugeModel | None, int, int]:
        return (self._model, self.content_region.width, self.size.height)

    def _s(self, name: str) -> Style:
        if self._styles is None:
            self._styles = {c.removeprefix("gauge--"): self.get_component_rich_style(c)
                            for c in self.COMPONENT_CLASSES}
        return self._styles[name]

    def notify_style_update(self) -> None:
        """The theme changed: drop cached styles (and the text made with them)."""
        super().notify_style_update()
        self._styles = None
        self._text = self._text_for = None

    def _layout(self) -> Text:
        """The gauge, compact or as a list depending on the space."""
        model = self._model
        width = max(10, self.content_region.width or self.size.width or 40)
        if model is None:
            return Text("Context: no steps yet", style=self._s("muted"))
        if model.breakdown is None:
            if model.running_step is not None:
                return Text(f"Context: the model call at step {model.running_step} is still "
                            "running (nothing finished to measure yet)", style=self._s("muted"))
            return Text(f"Context: no model call yet at step {model.cursor_number}",
                        style=self._s("muted"))
        if self.size.height >= 14:
            return self._tall(model, model.breakdown, width)
        return self._compact(model, model.breakdown, width)

    # ----------------------------------------------------------------- layouts
    def _headline(self, b: ContextBreakdown) -> Text:
        text = Text()
        level = b.level
        text.append(fmt_percent(b.fraction) if b.window else "?%", style=self._s(level))
        text.append(f" {fmt_tokens(b.used_tokens)}", style=self._s("title"))
        if b.window:
            text.append(f"/{fmt_tokens(b.window.tokens)}")
        text.append(" exact" if b.exact else " ≈est", style=self._s("muted"))
        return text

    def _bar(self, b: ContextBreakdown, width: int) -> Text:
        width = max(4, width)
        text = Text()
        # An unknown window: the bar shows only the split, in light shade, never a full bar
        # that would read as 100 %.
        block = "█" if b.window else "░"
        scale = b.window.tokens if b.window else max(1, b.used_tokens)
        used = 0
        for part in b.parts:
            cells = round(part.tokens * width / scale) if scale else 0
            cells = min(cells, width - used)
            if part.tokens and cells == 0 and used < width:
                cells = 1
            text.append(block * cells, style=self._s(_PART_CLASS[part.key]))
            used += cells
        if b.window:
            text.append("·" * (width - used), style=self._s("empty"))
        return text

    def _compact(self, model: GaugeModel, b: ContextBreakdown, width: int) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("Context ", style=self._s("title"))
        if model.running_step is not None:  # said first: a short pane cuts the line's end
            text.append(f"(step {model.running_step} running) ", style=self._s("muted"))
        text.append_text(self._headline(b))
        model_name = display_str(b.model or "?", one_line=True, limit=24)
        text.append(f" · step {b.step_index + 1} {model_name}", style=self._s("muted"))
        text.append("\n")
        text.append_text(self._bar(b, width))
        text.append("\n")
        parts = " ".join(
            f"{_SHORT[p.key]} {fmt_tokens(p.tokens) if p.recorded else '?'}" for p in b.parts
        )
        if not all(p.recorded for p in b.parts):
            parts += "  ? not recorded"
        text.append(parts, style=self._s("muted"))
        text.append("  (split ≈)" if width > len(parts) + 11 else "", style=self._s("muted"))
        room = max(0, self.size.height - 3)
        for line in self._tail_lines(model, b, width, compact=True)[:room]:
            text.append("\n")
            text.append_text(line)
        return text

    def _tall(self, model: GaugeModel, b: ContextBreakdown, width: int) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("Context window\n", style=self._s("title"))
        model_name = display_str(b.model or "unknown model", one_line=True, limit=width - 12)
        text.append(f"step {b.step_index + 1} · {model_name}\n", style=self._s("muted"))
        text.append_text(self._bar(b, width))
        text.append("\n")
        text.append_text(self._headline(b))
        text.append("\n")
        text.append(f"input {fmt_count(b.input_tokens)} {'exact' if b.input_exact else '≈'}"
                    f" · output {fmt_count(b.output_tokens)}"
                    f" {'exact' if b.output_exact else '≈'}\n", style=self._s("muted"))
        if b.cached_tokens:
            text.append(f"cached {fmt_count(b.cached_tokens)}\n", style=self._s("muted"))
        text.append("\n")
        label_width = max(len(p.label) for p in b.parts)
        for part in b.parts:
            text.append("█ ", style=self._s(_PART_CLASS[part.key]))
            if not part.recorded:
                text.append(f"{part.label:<{label_width}} not recorded by this format\n")
                continue
            text.append(f"{part.label:<{label_width}} {fmt_count(part.tokens):>9}")
            text.append(" exact\n" if part.exact else " ≈\n", style=self._s("muted"))
        text.append("≈ split by character share (~4 chars/token)\n", style=self._s("muted"))
        for line in self._tail_lines(model, b, width, compact=False):
            text.append("\n")
            text.append_text(line)
        return text

    def _tail_lines(self, model: GaugeModel, b: ContextBreakdown, width: int,
                    *, compact: bool) -> list[Text]:
        lines: list[Text] = []
        if b.window is None:
            lines.append(Text(UNKNOWN_WINDOW, style=self._s("warn")))
        elif b.level in ("warn", "over") and not compact:
            word = "over the window" if b.level == "over" else "above 80% of the window"
            lines.append(Text(f"⚠ {fmt_percent(b.fraction)}: {word}", style=self._s(b.level)))
        if compact:
            # one line of warnings, the most telling first, so a short pane still shows
            # "system prompt missing" (the headline's colour already says "above 80%")
            bits = [short_note(n) for n in sorted(model.notes, key=_note_rank)]
            if b.window is not None and b.level in ("warn", "over"):
                bits.append("over the window" if b.level == "over" else "above 80%")
            if bits:
                lines.append(Text("⚠ " + " · ".join(bits), style=self._s("warn")))
        else:
            for note in sorted(model.notes, key=_note_rank):
                for n, part in enumerate(textwrap.wrap(note.text, max(10, width - 2))):
                    lines.append(Text(("⚠ " if n == 0 else "  ") + part,
                                      style=self._s("warn")))
        peaks = Text(style=self._s("muted"))
        pairs = [("peak so far", model.peak_so_far), ("run peak", model.run_peak)]
        if model.peak_so_far is not None and model.run_peak is not None and \
                model.peak_so_far.peak == model.run_peak.peak:
            pairs = [("peak (whole run)", model.run_peak)]
        for label, info in pairs:
            if info is None:
                continue
            if peaks:
                peaks.append(" · " if compact else "\n")
            peaks.append(f"{label} ")
            shown = fmt_percent(info.fraction) if info.fraction is not None else (
                fmt_tokens(info.peak.input_tokens))
            peaks.append(shown, style=self._s(fraction_level(info.fraction)))
            peaks.append(f" @ step {info.peak.index + 1}")
        if peaks:
            lines.append(peaks)
        if not compact:
            lines.extend(Text(extra, style=self._s("muted")) for extra in model.extra)
        return lines


#: Warnings in the order they matter to someone asking "why did the model forget?".
_NOTE_ORDER = ("system", "flagged", "shrank", "messages")


def _note_rank(note: ContextNote) -> int:
    return _NOTE_ORDER.index(note.kind) if note.kind in _NOTE_ORDER else len(_NOTE_ORDER)


def short_note(note: ContextNote) -> str:
    """A few words for a warning, for the one-line list of a short gauge."""
    if note.kind == "system":
        return "system prompt missing"
    if note.kind == "flagged":
        return "context truncated (by the agent)"
    if note.kind == "messages":
        return note.text.split(" sent")[0]
    if note.kind == "shrank":
        return note.text.split(" since")[0]
    return note.text
