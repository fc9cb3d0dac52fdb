"""The fork editor: a step's native record as editable JSON, the edits it makes, and Save.

Opened with ``F`` on a step. The text is
:func:`~trace_tui.tui.session.branch_session.editable_json` of the
step's record (secrets masked, controls escaped). As the user types, the JSON-Patch edits
against the shown record are listed below the editor, or the one-line reason they cannot be
made (bad JSON, an id or the kind changed). ``ctrl+o`` edits the text in ``$EDITOR`` instead
(the app is suspended meanwhile). ``ctrl+s`` checks the fork in a worker (the parent run is read
and :func:`~trace_tui.core.replay.fork.plan_fork` refuses a fork that cannot replay, with the
reason,
shown here) and dismisses with the :class:`~trace_tui.core.replay.fork.ForkPlan`. Escape cancels.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Static, TextArea
from textual.worker import Worker, WorkerState

from trace_tui.core.replay.fork import ForkError, ForkPlan
from trace_tui.tui.display.safe_text import display_str
from trace_tui.tui.session.branch_session import describe_edit, edits_from_text

log = logging.getLogger(__name__)

#: How many edits the list below the editor shows before "+N more".
SHOWN_EDITS = 2

Planner = Callable[[list[dict[str, Any]]], ForkPlan]


class ForkEditorScreen(ModalScreen[ForkPlan | None]):
    """Edit one step's record and fork there (see the module docstring)."""

    DEFAULT_CSS = """
    ForkEditorScreen { align: center middle; background: $background 50%; }
    ForkEditorScreen > Vertical { width: 100%; height: 1fr; background: $panel;
                                  border: round $primary; padding: 0 1; }
    ForkEditorScreen .fork-title { text-style: bold; height: 1; text-wrap: nowrap;
                                   text-overflow: ellipsis; }
    ForkEditorScreen .fork-hint { color: $text-muted; height: 1; text-wrap: nowrap;
                                  text-overflow: ellipsis; }
    ForkEditorScreen TextArea { height: 1fr; min-height: 3; border: none; }
    ForkEditorScreen TextArea:focus { border: none; }
    ForkEditorScreen #fork-edits { height: auto; max-height: 3; text-wrap: nowrap;
                                   text-overflow: ellipsis; }
    ForkEditorScreen #fork-error { height: auto; max-height: 2; color: $error;
                                   text-style: bold; }
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Fork & replay", id="fork.save",
                tooltip="Check the edits, fork at this step and replay forward"),
        Binding("ctrl+o", "external_editor", "Edit in $EDITOR", id="fork.external_editor",
                tooltip="Edit the JSON in the program named by $EDITOR (when it is set)"),
        Binding("escape", "cancel", "Cancel", id="fork.cancel",
                tooltip="Close the editor without forking"),
    ]

    def __init__(self, title: str, text: str, planner: Planner) -> None:
        super().__init__()
        self._title = title
        self._shown = text
        self._planner = planner
        self.edits: list[dict[str, Any]] = []
        self.problem: str | None = None
        self.checking = False

    def compose(self) -> ComposeResult:
        """Title, hint, the JSON, the edits, the error line, the keys."""
        with Vertical():
            yield Static(Text(self._title, end=""), classes="fork-title")
            yield Static(Text("Edit values (attributes, status, error, name); ids, kind and "
                              "times stay. ctrl+s forks and replays, Esc cancels.", end=""),
                         classes="fork-hint")
            area = TextArea.code_editor(self._shown, tab_behavior="focus", id="fork-text")
            area.cursor_blink = False
            yield area
            yield Static(id="fork-edits")
            yield Static(id="fork-error")
        yield Footer()

    def on_mount(self) -> None:
        """Focus the text and list the (no) edits."""
        self.query_one(TextArea).focus()
        self._recompute()

    @property
    def text_area(self) -> TextArea:
        """The JSON being edited."""
        return self.query_one("#fork-text", TextArea)

    # ----------------------------------------------------------------- edits
    @on(TextArea.Changed, "#fork-text")
    def _changed(self) -> None:
        self._recompute()

    def _recompute(self) -> None:
        try:
            self.edits, self.problem = edits_from_text(self._shown, self.text_area.text), None
        except ForkError as exc:
            self.edits, self.problem = [], str(exc)
        self._show_edits()
        self.show_error(self.problem)

    def _show_edits(self) -> None:
        text = Text(end="")
        if self.problem is not None:
            text.append("fix the JSON to see the edits", style="italic")
        elif not self.edits:
            text.append("no edits yet (a fork without edits replays the original)",
                        style="italic")
        else:
            more = len(self.edits) - SHOWN_EDITS
            text.append(f"{len(self.edits)} edit(s)" + (f", the first {SHOWN_EDITS}:" if more > 0
                                                         else ":"), style="bold")
            for edit in self.edits[:SHOWN_EDITS]:
                text.append("\n  " + display_str(describe_edit(edit), one_line=True, limit=200))
        self.query_one("#fork-edits", Static).update(text)

    def show_error(self, message: str | None) -> None:
        """One line under the edits (``None`` clears it)."""
        line = Text(display_str(message, one_line=True, limit=400), end="") if message else ""
        self.query_one("#fork-error", Static).update(line)

    # ----------------------------------------------------------------- actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Save is greyed out only while a check runs; a key that cannot act says why."""
        if action == "save":
            return True if not self.checking else None
        return True

    def action_save(self) -> None:
        """Check the fork in a worker; dismiss with the plan, or say why not."""
        self._recompute()
        if self.problem is not None:
            self.notify(display_str(f"fix the JSON first: {self.problem}", one_line=True,
                                    limit=200), severity="warning", markup=False)
            return
        self.checking = True
        self.show_error(None)
        self.query_one("#fork-edits", Static).update(Text("Checking the fork…", end=""))
        self.refresh_bindings()
        self.check_fork(list(self.edits))

    @work(thread=True, exclusive=True, group="fork-check", exit_on_error=False,
          name="fork check")
    def check_fork(self, edits: list[dict[str, Any]]) -> ForkPlan:
        """Read the parent run and plan the fork (``ForkError`` when it is refused)."""
        return self._planner(edits)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The check finished: go on with the plan, or show the reason in the editor."""
        if event.worker.group != "fork-check" or event.state not in (WorkerState.SUCCESS,
                                                                      WorkerState.ERROR):
            return
        self.checking = False
        self.refresh_bindings()
        if event.state == WorkerState.SUCCESS and isinstance(event.worker.result, ForkPlan):
            self.dismiss(event.worker.result)
            return
        error = event.worker.error
        if not isinstance(error, ForkError):
            log.error("checking the fork failed", exc_info=error)
        self._show_edits()
        self.show_error(f"cannot fork: {error}")

    def action_external_editor(self) -> None:
        """Edit the JSON in ``$EDITOR`` (the app is suspended), then show the result here."""
        command = os.environ.get("EDITOR")
        if not command:
            self.show_error("$EDITOR is not set: edit the JSON here (or set EDITOR and "
                            "start again)")
            return
        fd, name = tempfile.mkstemp(prefix="trace-tui-fork-", suffix=".json")
        path = Path(name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as stream:
                stream.write(self.text_area.text)
            with self.app.suspend():
                done = subprocess.run([*shlex.split(command), str(path)], check=False)
            if done.returncode != 0:
                self.show_error(f"$EDITOR exited with {done.returncode}; the text is unchanged")
                return
            self.text_area.load_text(path.read_text(encoding="utf-8"))
        except SuspendNotSupported:
            log.warning("the terminal cannot be handed to $EDITOR")
            self.show_error("this terminal cannot be handed over to $EDITOR; edit here")
        except OSError as exc:
            log.exception("running $EDITOR failed")
            self.show_error(f"cannot run $EDITOR: {exc}")
        finally:
            path.unlink(missing_ok=True)
        self._recompute()

    def action_cancel(self) -> None:
        """Close without forking."""
        self.dismiss(None)
