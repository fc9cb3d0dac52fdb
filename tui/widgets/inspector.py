"""The payload inspector: the step at the cursor as JSON, conversation, context or raw record.

A mode bar picks the view (``p`` payload, ``c`` chat, ``x`` context, ``r`` raw); a summary
line names the step; the :class:`DocumentView` shows the document; in payload mode a pointer
line shows the JSON pointer of the selected node (``y`` copies it, ``Y`` copies the value).
Only the active view's document is built, and folds and expansions are remembered per step.

Data comes down through :meth:`Inspector.show` as a :class:`StepFocus`; nothing here reads the
app. Copying goes through ``App.copy_to_clipboard`` with the original, unsanitised text.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from trace_tui.core.io.raw_record import RawRecord
from trace_tui.core.model.run import Step
from trace_tui.core.navigation.state import RunState
from trace_tui.core.replay.provenance import replay_answer
from trace_tui.tui.display.formatting import fmt_duration, fmt_tokens
from trace_tui.tui.display.glyphs import ERROR_SYMBOL, RUNNING_SYMBOL, kind_symbol
from trace_tui.tui.display.safe_text import display_str, plain_notice, trace_text
from trace_tui.tui.documents.conversation import BLOCK_STEP, chat_document, context_document
from trace_tui.tui.documents.json_lines import FoldState
from trace_tui.tui.documents.lines import DocLine, line
from trace_tui.tui.documents.step_documents import (
    DEFAULT_FOLDED,
    copy_text,
    payload_document,
    raw_document,
    shown_value_at,
    value_at,
)
from trace_tui.tui.widgets.doc_view import DocumentView
from trace_tui.tui.widgets.text_line import TextLine

log = logging.getLogger(__name__)

#: Views whose document depends on the step alone (and its folds): kept for going back. The
#: context view also reads the steps before it, which may still change while a run is followed.
_KEPT_MODES = ("payload", "chat", "raw")

MODES: tuple[tuple[str, str, str], ...] = (
    ("payload", "Payload", "p"),
    ("chat", "Chat", "c"),
    ("context", "Context", "x"),
    ("raw", "Raw", "r"),
)


@dataclass
class StepFocus:
    """What the inspector shows: the step at the cursor and lazy access to its surroundings."""

    step: Step
    total: int
    context: Callable[[], RunState]
    raw: Callable[[], RawRecord | None]
    future_hidden: int = 0


@dataclass
class _StepViewState:
    folds: FoldState = field(default_factory=lambda: FoldState(default_folded=DEFAULT_FOLDED))
    expanded: dict[str, int] = field(default_factory=dict)


class ModeBar(Static):
    """One line of view names; the active one is highlighted; click to switch."""

    DEFAULT_CSS = """
    ModeBar { height: 1; background: $panel; color: $text-muted; text-wrap: nowrap; }
    """

    @dataclass
    class Picked(Message):
        """A view name was clicked."""

        mode: str

    mode: reactive[str] = reactive("payload")

    def render(self) -> Text:
        """The view names, with their keys."""
        text = Text(no_wrap=True, overflow="ellipsis")
        for key, label, hotkey in MODES:
            style = "reverse bold" if key == self.mode else ""
            text.append(f" {label} ", style=style)
            text.append(f"{hotkey} ", style="dim")
        return text

    def on_click(self, event: events.Click) -> None:
        """Switch to the clicked view."""
        x = 0
        for key, label, hotkey in MODES:
            width = len(label) + len(hotkey) + 3
            if x <= event.x < x + width:
                self.post_message(self.Picked(key))
                return
            x += width


class Inspector(Vertical):
    """The step at the cursor, in four views (payload, chat, context, raw)."""

    DEFAULT_CSS = """
    Inspector { background: $surface; }
    Inspector > #inspector-summary { padding: 0 1; background: $panel; }
    Inspector > #inspector-summary.-error { color: $step-error; }
    Inspector > #inspector-pointer { padding: 0 1; color: $text-muted; background: $panel; }
    Inspector > #inspector-revealed {
        padding: 0 1; background: $error; color: $text; text-style: bold; display: none;
    }
    Inspector > #inspector-revealed.-on { display: block; }
    Inspector > #inspector-verdict { padding: 0 1; height: auto; max-height: 6; display: none;
                                     background: $panel; text-wrap: wrap; }
    Inspector > #inspector-verdict.-blocked { display: block; color: $step-error; }
    Inspector > #inspector-verdict.-warned { display: block; color: $warning; }
    Inspector > #inspector-verdict.-allowed { display: block; color: $text-muted; }
    Inspector > DocumentView { height: 1fr; }
    """

    ALLOW_MAXIMIZE = True
    mode: reactive[str] = reactive("payload")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._focus: StepFocus | None = None
        self._states: OrderedDict[int, _StepViewState] = OrderedDict()
        self._built_for: tuple[int, str, int] | None = None
        #: Documents built lately, by (step index, mode, width), with the step they show (a
        #: step read again, e.g. grown in tail mode, is built again): going back to a step
        #: (g and G, e and E) reuses its document.
        self._documents: LRUCache[tuple[int, str, int], tuple[Step, list[DocLine]]] = (
            LRUCache(16))
        # Raw values the user chose to see, by step index and JSON pointer. Kept only in memory,
        # never logged; the banner stays up while this is not empty.
        self._revealed: dict[int, dict[str, object]] = {}

    def compose(self) -> ComposeResult:
        """Mode bar, summary, document, pointer line."""
        yield ModeBar(id="inspector-modes")
        yield TextLine(id="inspector-revealed")
        yield TextLine(id="inspector-summary")
        yield TextLine(id="inspector-verdict")
        yield DocumentView(id="inspector-doc")
        yield TextLine(id="inspector-pointer")

    @property
    def document(self) -> DocumentView:
        """The document view (focus target)."""
        return self.query_one(DocumentView)

    @property
    def step(self) -> Step | None:
        """The step shown, if any."""
        return self._focus.step if self._focus else None

    # ----------------------------------------------------------------- data in
    def show(self, focus: StepFocus | None) -> None:
        """Show ``focus`` (``None`` while the run has no steps)."""
        self._focus = focus
        self._built_for = None
        self._refresh_summary()
        self._rebuild()

    def show_verdict(self, text: Text | None, verdict: str = "") -> None:
        """The policy verdict of the step shown (already safe text; ``None`` hides the line).

        ``verdict`` is ``blocked``, ``warned`` or ``allowed`` and picks the colour.
        """
        line = self.query_one("#inspector-verdict", TextLine)
        for word in ("blocked", "warned", "allowed"):
            line.set_class(text is not None and verdict == word, f"-{word}")
        line.set_text(text if text is not None else Text())

    def set_total(self, total: int) -> None:
        """The run grew to ``total`` steps: keep the header's ``#N/TOTAL`` true."""
        if self._focus is not None and self._focus.total != total:
            self._focus.total = total
            self._refresh_summary()

    def set_code_style(self, name: str) -> None:
        """Use Pygments style ``name`` for JSON."""
        self.document.set_code_style(name)

    def watch_mode(self, mode: str) -> None:
        """Switch views."""
        self.query_one(ModeBar).mode = mode
        self.query_one("#inspector-pointer").display = mode == "payload"
        self._built_for = None
        self._rebuild()

    def on_resize(self, event: events.Resize) -> None:
        """Re-wrap the document to the new width."""
        self._rebuild()

    def on_mode_bar_picked(self, message: ModeBar.Picked) -> None:
        """A click on the mode bar."""
        self.mode = message.mode

    # ----------------------------------------------------------------- building
    def _state(self, index: int) -> _StepViewState:
        state = self._states.get(index)
        if state is None:
            state = self._states[index] = _StepViewState()
            if len(self._states) > 64:
                self._states.popitem(last=False)
        self._states.move_to_end(index)
        return state

    def _rebuild(self, *, keep: bool = False) -> None:
        if not self.is_mounted:
            return
        doc = self.document
        # one column stays free for the vertical scrollbar, so wrapped text never scrolls sideways
        width = max(20, (doc.scrollable_content_region.width or self.size.width - 2) - 1)
        focus = self._focus
        key = (focus.step.index if focus else -1, self.mode, width)
        if key == self._built_for and not keep:
            return
        self._built_for = key
        selected = doc.selected_line
        anchor = selected.anchor if selected else None
        if focus is None:
            doc.set_document([line(("no steps yet", "note"))])
            return
        lines = self._documents.get(key) if not keep else None
        if lines is None or lines[0] is not focus.step:
            lines = (focus.step, self._build(focus, width))
            if self.mode in _KEPT_MODES:
                self._documents[key] = lines
        doc.set_document(lines[1], anchor=anchor, keep_scroll=keep)

    def _forget(self, index: int) -> None:
        """Step ``index`` will look different (folded, expanded, revealed): build it again."""
        for key in [key for key in self._documents.keys() if key[0] == index]:
            self._documents.discard(key)

    def _build(self, focus: StepFocus, width: int) -> list[DocLine]:
        step = focus.step
        state = self._state(step.index)
        try:
            if self.mode == "chat":
                return chat_document(step, width, state.expanded)
            if self.mode == "context":
                return context_document(focus.context(), width, state.expanded)
            if self.mode == "raw":
                try:
                    record = focus.raw()
                except OSError as exc:
                    return raw_document(step, None, width, f"cannot read the record: {exc}")
                return raw_document(step, record, width, expanded=state.expanded)
            return payload_document(step, state.folds, width, self._revealed.get(step.index))
        except Exception as exc:  # a bad payload must not take the screen down
            log.exception("inspector could not build the %s view", self.mode)
            return [line((plain_notice(f"cannot show this view: {exc!r}"), "error"))]

    def _refresh_summary(self) -> None:
        summary = self.query_one("#inspector-summary", TextLine)
        focus = self._focus
        if focus is None:
            summary.set_text(Text("no step selected"))
            return
        summary.set_class(focus.step.is_error, "-error")
        summary.set_text(step_summary(focus.step, focus.total))

    # ----------------------------------------------------------------- document events
    def on_document_view_activated(self, message: DocumentView.Activated) -> None:
        """Fold, unfold or expand at the activated line, then rebuild keeping the selection."""
        message.stop()
        focus, doc_line = self._focus, message.doc_line
        if focus is None or doc_line.anchor is None or doc_line.action is None:
            return
        state = self._state(focus.step.index)
        if self.mode == "payload":
            state.folds.apply(doc_line.action, doc_line.anchor)
        else:
            state.expanded[doc_line.anchor] = state.expanded.get(doc_line.anchor, 0) + BLOCK_STEP
        self._forget(focus.step.index)
        self._rebuild(keep=True)

    def on_document_view_selection_changed(self, message: DocumentView.SelectionChanged) -> None:
        """Show the selected node's JSON pointer."""
        message.stop()
        pointer = self.query_one("#inspector-pointer", TextLine)
        anchor = message.doc_line.anchor if message.doc_line else None
        if self.mode != "payload" or anchor is None:
            pointer.set_text(Text(""))
            return
        text = Text("pointer ", style="dim")
        text.append_text(trace_text(anchor or "/", one_line=True, limit=400))
        text.append("   y copy · Y copy value · R reveal", style="dim")
        pointer.set_text(text)

    def on_document_view_copy_requested(self, message: DocumentView.CopyRequested) -> None:
        """Copy the pointer or the original value at it."""
        message.stop()
        focus, anchor = self._focus, message.doc_line.anchor
        if focus is None or anchor is None:
            return
        if self.mode != "payload":
            self.notify("copy works on Payload lines (press p)", severity="warning",
                        markup=False)
            return
        if message.what == "pointer":
            text, what = anchor, f"pointer {plain_notice(anchor or '/', 120)}"
        else:
            try:
                revealed = self._revealed.get(focus.step.index)
                text = copy_text(shown_value_at(focus.step, anchor, revealed))
            except KeyError:
                self.notify("nothing at that pointer", severity="warning", markup=False)
                return
            what = f"value at {plain_notice(anchor or '/', 120)} ({len(text):,} chars)"
        self.app.copy_to_clipboard(text)
        self.notify(f"copied {what}", markup=False)


    def on_document_view_reveal_requested(self, message: DocumentView.RevealRequested) -> None:
        """Show the raw value at the selected pointer, or mask it again if it is shown."""
        message.stop()
        focus, anchor = self._focus, message.doc_line.anchor
        if focus is None or anchor is None:
            return
        if self.mode != "payload":
            self.notify("reveal works on Payload lines (press p)", severity="warning",
                        markup=False)
            return
        revealed = self._revealed.setdefault(focus.step.index, {})
        if anchor in revealed:
            del revealed[anchor]
        else:
            try:
                raw = value_at(focus.step, anchor)
                masked = shown_value_at(focus.step, anchor) != raw
            except KeyError:
                return
            if not masked:
                self.notify("nothing is masked here", markup=False)
                return
            revealed[anchor] = raw
        if not revealed:
            del self._revealed[focus.step.index]
        self._forget(focus.step.index)
        self._refresh_banner()
        self._rebuild(keep=True)

    def _refresh_banner(self) -> None:
        count = sum(len(v) for v in self._revealed.values())
        banner = self.query_one("#inspector-revealed", TextLine)
        banner.set_class(bool(count), "-on")
        banner.set_text(Text(
            f"⚠ {count} secret field(s) revealed · R on a revealed line masks it again",
            no_wrap=True, overflow="ellipsis") if count else Text(""))


