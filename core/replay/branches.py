"""Branches on disk: where they live, how they are named, saved, listed and re-opened.

A branch is a native trace (``docs/trace-format.md``) whose ``branch`` record names its parent
run, the parent's path *relative to the branch file*, the fork step, the edits, the sources used
and where replay stopped. Branches of ``DIR/run.jsonl`` live in ``DIR/.trace-tui/`` (or a folder
the user names); a branch of a branch lives beside its parent. The original trace is never
written to.

Saving goes through :mod:`trace_tui.core.io.atomic` (temp file, fsync, rename, directory fsync)
under an exclusive lock on ``.trace-tui.lock`` in the target folder, so two processes saving at
once are serialised and a crash leaves the old file whole. File names built from a trace's name
and a branch name are sanitised (:func:`safe_name`) and checked to stay inside the folder.

Secrets are masked when a branch is saved (:func:`branch_records`; the run record's
``environment["trace_tui.redaction"]`` says so); the replay in memory keeps the original
values. Re-opening a redacted branch to replay it again still finds the answers it got before
(:mod:`trace_tui.core.replay.redaction`).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trace_tui.core.errors import BadValue
from trace_tui.core.io.atomic import (
    atomic_write_bytes,
    file_lock,
    is_temp_name,
    remove_stale_temps,
)
from trace_tui.core.io.jsonl import CorruptLine, decode_line, iter_raw_lines
from trace_tui.core.io.standard_json import dumps_line
from trace_tui.core.model.builder import RecordError, branch_from_record
from trace_tui.core.model.run import Run
from trace_tui.core.reading.reader import check_trace_path, open_run
from trace_tui.core.replay.engine import Replay
from trace_tui.core.replay.exchange import digest
from trace_tui.core.replay.fixtures import AnswerFixtures
from trace_tui.core.replay.fork import ForkPlan, plan_fork
from trace_tui.core.replay.redaction import (
    RedactedAnswers,
    masked_edits,
    matching_redactor,
    saved_records,
)
from trace_tui.core.text.canonical import canonical_json
from trace_tui.core.text.redact import Redactor

BRANCHES_DIRNAME = ".trace-tui"
LOCK_NAME = ".trace-tui.lock"
BRANCH_SUFFIX = ".jsonl"
#: Longest file-name component we write, in UTF-8 bytes (file systems allow 255).
NAME_LIMIT = 120
_UNSAFE = re.compile(r"[^\w.-]+")
_HEAD_RECORDS = 2
_MAX_DEPTH = 64


class BranchError(BadValue):
    """A branch cannot be saved or opened; the message is one line."""


class BranchExistsError(BranchError):
    """A different branch already has this name."""


# --------------------------------------------------------------------------- names and paths
def safe_name(text: str, *, limit: int = NAME_LIMIT) -> str:
    """``text`` as one harmless file-name component: letters, digits, ``_ . -`` only.

    Separators, NUL, controls and spaces become ``_``; leading dots and dashes go (no hidden
    files, no ``..``, nothing that looks like an option); an over-long name is cut and given a
    short hash of the original so different long names stay different.
    """
    clean = _UNSAFE.sub("_", unicodedata.normalize("NFC", text))
    clean = re.sub(r"\.{2,}", ".", clean).lstrip(".-_") or "branch"
    if len(clean.encode("utf-8")) > limit:
        tag = digest(text)[:10]
        cut = clean.encode("utf-8")[: limit - len(tag) - 1].decode("utf-8", "ignore")
        clean = f"{cut}-{tag}"
    return clean


def branches_dir_for(
    trace_path: str | os.PathLike[str], branches_dir: str | os.PathLike[str] | None = None
) -> Path:
    """The folder branches of ``trace_path`` go to (a branch's own folder for a branch)."""
    if branches_dir is not None:
        return Path(branches_dir)
    trace = Path(trace_path)
    return (
        trace.parent if trace.parent.name == BRANCHES_DIRNAME else trace.parent / BRANCHES_DIRNAME
    )


def branch_path(
    trace_path: str | os.PathLike[str],
    name: str,
    branches_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Where the branch ``name`` of ``trace_path`` is saved (always inside the branches folder)."""
    folder = branches_dir_for(trace_path, branches_dir)
    stem = safe_name(f"{safe_name(Path(trace_path).stem, limit=60)}--{safe_name(name)}")
    path = folder / f"{stem}{BRANCH_SUFFIX}"
    if path.parent.resolve() != folder.resolve() or path.name != f"{stem}{BRANCH_SUFFIX}":
        raise BranchError(f"branch name {name[:40]!r} does not make a safe file name")
    return path


# --------------------------------------------------------------------------- entries
@dataclass(frozen=True, slots=True)
class BranchEntry:
    """What a branch file's head says: its run, its parent and how it was forked."""

    path: Path
    name: str | None
    run_id: str | None
    parent: Path | None
    parent_run_id: str | None
    fork_step: int
    edits: tuple[dict[str, Any], ...]
    sources: dict[str, Any]
    status: str | None
    note: str | None


def read_branch_head(path: str | os.PathLike[str]) -> BranchEntry | None:
    """The branch facts of a file from its first records, or ``None`` if it is not a branch."""
    path = Path(path)
    run_id: str | None = None
    with open(path, "rb") as stream:
        count = 0
        for raw in iter_raw_lines(stream):
            value = decode_line(raw)
            if value is None:
                continue
            count += 1
            if (
                count > _HEAD_RECORDS
                or not isinstance(value, dict)
                or isinstance(value, CorruptLine)
            ):
                return None
            if value.get("type") == "run":
                run_id = value.get("run_id") if isinstance(value.get("run_id"), str) else None
            elif value.get("type") == "branch":
                return _entry(path, run_id, value)
    return None


def _entry(path: Path, run_id: str | None, record: dict[str, Any]) -> BranchEntry | None:
    try:
        info = branch_from_record(record)
    except RecordError:
        return None
    try:
        parent = (path.parent / info.parent_path).resolve() if info.parent_path else None
    except (ValueError, OSError):  # a NUL byte or an unusable path: no parent to go back to
        parent = None
    return BranchEntry(
        path,
        info.name,
        run_id,
        parent,
        info.parent_run_id,
        info.fork_step,
        info.edits,
        info.sources,
        info.status,
        info.note,
    )


def list_branches(folder: str | os.PathLike[str]) -> list[BranchEntry]:
    """Every branch file in ``folder`` (sorted by file name; other files are skipped)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    entries = []
    for path in sorted(folder.iterdir()):
        if path.suffix != BRANCH_SUFFIX or is_temp_name(path.name) or not path.is_file():
            continue
        entry = read_branch_head(path)
        if entry is not None:
            entries.append(entry)
    return entries


@dataclass(slots=True)
class BranchNode:
    """A trace and the branches forked from it, recursively (``entry`` is ``None`` at the root)."""

    path: Path
    entry: BranchEntry | None = None
    children: list[BranchNode] = field(default_factory=list)

    def walk(self, depth: int = 0) -> Iterator[tuple[BranchNode, int]]:
        """Depth-first (node, depth) pairs, this node first; children by fork step, then name."""
        yield self, depth
        for child in self.children:
            yield from child.walk(depth + 1)


def branch_tree(
    trace_path: str | os.PathLike[str], branches_dir: str | os.PathLike[str] | None = None
) -> BranchNode:
    """The tree of branches under ``trace_path`` found in its branches folder."""
    root_path = Path(trace_path).resolve()
    entries = list_branches(branches_dir_for(trace_path, branches_dir))
    by_parent: dict[Path, list[BranchEntry]] = {}
    for entry in entries:
        if entry.parent is not None:
            by_parent.setdefault(entry.parent, []).append(entry)
    root = BranchNode(Path(trace_path))
    stack, seen = [(root, root_path)], {root_path}
    while stack:
        node, resolved = stack.pop()
        for entry in sorted(by_parent.get(resolved, []), key=lambda e: (e.fork_step, e.path.name)):
            child_resolved = entry.path.resolve()
            if child_resolved in seen:
                continue
            seen.add(child_resolved)
            child = BranchNode(entry.path, entry)
            node.children.append(child)
            stack.append((child, child_resolved))
    return root


def find_root(path: str | os.PathLike[str]) -> Path:
    """The original trace a branch (or a branch of a branch) descends from."""
    current, seen = Path(path), set()
    for _ in range(_MAX_DEPTH):
        entry = read_branch_head(current) if current.is_file() else None
        if entry is None or entry.parent is None or entry.parent in seen:
            return current
        seen.add(entry.parent)
        current = entry.parent
    return current


# --------------------------------------------------------------------------- saving
def serialise(records: list[dict[str, Any]]) -> bytes:
    """Records as JSON lines (UTF-8, one record per line, stable key order), standard JSON
    (non-finite numbers as ``"NaN"``/``"Infinity"``; :mod:`trace_tui.core.io.standard_json`)."""
    return b"".join(dumps_line(r) for r in records)


def branch_records(
    replay: Replay, parent_path: str | None = None, redactor: Redactor | None = None
) -> list[dict[str, Any]]:
    """The records of the replay's branch file as saved: secrets masked by ``redactor``
    (``None``: the built-in rules; a disabled one keeps them), the run record saying so."""
    return saved_records(
        replay.all_records(parent_path), Redactor() if redactor is None else redactor
    )


def save_branch(
    replay: Replay,
    trace_path: str | os.PathLike[str],
    *,
    output: str | os.PathLike[str] | None = None,
    branches_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    on_lock_wait: Callable[[], None] | None = None,
    redactor: Redactor | None = None,
    own: str | os.PathLike[str] | None = None,
    new_name_if_taken: bool = False,
) -> Path:
    """Write the replay's branch file atomically, under the folder's lock; returns its path.

    The default place is :func:`branch_path`; ``output`` overrides it. A branch is user work
    (answers typed by hand, live answers), so an existing file is never replaced silently:

    * a file with exactly the bytes we would write is left alone (same fork, same answers);
    * ``own`` is the file this save is updating (the screen's branch, ``replay BRANCH``):
      it is replaced;
    * ``force`` replaces another branch;
    * ``new_name_if_taken`` saves under the first free ``NAME-2``, ``NAME-3``... instead;
    * otherwise :class:`BranchExistsError` names the branch already there.

    A file that is not a branch, a symbolic link, something that is not a regular file, or
    the parent itself is never replaced. The records are :func:`branch_records`: secrets
    masked unless ``redactor`` is disabled.
    """
    trace = Path(trace_path)
    target = (
        Path(output) if output is not None else branch_path(trace, replay.plan.name, branches_dir)
    )
    folder = target.parent
    _check_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _check_folder(folder)
    parent_path = os.path.relpath(trace.resolve(), folder.resolve())
    data = serialise(branch_records(replay, parent_path, redactor))
    mask = matching_redactor(redactor)
    with file_lock(folder / LOCK_NAME, on_wait=on_lock_wait):
        remove_stale_temps(folder, BRANCH_SUFFIX)  # left by a killed save (we hold the lock)
        candidates = _candidates(target) if new_name_if_taken and not force else [target]
        for candidate in candidates:
            try:
                verdict = _check_target(candidate, trace, replay.plan, data, mask, own, force)
            except BranchExistsError:
                if not new_name_if_taken or force:
                    raise
                continue
            if verdict == _SAME:
                return candidate
            atomic_write_bytes(candidate, data)
            return candidate
        raise BranchExistsError(f"{target}: no free name left beside it; pass --name")


_WRITE, _SAME = "write", "same"
_MAX_RENAMES = 1000


def _check_folder(folder: Path) -> None:
    """Refuse a branches folder (or its lock file) that is a symbolic link: never followed."""
    if folder.name == BRANCHES_DIRNAME and folder.is_symlink():
        raise BranchError(
            f"{folder}: is a symbolic link; trace-tui does not follow it (remove it or "
            "pass --branches-dir)"
        )
    lock = folder / LOCK_NAME
    if lock.is_symlink():
        raise BranchError(f"{lock}: the lock file is a symbolic link; refusing to follow it")


def _candidates(target: Path) -> Iterator[Path]:
    yield target
    suffix = BRANCH_SUFFIX if target.name.endswith(BRANCH_SUFFIX) else target.suffix
    stem = target.name[: len(target.name) - len(suffix)]
    for number in range(2, _MAX_RENAMES):
        yield target.with_name(f"{stem}-{number}{suffix}")


def _check_target(
    target: Path,
    trace: Path,
    plan: ForkPlan,
    data: bytes,
    redactor: Redactor,
    own: str | os.PathLike[str] | None,
    force: bool,
) -> str:
    """``_WRITE`` (free, ours, or forced) or ``_SAME`` (already these bytes); a file that
    holds another branch raises :class:`BranchExistsError` (the caller may try a new name);
    anything we never replace raises :class:`BranchError`."""
    if not os.path.lexists(target):
        return _WRITE
    if target.is_symlink():
        raise BranchError(f"{target}: is a symbolic link; refusing to replace it")
    if target.resolve() == trace.resolve() or os.path.samefile(target, trace):
        raise BranchError(f"{target}: refusing to write over the trace being forked")
    if not target.is_file():
        raise BranchError(f"{target}: exists and is not a file")
    entry = read_branch_head(target)
    if entry is None:
        raise BranchError(
            f"{target}: exists and is not a trace-tui branch; refusing to overwrite it"
        )
    if own is not None and os.path.lexists(own) and os.path.samefile(target, own):
        return _WRITE
    if target.read_bytes() == data:
        return _SAME
    if force:
        return _WRITE
    same = (
        entry.parent == trace.resolve()
        and entry.fork_step == plan.fork_step
        # the file holds the edits masked: compare them masked (a no-op on masked edits)
        and canonical_json(masked_edits(entry.edits, redactor))
        == canonical_json(masked_edits(plan.edits, redactor))
    )
    what = "the same fork with other answers" if same else "another branch"
    raise BranchExistsError(
        f"{target}: {what} is saved here (step {entry.fork_step}, {len(entry.edits)} "
        f"edit(s), {entry.status or 'no status'}); choose another --name or pass --force "
        "to replace it"
    )


# --------------------------------------------------------------------------- re-opening
@dataclass(frozen=True, slots=True)
class LoadedBranch:
    """A branch file re-opened with its parent, ready to replay again."""

    path: Path
    run: Run
    entry: BranchEntry
    parent_path: Path
    parent: Run

    def plan(self, *, check_ready: bool = True) -> ForkPlan:
        """The branch's fork, re-checked against the parent as it is now."""
        return plan_fork(
            self.parent,
            self.entry.fork_step,
            self.entry.edits,
            name=self.entry.name,
            check_ready=check_ready,
        )

    def earlier_answers(self, redactor: Redactor | None = None) -> AnswerFixtures:
        """Answers this branch got by hand or from a live source, for reuse on a re-replay.

        Requests are compared with secrets masked (through ``redactor`` when it is on, else
        the built-in rules), so answers saved in a redacted file are found again.
        """
        return RedactedAnswers(self.run, self.entry.fork_step - 1, matching_redactor(redactor))


def load_branch(path: str | os.PathLike[str]) -> LoadedBranch:
    """Open a branch file and its parent (``BranchError`` when either is unusable; a missing
    file or a directory is :class:`~trace_tui.core.reading.reader.TraceOpenError`)."""
    path = Path(path)
    check_trace_path(path)
    entry = read_branch_head(path)
    if entry is None:
        raise BranchError(f"{path}: not a trace-tui branch (no branch record in its first lines)")
    if entry.parent is None:
        raise BranchError(f"{path}: the branch record has no parent_path")
    if not entry.parent.is_file():
        raise BranchError(f"{path}: its parent {entry.parent} is missing")
    parent = open_run(entry.parent)
    if entry.parent_run_id and parent.info.run_id and entry.parent_run_id != parent.info.run_id:
        raise BranchError(
            f"{path}: its parent {entry.parent.name} is now run {parent.info.run_id!r}, "
            f"not {entry.parent_run_id!r}"
        )
    return LoadedBranch(path, open_run(path), entry, entry.parent, parent)
