"""A Claude Code session with one huge line: time and peak memory to index it and open the step.

``python -m bench.bench_huge_line --mb 200`` writes ``bench/out/huge-<mb>.jsonl`` (git-ignored):
the real Claude Code sample from ``tests/data/foreign`` with one plain user message replaced by
``--mb`` megabytes of pasted text, then, in a fresh child process, indexes it
(``IndexedSource``), loads every step (``run.step(i)``, what the inspector does) and builds the
inspector's views of the biggest step (summary, chat, payload collapsed and with the message
expanded, Raw and Raw with "show more"), and reports wall time and peak RSS (``ru_maxrss``)
after each phase next to the line's size (``over_line*``: peak minus the interpreter's, over
the line). The target: peak RSS under 3× the line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

OUT = Path(__file__).resolve().parent / "out"
SAMPLE = (Path(__file__).resolve().parent.parent / "tests" / "data" / "foreign" / "claude-code"
          / "claude-code-2.1.328_orders.jsonl")


def make_native(mb: int) -> tuple[Path, int]:
    """A native trace whose tool step's result is ``mb`` megabytes of text (one line)."""
    path = OUT / f"huge-{mb}-native.jsonl"
    text = "a line of a pasted source file, repeated\n" * (mb * 1024 * 1024 // 41)
    step = {"type": "span", "parent_id": "a", "kind": "tool", "status": "ok", "attributes": {}}
    records = [
        {"type": "run", "run_id": "huge"},
        {**step, "span_id": "a", "parent_id": None, "kind": "agent", "name": "root",
         "start_time": 1.0, "end_time": 9.0},
        {**step, "span_id": "b", "name": "read", "start_time": 2.0, "end_time": 3.0,
         "attributes": {"gen_ai.tool.name": "read", "gen_ai.tool.call.result": text}},
        {**step, "span_id": "c", "name": "after", "start_time": 4.0, "end_time": 5.0},
    ]
    lines = [json.dumps(r).encode() for r in records]
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, len(lines[2])


def make(mb: int, chain: bool = False) -> tuple[Path, int]:
    """The session file and the size of its huge line. ``chain``: without the ``api-request``
    lines (older transcripts), so every later call's rebuilt conversation holds the message."""
    path = OUT / f"huge-{mb}{'-chain' if chain else ''}.jsonl"
    lines = [raw for raw in SAMPLE.read_bytes().splitlines()
             if not (chain and b'"type":"api-request' in raw.replace(b" ", b""))]
    pasted = "PASTED " + "a line of a pasted source file, repeated\n" * (mb * 1024 * 1024 // 41)
    if chain:  # each message's parent is the message before it (attachments left out)
        kept, last = [], None
        for raw in lines:
            record = json.loads(raw)
            if record.get("type") == "attachment":
                continue
            if record.get("type") in ("user", "assistant"):
                record["parentUuid"], last = last, record.get("uuid")
                raw = json.dumps(record).encode()
            kept.append(raw)
        lines = kept
    for k, raw in enumerate(lines):
        record = json.loads(raw)
        message = record.get("message") or {}
        if record.get("type") == "user" and isinstance(message.get("content"), str):
            message["content"] = pasted
            lines[k] = json.dumps(record).encode()
            huge = len(lines[k])
            break
    OUT.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path, huge


def _text_size(value: object) -> int:
    """Characters of every string in ``value`` (no copy of it is made)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(_text_size(v) for v in value.values())
    if isinstance(value, list):
        return sum(_text_size(v) for v in value)
    return 0


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def search_child(path: str, query: str) -> None:
    """Index, then search for ``query`` as ``/`` does (first hit, then every match); print one
    JSON object."""
    from trace_tui.core.index.indexer import IndexedSource
    from trace_tui.core.index.search import find_matches
    from trace_tui.core.navigation.step_query import StepQuery

    source = IndexedSource(Path(path))
    while not source.update().complete:
        pass
    rss_indexed = _peak()
    began = time.perf_counter()
    run = source.run
    found = sorted(i + 1 for batch in find_matches(run, StepQuery.parse(query), 0, len(run))
                   for i in batch)
    print(json.dumps({"query": query, "steps_found": found,
                      "search_s": time.perf_counter() - began,
                      "peak_rss_after_index": rss_indexed, "peak_rss": _peak()}))


def child(path: str) -> None:
    """Index, load every step, then show the biggest one as the inspector does (each view,
    collapsed and expanded once); print one JSON object."""
    from trace_tui.core.index.indexer import IndexedSource
    from trace_tui.tui.documents.conversation import chat_document
    from trace_tui.tui.documents.json_lines import FoldState
    from trace_tui.tui.documents.step_documents import (
        DEFAULT_FOLDED,
        RAW_ANCHOR,
        RAW_STEP,
        payload_document,
        raw_document,
    )
    from trace_tui.tui.widgets.inspector import step_summary

    start = time.perf_counter()
    source = IndexedSource(Path(path))
    while not source.update().complete:
        pass
    indexed = time.perf_counter() - start
    rss_indexed = _peak()
    biggest, big_index = 0, 0
    for index in range(len(source.run)):
        step = source.run.step(index)
        size = _text_size(step.attributes)
        if size > biggest:
            biggest, big_index = size, index
    del step
    loaded = time.perf_counter() - start
    rss_loaded = _peak()
    step = source.run.step(big_index)
    views: dict[str, float] = {}
    width = 78  # the inspector's text width in an 80-column terminal, about
    began = time.perf_counter()
    step_summary(step, len(source.run))
    views["summary"] = time.perf_counter() - began
    began = time.perf_counter()
    chat_document(step, width, {})
    views["chat"] = time.perf_counter() - began
    state = FoldState(default_folded=DEFAULT_FOLDED)
    began = time.perf_counter()
    payload_document(step, state, width)
    views["payload"] = time.perf_counter() - began
    for pointer in ("/attributes/claude_code.prompt",):
        state.apply("expand", pointer)
    began = time.perf_counter()
    payload_document(step, state, width)
    views["payload_expanded"] = time.perf_counter() - began
    began = time.perf_counter()
    raw_document(step, None, width)
    views["raw"] = time.perf_counter() - began
    began = time.perf_counter()
    raw_document(step, None, width, expanded={RAW_ANCHOR: RAW_STEP})
    views["raw_more"] = time.perf_counter() - began
    print(json.dumps({"steps": len(source.run), "problems": len(source.run.problems),
                      "index_s": indexed, "index_and_load_s": loaded,
                      "view_s": views,
                      "peak_rss_after_index": rss_indexed,
                      "peak_rss_after_load": rss_loaded,
                      "peak_rss": _peak(),
                      "biggest_step": big_index + 1,
                      "biggest_step_text": biggest}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--native", action="store_true",
                        help="a native trace instead (the huge string in a tool's result)")
    parser.add_argument("--chain", action="store_true",
                        help="drop the api-request lines (conversations rebuilt from the chain)")
    parser.add_argument("--compare", metavar="DIR",
                        help="also measure the trace_tui package found in DIR (e.g. a folder "
                             "with a trace_tui link to an older commit's worktree)")
    parser.add_argument("--search", metavar="QUERY",
                        help="instead of opening the steps: index, then search for QUERY")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--make", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child and args.search:
        search_child(args.child, args.search)
        return
    if args.child:
        child(args.child)
        return
    if args.make:
        print((make_native(args.mb) if args.native else make(args.mb, args.chain))[1])
        return
    # children inherit the peak RSS of the process that forks them: keep this one small
    made = subprocess.run([sys.executable, "-m", "bench.bench_huge_line", "--make", "--mb",
                           str(args.mb), *(["--chain"] if args.chain else []),
                           *(["--native"] if args.native else [])],
                          capture_output=True, text=True, check=True)
    name = f"huge-{args.mb}{'-native' if args.native else '-chain' if args.chain else ''}"
    path, huge = OUT / f"{name}.jsonl", int(made.stdout)
    results = {"this tree": _measure(path, huge, None, args.search)}
    if args.compare:
        results["--compare"] = _measure(path, huge, args.compare, args.search)
    for label, result in results.items():
        print(f"--- {label}")
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    suffix = "-search" if args.search else ""
    (OUT / f"{name}{suffix}.json").write_text(json.dumps(results, indent=2))


def _measure(path: Path, huge: int, other: str | None, search: str | None
             ) -> dict[str, object]:
    """One child's result; ``other``: a folder holding another ``trace_tui`` to measure."""
    env = dict(os.environ)
    if other:
        env["PYTHONPATH"] = os.pathsep.join([other, env.get("PYTHONPATH", "")])
    base = subprocess.run([sys.executable, "-c", "import resource, trace_tui.core.index.indexer;"
                           "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)"],
                          capture_output=True, text=True, check=True, env=env)
    out = subprocess.run([sys.executable, "-m", "bench.bench_huge_line", "--child", str(path),
                          *(["--search", search] if search else [])],
                         capture_output=True, text=True, check=True, env=env)
    result = json.loads(out.stdout)
    result["line_bytes"] = huge
    result["base_rss"] = int(base.stdout)
    for key in ("peak_rss_after_index", "peak_rss_after_load", "peak_rss"):
        if key in result:
            result[key.replace("peak_rss", "over_line")] = \
                (result[key] - result["base_rss"]) / huge
    result["load"] = Path("/proc/loadavg").read_text().split()[:3]
    return result

if __name__ == "__main__":
    main()
