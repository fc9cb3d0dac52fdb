"""Find the run files, summarise them (in a pool of processes when there are many) and keep a
cache, so a second triage of the same folders reads only new or changed files.

Paths may be files, folders (searched recursively for trace-looking files: ``.jsonl``,
``.json``, ``.ndjson``, ``.eval``, ``.traj``; hidden folders such as ``.trace-tui`` with its
branches are skipped) and glob patterns. The cache is one JSON-lines file in
``$XDG_CACHE_HOME/trace-tui/triage.jsonl``, keyed by absolute path, size, modification time
and the policy used; it is rewritten atomically after each triage.
"""

from __future__ import annotations

import glob
import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import orjson

from trace_tui.core.io.atomic import atomic_write_bytes
from trace_tui.core.triage.summary import RunSummary, summarise

log = logging.getLogger(__name__)

SUFFIXES = (".jsonl", ".json", ".ndjson", ".eval", ".traj")
#: Below this many files to read, one process does it (a pool costs more to start).
POOL_THRESHOLD = 32
CACHE_NAME = "triage.jsonl"
Progress = Callable[[int, int], None]


def cache_path() -> Path:
    """Where the triage cache lives (``$XDG_CACHE_HOME/trace-tui/triage.jsonl``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "trace-tui" / CACHE_NAME


def find_files(paths: Iterable[str]) -> list[Path]:
    """Every trace file named by ``paths`` (files, folders, globs), sorted, each once."""
    found: dict[str, Path] = {}
    for item in paths:
        matches = glob.glob(item, recursive=True) if glob.has_magic(item) else [item]
        if not matches:
            raise FileNotFoundError(f"{item}: no such file, folder or match")
        for match in matches:
            path = Path(match)
            if path.is_dir():
                for child in _walk(path):
                    found.setdefault(os.path.abspath(child), child)
            elif path.exists():
                found.setdefault(os.path.abspath(path), path)
            else:
                raise FileNotFoundError(f"{match}: no such file or folder")
    return [found[key] for key in sorted(found)]


def _walk(folder: Path) -> Iterable[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.endswith(SUFFIXES) and not name.startswith("."):
                yield Path(root) / name


def _cache_key(path: Path, size: int, mtime_ns: int, policy: str | None) -> str:
    return f"{os.path.abspath(path)}\x1f{size}\x1f{mtime_ns}\x1f{policy or ''}"


def _policy_tag(policy: str | None) -> str | None:
    if policy is None:
        return None
    stat = os.stat(policy)
    return f"{os.path.abspath(policy)}:{stat.st_size}:{stat.st_mtime_ns}"


def load_cache(path: Path) -> dict[str, RunSummary]:
    """The cached summaries by key (an unreadable cache is empty, never an error)."""
    cached: dict[str, RunSummary] = {}
    try:
        data = path.read_bytes()
    except OSError:
        return cached
    for line in data.splitlines():
        try:
            record = orjson.loads(line)
            cached[record["key"]] = RunSummary.from_json(record["summary"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue
    return cached


def save_cache(path: Path, entries: dict[str, RunSummary]) -> None:
    """Write the cache atomically (best effort: a cache that cannot be written is skipped)."""
    lines = b"".join(orjson.dumps({"key": key, "summary": summary}) + b"\n"
                     for key, summary in entries.items())  # orjson writes dataclasses as-is
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, lines)
    except OSError as exc:
        log.warning("cannot write the triage cache %s: %s", path, exc)


def summarise_all(files: list[Path], *, policy: str | None = None,
                  progress: Progress | None = None, workers: int | None = None,
                  cache: Path | None = None, use_cache: bool = True
                  ) -> tuple[list[RunSummary], int]:
    """Summaries of ``files`` in order, and how many had to be read (the rest came from the
    cache). ``cache=None`` uses :func:`cache_path`; ``use_cache=False`` reads every file and
    leaves the cache alone."""
    cache_file = cache or cache_path()
    cached = load_cache(cache_file) if use_cache else {}
    tag = _policy_tag(policy)
    results: list[RunSummary | None] = [None] * len(files)
    keys: list[str] = []
    todo: list[int] = []
    for position, path in enumerate(files):
        stat = path.stat()
        key = _cache_key(path, stat.st_size, stat.st_mtime_ns, tag)
        keys.append(key)
        hit = cached.get(key)
        if hit is not None:
            results[position] = hit
        else:
            todo.append(position)
    done = len(files) - len(todo)
    if progress:
        progress(done, len(files))
    count = workers or os.cpu_count() or 1
    if len(todo) >= POOL_THRESHOLD and count > 1:
        with ProcessPoolExecutor(max_workers=count) as pool:
            chunk = max(1, min(64, len(todo) // (count * 8) or 1))
            mapped = pool.map(_summarise_one, [(str(files[i]), policy) for i in todo],
                              chunksize=chunk)
            for position, summary in zip(todo, mapped, strict=True):
                results[position] = summary
                done += 1
                if progress:
                    progress(done, len(files))
    else:
        for position in todo:
            results[position] = _summarise_one((str(files[position]), policy))
            done += 1
            if progress:
                progress(done, len(files))
    summaries = [r for r in results if r is not None]
    kept = {key: summary for key, summary in zip(keys, summaries, strict=True)}
    if todo and use_cache:
        save_cache(cache_file, kept)
    return summaries, len(todo)


def _summarise_one(job: tuple[str, str | None]) -> RunSummary:
    path, policy = job
    return summarise(path, policy_path=policy)
