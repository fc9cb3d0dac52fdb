"""Hostile trace text through every widget of the debugger: escape sequences (colour, clear
screen, title, OSC 8 links, OSC 52 clipboard, DCS), C0/C1 controls, bidi overrides, markup
lookalikes and huge payloads. Checked on the strips the widgets draw and on the bytes the
real app writes to a pseudo-terminal."""

from __future__ import annotations

import os
import re
import select
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from textual.geometry import Region
from textual.widget import Widget

from trace_tui.core.model.run import Step
from trace_tui.tui.app import build_app
from trace_tui.tui.documents.conversation import chat_document
from trace_tui.tui.documents.json_lines import FoldState
from trace_tui.tui.documents.step_documents import payload_document, raw_document
from trace_tui.tui.widgets.doc_view import DocumentView
from trace_tui.tui.widgets.gauge import ContextGauge
from trace_tui.tui.widgets.inspector import MODES, Inspector
from trace_tui.tui.widgets.span_tree import SpanTree
from trace_tui.tui.widgets.status import StatusLine
from trace_tui.tui.widgets.timeline import StepBar

pytestmark = pytest.mark.anyio

OSC52 = "\x1b]52;c;cHduZWQ=\x07"
OSC8 = "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"
TITLE = "\x1b]0;pwned-title\x07"
COLOUR = "\x1b[31;42mRED"
CLEAR = "\x1b[2J\x1b[H"
DCS = "\x1bPq#0;2;0;0;0\x1b\\"
C1 = "\x9b31m\x85\x90"
BIDI = "abc\u202edcba\u2066x\u200b"
MARKUP = "[bold]B[/bold] [link=https://x]L[/link] [@click=app.quit]Q[/] [/ [red"
HOSTILE = "".join([OSC52, OSC8, TITLE, COLOUR, CLEAR, DCS, C1, BIDI, "\x07\x00\x7f", MARKUP])
#: Byte strings that must never reach the terminal: the trace's own control sequences.
FORBIDDEN = [b"\x1b]52", b"\x1b]8;", b"\x1b]0;", b"pwned-title\x07", b"\x1b[31;42m", b"\x1bP",
             b"\xc2\x9b", b"\xc2\x85", b"\xc2\x90", "\u202e".encode(), "\u2066".encode(),
             b"\x00", b"\x7f"]


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


def hostile_records() -> list[dict[str, Any]]:
    """A run where every string the screen shows is hostile."""
    msg = [{"role": "user", "content": HOSTILE},
           {"role": "assistant", "content": None,
            "tool_calls": [{"id": HOSTILE, "name": HOSTILE, "arguments": {HOSTILE: HOSTILE}}]},
           {"role": "tool", "tool_call_id": HOSTILE, "name": HOSTILE, "content": HOSTILE}]
    return [
        {"type": "run", "schema_version": 1, "name": HOSTILE, "run_id": HOSTILE},
        {"type": "branch", "name": HOSTILE, "parent_run_id": HOSTILE, "parent_path": HOSTILE,
         "fork_step": 1, "edits": [], "sources": {}, "status": HOSTILE, "note": HOSTILE},
        {"type": "span", "span_id": "a", "parent_id": None, "kind": "agent", "name": HOSTILE,
         "start_time": 1.0, "end_time": 9.0, "status": "error", "error": HOSTILE,
         "attributes": {HOSTILE: HOSTILE, "gen_ai.agent.name": HOSTILE}},
        {"type": "span", "span_id": "b", "parent_id": "a", "kind": "llm", "name": HOSTILE,
         "start_time": 2.0, "end_time": 3.0, "status": "ok",
         "attributes": {"gen_ai.request.model": HOSTILE, "gen_ai.system_instructions": HOSTILE,
                        "gen_ai.input.messages": msg, "gen_ai.output.messages": msg,
                        "gen_ai.tool.definitions": [{"name": HOSTILE, "description": HOSTILE}],
                        "gen_ai.response.finish_reasons": [HOSTILE],
                        "gen_ai.request.temperature": HOSTILE,
                        "gen_ai.usage.input_tokens": 50, "gen_ai.usage.output_tokens": 5}},
        {"type": "span", "span_id": "c", "parent_id": "a", "kind": "tool", "name": HOSTILE,
         "start_time": 3.0, "end_time": 4.0, "status": "error", "error": {"type": HOSTILE,
                                                                          "message": HOSTILE},
         "attributes": {"gen_ai.tool.name": HOSTILE, "gen_ai.tool.call.id": HOSTILE,
                        "gen_ai.tool.call.arguments": {HOSTILE: [HOSTILE]},
                        "gen_ai.tool.call.result": HOSTILE * 40}},
        {"type": "span", "span_id": "d", "parent_id": "a", "kind": "retrieval", "name": HOSTILE,
         "start_time": 4.0, "end_time": 5.0, "status": "ok",
         "attributes": {"gen_ai.retrieval.query.text": HOSTILE,
                        "gen_ai.retrieval.documents": [{"id": HOSTILE, "score": HOSTILE,
                                                        "content": HOSTILE}]}},
        {"type": "span", "span_id": "e", "parent_id": "a", "kind": "other", "name": HOSTILE,
         "start_time": 5.0, "end_time": 6.0, "status": "ok", "attributes": {}},
    ]