def step_summary(step: Step, total: int) -> Text:
    """One line naming a step: number, kind symbol, name, status, duration, tokens."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"#{step.number}/{total} ", style="bold")
    error = step.is_error
    symbol = ERROR_SYMBOL if error else RUNNING_SYMBOL if step.status == "running" else (
        kind_symbol(step.kind))
    text.append(f"{symbol} {step.kind} ", style="bold")
    # a branch's step says first how the replay answered it (the header is cut at 80 columns)
    answer = replay_answer(step) if step.attributes else None
    if answer == "pending":
        text.append("waiting for an answer ", style="bold")
    elif answer is not None:
        text.append(f"[{answer}] ", style="bold")
    text.append_text(trace_text(step.name, one_line=True, limit=80))
    bits = [] if answer == "pending" else [step.status]
    if step.duration is not None and answer != "pending":
        bits.append(fmt_duration(step.duration))
    usage = step.usage
    if usage is not None:
        bits.append(f"{fmt_tokens(usage.input_tokens) or '?'}→"
                    f"{fmt_tokens(usage.output_tokens) or '?'} tokens")
    if step.model:
        bits.append(display_str(step.model, one_line=True, limit=40))
    if step.tool_call_id:
        bits.append(display_str(step.tool_call_id, one_line=True, limit=40))
    if bits:
        text.append("  " + " · ".join(bits), style="dim")
    return text
