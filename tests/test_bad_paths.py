"""Issue 13, items 11 and 14: bad paths are one line and exit 2, and outputs never replace a
symbolic link or a file that is not regular.

``replay`` on a missing file or a directory, ``convert`` on a symlink loop, ``fork --list`` on
a missing trace: one line, exit 2. ``convert -o LINK`` writes through the link; ``-o`` onto a
device or FIFO (or a link to one) is refused; ``-o -`` writes to standard output. A branch
without a status is listed with a clear status, and no message ends in "(None)".
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from support import SAMPLES
from trace_tui.cli.commands import main
from trace_tui.cli.fork_command import _os_error

SAMPLE = SAMPLES / "discount_over_cap.jsonl"


def one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_replay_on_missing_file_or_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "no such file" in one_line_exit_2(["replay", str(tmp_path / "nope.jsonl")], capsys)
    assert "directory" in one_line_exit_2(["replay", str(tmp_path)], capsys)


def test_convert_on_a_symlink_loop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loop = tmp_path / "loop.jsonl"
    loop.symlink_to(loop)
    one_line_exit_2(["convert", str(loop), "-o", str(tmp_path / "out.jsonl")], capsys)


def test_convert_writes_through_a_symlink(tmp_path: Path) -> None:
    target, link = tmp_path / "real.jsonl", tmp_path / "link.jsonl"
    target.write_text("old\n")
    link.symlink_to(target)
    assert main(["convert", str(SAMPLE), "-o", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().startswith('{"type":"run"')


def test_convert_refuses_devices_fifos_and_links_to_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "to-null"
    link.symlink_to("/dev/null")
    for out in (fifo, link, Path("/dev/null")):
        err = one_line_exit_2(["convert", str(SAMPLE), "-o", str(out)], capsys)
        assert "not a regular file" in err
    assert link.is_symlink() and os.readlink(link) == "/dev/null"
    assert fifo.is_fifo()


def test_convert_dash_means_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["convert", str(SAMPLE), "-o", "-"]) == 0
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    assert records[0]["type"] == "run" and len(records) > 5
    assert "standard output" in err
    assert not Path("-").exists()


def test_fork_list_on_a_missing_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    one_line_exit_2(["fork", str(tmp_path / "nope.jsonl"), "--list"], capsys)


def test_branch_without_status_is_listed_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "d.jsonl"
    trace.write_bytes(SAMPLE.read_bytes())
    folder = tmp_path / ".trace-tui"
    folder.mkdir()
    (folder / "d--broken.jsonl").write_text(
        json.dumps({"type": "run", "run_id": "x"}) + "\n"
        + json.dumps({"type": "branch", "name": "broken", "parent_path": "../d.jsonl",
                      "fork_step": 5, "edits": []}) + "\n" + '{"type": "span", "spa\n'
    )
    assert main(["fork", str(trace), "--list"]) == 0
    out = capsys.readouterr().out
    assert "broken" in out and "None" not in out and "status unknown" in out


def test_os_errors_never_end_in_none() -> None:
    assert _os_error(OSError(28, "No space left on device")) == "No space left on device"
    assert _os_error(OSError(13, "Permission denied", "/x")) == "Permission denied (/x)"
