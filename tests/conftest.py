"""Shared fixtures: paths of the built-in samples and a helper to write small native traces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_config_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never read or write the real ``~/.config/trace-tui`` (redaction key, configs)."""
    import os

    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))


@pytest.fixture
def write_trace(tmp_path: Path):
    """Write records (dicts, or raw str/bytes lines) to a new ``.jsonl`` file; returns its path."""

    def write(records: list[Any], name: str = "trace.jsonl") -> Path:
        path = tmp_path / name
        with open(path, "wb") as fh:
            for rec in records:
                if isinstance(rec, bytes):
                    fh.write(rec + b"\n")
                elif isinstance(rec, str):
                    fh.write(rec.encode("utf-8") + b"\n")
                else:
                    fh.write(json.dumps(rec).encode("utf-8") + b"\n")
        return path

    return write
