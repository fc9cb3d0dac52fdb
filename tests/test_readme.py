"""The README stays true: its key table is the app's, and every command it shows exists."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from support import ROOT
from trace_tui.cli.commands import build_parser
from trace_tui.tui.keys import markdown_table

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_key_table_is_the_apps() -> None:
    assert markdown_table() in README


def shown_commands() -> set[str]:
    """Commands in code: `trace-tui X ...` spans and indented or fenced command lines."""
    inline = re.findall(r"`trace-tui ([a-z]+)", README)
    lines = re.findall(r"(?:^ {4}|/bin/)trace-tui ([a-z]+)", README, flags=re.MULTILINE)
    return set(inline) | set(lines)


@pytest.mark.parametrize("command", sorted(shown_commands()))
def test_every_command_the_readme_shows_exists(command: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        with pytest.raises(SystemExit) as info:
            build_parser().parse_args([command, "--help"])
    assert info.value.code == 0, command
