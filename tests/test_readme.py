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


def test_development_map_names_every_folder() -> None:
    """The Development section's tree has one line for each folder of core/ and tui/."""
    section = README.split("## Development", 1)[1].split("\n## ", 1)[0]
    tree = section.split("```", 2)[1]
    listed = set(re.findall(r"^ *([a-z_]+)/ ", tree, flags=re.MULTILINE))
    folders = {
        path.name
        for top in ("core", "tui")
        for path in (ROOT / top).iterdir()
        if path.is_dir() and path.name != "__pycache__"
    }
    top_level = {"core", "tui", "cli", "themes", "sample_traces", "docs", "bench", "tests"}
    assert folders | top_level <= listed, sorted((folders | top_level) - listed)