@pytest.fixture
def hostile_path(write_trace: Any) -> Path:
    """The hostile trace, under a file name that is hostile too."""
    path = write_trace(hostile_records(), name="evil\x1b[31m\x07[bold].jsonl")
    return Path(path)


def drawn(widget: Widget) -> str:
    """Everything a widget draws, segment by segment."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    return "".join(seg.text for strip in widget.render_lines(region) for seg in strip)


def assert_clean(text: str) -> None:
    bad = [c for c in text if (ord(c) < 0x20 and c not in "\n") or 0x7f <= ord(c) <= 0x9f
           or c in "\u202e\u2066\u200b"]
    assert not bad, f"raw control characters drawn: {bad[:10]!r}"


async def test_every_widget_draws_hostile_text_as_visible_placeholders(hostile_path: Path) -> None:
    app = build_app(hostile_path)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.debugger
        widgets = [screen.query_one(SpanTree), screen.query_one(DocumentView),
                   screen.query_one(ContextGauge), screen.query_one(StatusLine),
                   screen.query_one(StepBar), screen.query_one("#inspector-summary"),
                   screen.query_one("#inspector-pointer")]
        seen = ""
        for index in range(screen.count):
            screen.move_to(index)
            for mode, _label, _key in MODES:
                screen.query_one(Inspector).mode = mode
                await pilot.pause()
                for widget in widgets:
                    text = drawn(widget)
                    assert_clean(text)
                    seen += text
        assert "␛]52;c;" in seen and "␛[31;42mRED" in seen and "␇" in seen
        assert "⟨U+202E⟩" in seen and "⟨U+009B⟩" in seen
        # markup lookalikes are shown literally, and the app is still running (no [@click])
        assert "[bold]B[/bold]" in seen and "[@click=app.quit]Q[/]" in seen
        assert "[link=https://x]L[/link]" in seen
        assert app.is_running
        # the search and filter prompts take hostile queries too
        await pilot.press("slash", *"[bold]", "enter", "ampersand", *"[/", "enter")
        assert app.is_running


async def test_copy_keeps_the_original_bytes(hostile_path: Path) -> None:
    app = build_app(hostile_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.debugger
        screen.move_to(2)
        await pilot.pause()
        doc = screen.query_one(DocumentView)
        doc.focus()
        target = next(i for i, ln in enumerate(doc.lines)
                      if ln.anchor == "/attributes/gen_ai.tool.call.result")
        doc.action_move(target - 1)
        await pilot.press("j", "Y")
        assert app.clipboard == HOSTILE * 40  # copy keeps the original, unsanitised


def test_documents_cap_a_ten_megabyte_string() -> None:
    big = "\x1b[2J" + "x" * 10_000_000
    step = Step(index=0, span_id="a", parent_id=None, kind="tool", name="big", attributes={
        "gen_ai.tool.call.result": big, "gen_ai.tool.call.arguments": {"q": big}})
    lines = payload_document(step, FoldState(), 100)
    assert max(len(ln.text) for ln in lines) < 400
    assert any("+9,999," in ln.text for ln in lines)  # the cut is said, with an expand action
    chat = chat_document(step, 100, {})
    assert sum(len(ln.text) for ln in chat) < 10_000
    assert all("\x1b" not in ln.text for ln in lines + chat)
    state = FoldState()
    state.apply("expand", "/attributes/gen_ai.tool.call.result")
    expanded = payload_document(step, state, 100)
    assert 600 < len(expanded) < 2_000  # 64 KB shown, then "more"


async def test_ten_megabyte_line_and_three_megabyte_payload_open(write_trace: Any) -> None:
    records: list[Any] = [
        {"type": "span", "span_id": "a", "parent_id": None, "kind": "agent", "name": "root",
         "start_time": 1.0, "end_time": 9.0, "status": "ok", "attributes": {}},
        {"type": "span", "span_id": "b", "parent_id": "a", "kind": "tool", "name": "big",
         "start_time": 2.0, "end_time": 3.0, "status": "ok",
         "attributes": {"gen_ai.tool.call.result": "\x1b]52;c;" + "y" * 3_000_000}},
        '{"type": "span", "span_id": "huge", "kind": "tool", "name": "' + "z" * 10_500_000
        + '"}',
        {"type": "span", "span_id": "c", "parent_id": "a", "kind": "tool", "name": "after",
         "start_time": 4.0, "end_time": 5.0, "status": "ok", "attributes": {}},
    ]
    app = build_app(write_trace(records))
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.debugger
        assert screen.count == 4  # the 10 MB line is a step too (huge lines are traces)
        assert screen.run_view.row(2).name == "z" * 10_500_000
        await pilot.press("j", "j")
        assert screen.cursor.position == 2
        assert_clean(drawn(screen.query_one(SpanTree)))
        await pilot.press("k")
        for key in ("c", "x", "r", "p"):
            await pilot.press(key)
            assert_clean(drawn(screen.query_one(DocumentView)))
        raw = screen.query_one(DocumentView).lines
        result = raw[10].text  # the 3 MB result, cut for display
        assert len(raw) == 13
        assert result.startswith('    "gen_ai.tool.call.result": "\\u001b]52;c;y')
        assert result.endswith('y…" +2,999,847 chars (Enter expands)') and len(result) == 232


def test_raw_document_of_hostile_record() -> None:
    from trace_tui.core.io.raw_record import RawRecord

    step = Step(index=0, span_id="a", parent_id=None, kind="tool", name="x", line=3)
    record = RawRecord(0, HOSTILE.encode("utf-8"), cut=False)
    lines = raw_document(step, record, 60)
    assert all("\x1b" not in ln.text and "\x07" not in ln.text for ln in lines)


# --------------------------------------------------------------------------- real terminal
def _read_until(fd: int, data: bytearray, want: str, deadline: float) -> None:
    """Read the app's output until ``want`` is on screen (escape sequences removed)."""
    plain = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            data += chunk
            if want.encode() in plain.sub(b"", bytes(data)):
                return
    raise AssertionError(f"{want!r} never appeared on the terminal")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_terminal_bytes_carry_no_trace_control_sequences(hostile_path: Path) -> None:
    import fcntl
    import pty
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLORTERM="truecolor")
    env.pop("NO_COLOR", None)
    code = "import sys; from trace_tui.tui.app import build_app; build_app(sys.argv[1]).run()"
    proc = subprocess.Popen([sys.executable, "-c", code, str(hostile_path)], stdin=slave,
                            stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    data = bytearray()
    try:
        deadline = time.monotonic() + 60
        _read_until(master, data, "#1/5", deadline)
        for key, want in (("j", "#2/5"), ("c", "model call"), ("x", "what the model saw"),
                          ("r", "byte offset"), ("j", "#3/5"), ("c", "tool call"),
                          ("j", "#4/5"), ("c", "retrieval query"), ("p", "#4/5"),
                          ("j", "#5/5")):
            os.write(master, key.encode())
            _read_until(master, data, want, deadline)
        os.write(master, b"q")
        while time.monotonic() < deadline:  # keep draining, or the app blocks on write
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    chunk = b""
                data += chunk
                if not chunk and proc.poll() is not None:
                    break
            elif proc.poll() is not None:
                break
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    out = bytes(data)
    for needle in FORBIDDEN:
        assert needle not in out, f"{needle!r} reached the terminal"
    own_bells = len(re.findall(rb"\x1b\]22;[a-z-]*\x07", out))  # Textual's pointer shape
    assert out.count(b"\x07") == own_bells
    assert "␛]52;c;".encode() in out  # the sequence was drawn as text
