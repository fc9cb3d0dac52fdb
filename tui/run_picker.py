"""The live view of ``trace-tui receive --open`` / ``tail otlp://``: pick a run, watch it live.

:class:`RunPickerApp` lists the traces the receiver has written so far (service, root span,
spans, errors, when seen), refreshed twice a second. Enter opens the highlighted trace in the
debugger as a live tail (its own file, written by the receiver); quitting the debugger comes
back to the list; ``q`` on the list stops. The first trace to arrive opens by itself, so a
single agent run needs no picking.

Everything shown comes from received spans, which are untrusted: names go through the one
display door (:mod:`trace_tui.tui.display.safe_text`), masked and sanitised.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer

from trace_tui.core.receive.server import ReceiverServer
from trace_tui.core.receive.spool import SpanSpool, TraceEntry
from trace_tui.core.text.redact import Redactor, load_redactor
from trace_tui.themes import DEFAULT_THEME, NO_COLOR_THEME, load_themes
from trace_tui.tui.display.safe_text import configure_redaction, display_str
from trace_tui.tui.widgets.text_line import TextLine

_COLUMNS = ("service", "root span", "spans", "errors", "first seen", "last", "trace id")


class RunPickerApp(App[Path | None]):
    """The list of received runs (see module doc); returns the chosen trace's file or None."""

    TITLE = "trace-tui · receiving"
    CSS = """
    #receiving { height: 1; padding: 0 1; background: $panel; }
    #hint { height: 1; padding: 0 1; color: $text-muted; }
    DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("enter", "open_run", "Open run", id="runs.open", priority=True,
                tooltip="Open the highlighted run in the debugger (live)"),
        Binding("q", "quit_picker", "Quit", id="runs.quit", tooltip="Stop receiving and quit"),
    ]

    def __init__(self, server: ReceiverServer, spool: SpanSpool, *, auto_open: bool,
                 theme: str | None = None) -> None:
        super().__init__()
        for item in load_themes():
            self.register_theme(item.theme)
        self.theme = theme or (NO_COLOR_THEME if self.no_color else DEFAULT_THEME)
        self.server = server
        self.spool = spool
        self.auto_open = auto_open
        self._shown: list[str] = []

    def compose(self) -> ComposeResult:
        """Header line, hint, the table of runs, the keys."""
        yield TextLine(id="receiving")
        yield TextLine(id="hint")
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_columns(*_COLUMNS)
        yield table
        yield Footer()

    def on_mount(self) -> None:
        """Fill the list now and twice a second."""
        self.refresh_runs()
        self.set_interval(0.5, self.refresh_runs, name="refresh runs")

    def refresh_runs(self) -> None:
        """Show the traces written so far, keeping the highlighted one highlighted."""
        entries = self.spool.traces()
        stats = self.spool.stats
        self.query_one("#receiving", TextLine).set_text(Text(
            f"Receiving OTLP/HTTP on {self.server.url} · {stats.spans:,} spans in "
            f"{len(entries):,} runs", end=""))
        hint = (f"Waiting for spans: point an exporter at it, e.g. "
                f"OTEL_EXPORTER_OTLP_ENDPOINT=http://{self._host_port()}"
                if not entries else "Enter opens a run live · q in the run comes back here")
        self.query_one("#hint", TextLine).set_text(Text(hint, end=""))
        if self.auto_open and len(entries) == 1:
            self.exit(entries[0].path)
            return
        self._fill(entries)

    def _host_port(self) -> str:
        return self.server.url.removeprefix("http://").removesuffix("/v1/traces")

    def _fill(self, entries: list[TraceEntry]) -> None:
        table = self.query_one(DataTable)
        order = [e.trace_id for e in entries]
        if order == self._shown and table.row_count:
            for entry in entries:
                for column, cell in zip(table.columns, _cells(entry), strict=True):
                    table.update_cell(entry.trace_id, column, cell)
            return
        current = self._highlighted()
        table.clear()
        for entry in entries:
            table.add_row(*_cells(entry), key=entry.trace_id)
        self._shown = order
        if current in order:
            table.move_cursor(row=order.index(current), animate=False)

    def _highlighted(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return self._shown[table.cursor_row] if table.cursor_row < len(self._shown) else None

    def action_open_run(self) -> None:
        """Open the highlighted run."""
        trace_id = self._highlighted()
        if trace_id is None:
            self.notify("no run has arrived yet", markup=False, timeout=3)
            return
        entry = self.spool.stats.traces.get(trace_id)
        if entry is not None:
            self.exit(entry.path)

    def action_quit_picker(self) -> None:
        """Stop."""
        self.exit(None)


def _cells(entry: TraceEntry) -> tuple[Text, ...]:
    now = time.time()
    errors = Text(f"{entry.errors:,}", style="bold red" if entry.errors else "", end="")
    return (
        Text(display_str(entry.service, one_line=True, limit=30), end=""),
        Text(display_str(entry.root_name or "(root not arrived)", one_line=True, limit=40),
             style="" if entry.root_name else "dim", end=""),
        Text(f"{entry.spans:,}", end=""),
        errors,
        Text(time.strftime("%H:%M:%S", time.localtime(entry.first_seen)), end=""),
        Text(f"{max(0, int(now - entry.last_seen))}s ago", end=""),
        Text(entry.trace_id[:16], style="dim", end=""),
    )


def run_live_view(server: ReceiverServer, spool: SpanSpool, args: argparse.Namespace) -> int:
    """Alternate between the run list and the debugger on a chosen run until the user quits."""
    from trace_tui.tui.app import build_app
    from trace_tui.tui.logfile import logging_to_file

    redactor: Redactor = getattr(args, "redactor", None) or load_redactor(
        enabled=not getattr(args, "no_redact", False))
    configure_redaction(redactor)
    auto_open = True
    with logging_to_file():
        while True:
            picker = RunPickerApp(server, spool, auto_open=auto_open,
                                  theme=getattr(args, "theme", None))
            chosen = picker.run()
            auto_open = False
            if chosen is None:
                return 0
            app = build_app(chosen, follow=True, format_name="otlp-jsonl",
                            context_windows=getattr(args, "context_window", None) or [],
                            theme=getattr(args, "theme", None), redactor=redactor)
            app.sub_title = "q: back to the list of received runs"
            app.run()
