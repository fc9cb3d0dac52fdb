"""Paths and the polling helper shared by the tests (importable as ``support`` thanks to
pytest's ``pythonpath``)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_traces"
SAMPLE_FILES = sorted(SAMPLES.glob("*.jsonl"))
FOREIGN = ROOT / "tests" / "data" / "foreign"
#: Every foreign trace kept in the repository (the shared samples' copies and the handmade ones).
FOREIGN_FILES = sorted(
    p for p in FOREIGN.glob("*/*") if p.is_file() and p.suffix not in (".md", ".py")
)
#: The real third-party samples in ../shared/samples, where that folder is beside the clone.
SHARED_SAMPLES = next(
    (
        p / "shared" / "samples"
        for p in (ROOT.parent, ROOT.parent.parent)
        if (p / "shared").is_dir()
    ),
    None,
)


def pristine_sample(folder: Path, name: str) -> Path:
    """A copy of the sample trace ``name`` in ``folder`` (a test's ``tmp_path``), with no
    branches beside it. The README's fork example writes ``sample_traces/.trace-tui/`` in the
    user's clone and the screen counts those branches ("· 1 branch"), so a test that pictures
    the screen opens a copy, not the sample itself."""
    target = folder / name
    shutil.copyfile(SAMPLES / name, target)
    return target


# --------------------------------------------------------------------------- polling
#: How long a polling test waits for another thread, process or the app before it fails.
EVENTUALLY_SECONDS = 20.0


def eventually(
    check: Callable[[], T | None],
    timeout: float = EVENTUALLY_SECONDS,
    *,
    between: Callable[[], object] | None = None,
    what: str = "the condition",
) -> T:
    """Poll ``check`` until it returns something truthy, and return that; fail after ``timeout``.

    The one polling helper of the suite. Between tries it calls ``between`` (the work that
    moves things on: ``source.update``, ``reader.read``...), or sleeps 10 ms while another
    thread or process works: a bounded poll of something outside the test's control, never a
    sleep for coordination.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        if between is not None:
            between()
        else:
            time.sleep(0.01)


async def eventually_async(
    check: Callable[[], T | None],
    pause: Callable[[float], Awaitable[object]],
    timeout: float = EVENTUALLY_SECONDS,
    *,
    what: str = "the condition",
) -> T:
    """:func:`eventually` for an app under test: ``pause`` is ``pilot.pause`` (the app's
    workers and messages run while it waits)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        await pause(0.02)


def samples_of(format_name: str, shared_folder: str) -> list[Path]:
    """The foreign test files and the shared samples in ``shared_folder`` that are detected
    as ``format_name`` (files no format reads are left out)."""
    from trace_tui.core.formats import detect_format

    paths = list(FOREIGN_FILES)
    if SHARED_SAMPLES is not None:
        paths += sorted((SHARED_SAMPLES / shared_folder).glob("*.jsonl"))
    out = []
    for path in paths:
        try:
            if detect_format(path).name == format_name:
                out.append(path)
        except Exception:
            continue
    return out
