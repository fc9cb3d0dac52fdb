"""What differs in the selected pair of steps: token, latency and cost deltas, the changed
JSON pointers with old and new values, and word diffs of long strings (prompts, answers).

For a step only one run has, the step's main payload is shown instead. Every trace string
goes through :func:`trace_tui.tui.display.safe_text.display_str` before it becomes a ``Text``; the
text is cut at :data:`DETAIL_CAP` characters so a huge prompt never stalls the screen.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from trace_tui.core.diff.compare import ADDED, CHANGED, REMOVED, SAME, Delta, DiffRow, RunDiff
from trace_tui.core.diff.payload import FieldChange, TextPiece
from trace_tui.core.diff.summary import short_json
from trace_tui.core.diff.wording import delta_text, step_title, value_text
from trace_tui.core.model.run import Step
from trace_tui.tui.display.safe_text import display_str

#: Most characters of trace text one detail view is built from.
DETAIL_CAP = 20_000
_STATUS_WORDS = {
    SAME: "same in both runs",
    CHANGED: "changed",
    ADDED: "only in B (added)",
    REMOVED: "only in A (removed)",
}


class DiffDetail(VerticalScroll, can_focus=True):
    """The payload diff of one aligned row (see the module docstring)."""

    COMPONENT_CLASSES = {
        "diff-detail--added",
        "diff-detail--removed",
        "diff-detail--changed",
        "diff-detail--pointer",
        "diff-detail--muted",
        "diff-detail--title",
        "diff-detail--gone",
    }

    DEFAULT_CSS = """
    DiffDetail {
        background: $surface;
        padding: 0 1;
        & > .diff-detail--added { color: $success; text-style: underline; }
        & > .diff-detail--removed { color: $error; text-style: strike; }
        & > .diff-detail--changed { color: $warning; }
        & > .diff-detail--pointer { color: $primary; }
        & > .diff-detail--muted { color: $foreground-muted; }
        & > .diff-detail--title { text-style: bold; }
        & > .diff-detail--gone { color: $error; }
        & > Static { width: 1fr; }
    }
    """

    def compose(self) -> Any:
        yield Static(Text("Comparing…"), id="diff-detail-body")

    def show_row(self, diff: RunDiff, row: int) -> None:
        """Show what differs in ``diff.rows[row]``."""
        text = DetailText(self, diff).build(diff.rows[row], row)
        self.query_one("#diff-detail-body", Static).update(text)
        self.scroll_home(animate=False)

    def show_message(self, text: Text) -> None:
        """Show a note instead of a row (still comparing, nothing to compare)."""
        self.query_one("#diff-detail-body", Static).update(text)

    def part_style(self, name: str) -> Style:
        """A component style by short name (``added``, ``pointer`` ...)."""
        return self.get_component_rich_style(f"diff-detail--{name}")


class DetailText:
    """Builds the ``Text`` of one row, styled through the widget's component classes."""

    def __init__(self, widget: DiffDetail, diff: RunDiff) -> None:
        self.widget = widget
        self.diff = diff
        self.budget = DETAIL_CAP

    def build(self, row: DiffRow, number: int) -> Text:
        """Title, deltas, then changes (paired rows) or the step's payload (one side)."""
        out = Text(end="")
        out.append(f"{row.marker} row {number + 1}: ", self.widget.part_style(_status_style(row)))
        out.append(
            display_str(step_title(self.diff, row), one_line=True, limit=160),
            self.widget.part_style("title"),
        )
        out.append(f"  — {_STATUS_WORDS[row.status]}\n", self.widget.part_style("muted"))
        out.append(
            f"A step {_num(row.left)}  ↔  B step {_num(row.right)}\n",
            self.widget.part_style("muted"),
        )
        self._deltas(out, self.diff.deltas(row))
        if row.status == CHANGED:
            out.append(f"\n{len(row.changes)} change(s):\n", self.widget.part_style("title"))
            for change in row.changes:
                if self.budget <= 0:
                    out.append("… (cut: too much to show)\n", self.widget.part_style("muted"))
                    break
                self._change(out, change)
        elif row.status == SAME:
            ignored = ", ".join(self.diff.rules.words) or "nothing"
            out.append(
                f"\nNo difference (ignoring: {display_str(ignored, one_line=True)}).\n",
                self.widget.part_style("muted"),
            )
        else:
            step = (
                self.diff.right.step(row.right)
                if row.right is not None
                else self.diff.left.step(row.left or 0)
            )
            self._payload(out, step, "added" if row.status == ADDED else "removed")
        return out

    def _deltas(self, out: Text, deltas: dict[str, Delta]) -> None:
        parts = [
            ("tokens", delta_text(deltas["tokens"])),
            ("latency", delta_text(deltas["latency"], seconds=True)),
            ("cost", delta_text(deltas["cost"], money=True)),
        ]
        for n, (label, value) in enumerate(parts):
            out.append(f"{label} ", self.widget.part_style("muted"))
            out.append(value)
            out.append("  ·  " if n < len(parts) - 1 else "\n", self.widget.part_style("muted"))

    def _change(self, out: Text, change: FieldChange) -> None:
        mark = {"added": "+", "removed": "-", "changed": "~"}[change.op]
        out.append(f"  {mark} ", self.widget.part_style(change.op))
        out.append(
            display_str(change.pointer or "/", one_line=True, limit=200),
            self.widget.part_style("pointer"),
        )
        if change.words is not None:
            out.append("\n")
            self._words(out, change.words)
            out.append("\n")
            return
        out.append(": ")
        if change.op != "added":
            out.append(value_text(change.old), self.widget.part_style("removed"))
        if change.op == "changed":
            out.append(" → ")
        if change.op != "removed":
            out.append(value_text(change.new), self.widget.part_style("added"))
        out.append("\n")
        self.budget -= 400

    def _words(self, out: Text, pieces: tuple[TextPiece, ...]) -> None:
        out.append("    ")
        for piece in pieces:
            if self.budget <= 0:
                out.append("…", self.widget.part_style("muted"))
                return
            text = display_str(piece.text, limit=max(1, self.budget))
            self.budget -= len(text)
            if piece.op == "=":
                out.append(_elide(text))
            else:
                out.append(text, self.widget.part_style("added" if piece.op == "+" else "removed"))

    def _payload(self, out: Text, step: Step, side: str) -> None:
        out.append("\nstep payload:\n", self.widget.part_style("title"))
        for label, value in _payload_fields(step):
            out.append(f"  {label}: ", self.widget.part_style("pointer"))
            out.append(
                display_str(short_json(value, 600), one_line=True, limit=600),
                self.widget.part_style("added" if side == "added" else "gone"),
            )
            out.append("\n")


def _payload_fields(step: Step) -> list[tuple[str, Any]]:
    """The fields that say what a step did, by kind."""
    fields: list[tuple[str, Any]] = [("status", step.status)]
    if step.error:
        fields.append(("error", step.error))
    if step.kind == "tool":
        fields += [("arguments", step.tool_arguments), ("result", step.tool_result)]
    elif step.kind == "llm":
        fields += [("model", step.model), ("answer", [m.to_json() for m in step.output_messages])]
    elif step.kind == "retrieval":
        fields += [("query", step.retrieval_query), ("documents", len(step.documents))]
    return fields


def _elide(text: str, keep: int = 120) -> str:
    """Long unchanged stretches of a word diff shortened to their ends."""
    if len(text) <= keep * 2 + 5:
        return text
    return f"{text[:keep]} … {text[-keep:]}"


def _status_style(row: DiffRow) -> str:
    return {SAME: "muted", CHANGED: "changed", ADDED: "added", REMOVED: "removed"}[row.status]


def _num(index: int | None) -> str:
    return str(index + 1) if index is not None else "—"
