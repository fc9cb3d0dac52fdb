"""Search, facts and indexing on one big trace, each next to a reference measured in the same run.

``python -m bench.bench_search --steps 1000000`` (from the repository root) writes a synthetic
native trace (``bench/generate.py``, ~1 GB at 1M steps) or, with ``--format otlp``, the same run
as OTLP/JSON lines (``bench/generate_foreign.py``) under ``bench/out/`` (git-ignored), with one
last step whose payload holds a word found nowhere else. It then measures, in one process:

* the ``orjson.loads``-per-line loop over the file (the issue's reference) and ``grep -c`` /
  ``grep -ci`` for the word;
* indexing the file (``IndexedSource``, one process) and the per-step facts the screen needs
  (``RunFacts.scan``) from the index columns, next to the row-by-row path on the first 100k steps;
* the byte-scan search (``core/index/byte_search.py``): the next match from step 1 (the word is in
  the last step: the worst case, a whole-file scan), a full count of that word, full counts of
  two words found nowhere (letters only: the lowered-copy way; non-ASCII: the memchr way),
  each next to ``grep -c`` for the same bytes, and a count of a word that is in one step of 6,
  with the per-step scan (load every step) on the first 20k steps for scale. Each search is
  timed in wall-clock and in CPU seconds of this process (less disturbed by other load).

Prints a table and writes ``bench/out/search-<format>-<steps>.json``. Ratios are what matter on a
shared machine: ``uptime`` is recorded before and after.
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
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson  # noqa: E402

from bench.generate import write_trace  # noqa: E402
from bench.generate_foreign import write_otlp  # noqa: E402
from trace_tui.core.index.byte_search import ByteSearch  # noqa: E402
from trace_tui.core.index.indexer import IndexedSource  # noqa: E402
from trace_tui.core.index.search import find_next  # noqa: E402
from trace_tui.core.navigation.run_facts import RunFacts  # noqa: E402
from trace_tui.core.navigation.step_query import StepQuery, iter_matches  # noqa: E402

RARE = "Zebra-Éclair-7Q"  # only in the last step
OUT = Path(__file__).resolve().parent / "out"


class RowsOnly:
    """A run seen only through ``len``/``row``: the facts' row-by-row path."""

    def __init__(self, run: Any, limit: int) -> None:
        self.run, self.limit = run, limit

    def __len__(self) -> int:
        return min(self.limit, len(self.run))

    def row(self, index: int) -> Any:
        return self.run.row(index)


def load() -> str:
    """``uptime``'s load averages."""
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def make_file(fmt: str, steps: int) -> Path:
    """The benchmark file (generated once), with the rare word in a last step."""
    path = OUT / f"search-{fmt}-{steps}.jsonl"
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    if fmt == "native":
        write_trace(tmp, steps)
        last = {"type": "span", "span_id": "rare", "parent_id": "s0", "kind": "tool",
                "name": "last", "start_time": 1.0e9, "end_time": 1.0e9 + 1, "status": "ok",
                "attributes": {"tool.output": f"the {RARE} is here"}}
        with open(tmp, "ab") as out:
            out.write(orjson.dumps(last) + b"\n")
    else:
        write_otlp(tmp, steps, rare=f"the {RARE} is here")
    os.replace(tmp, path)
    return path


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def timed_cpu(fn: Any) -> tuple[float, float, Any]:
    """Wall-clock seconds, CPU seconds of this process, value."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - start, time.process_time() - cpu, value


def ways(search: ByteSearch) -> str:
    """How the search looked for its forms (``LineFinder`` ways), once it has run."""
    return " ".join(",".join(form.way for form in finder.forms)
                    for finder in search.finders.values()) or "-"


def reference(path: Path) -> int:
    count = 0
    with open(path, "rb") as fh:
        for line in fh:
            orjson.loads(line)
            count += 1
    return count


def grep(path: Path, word: str, ignore_case: bool) -> int:
    args = ["grep", "-c", "-F", *(["-i"] if ignore_case else []), word, str(path)]
    out = subprocess.run(args, capture_output=True, text=True, check=False)
    return int(out.stdout.strip() or 0)


def children_cpu() -> float:
    """CPU seconds of this process's finished children (grep), user and system."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def grep_timed(path: Path, word: str) -> tuple[float, float, int]:
    """``grep -c -F``: wall-clock seconds, its CPU seconds, the count."""
    cpu = children_cpu()
    wall, found = timed(lambda: grep(path, word, False))
    return wall, children_cpu() - cpu, found


def index(path: Path) -> IndexedSource:
    source = IndexedSource(path)
    while not source.update().complete:
        pass
    return source


def facts_from_columns(source: IndexedSource) -> int:
    facts = RunFacts()
    while facts.scan(source.run, chunk=1_000_000):
        pass
    return facts.count


def facts_from_rows(source: IndexedSource, limit: int) -> int:
    facts = RunFacts()
    rows = RowsOnly(source.run, limit)
    while facts.scan(rows, chunk=20_000):  # type: ignore[arg-type]
        pass
    return facts.count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("native", "otlp"), default="native")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    gen_s, path = timed(lambda: make_file(args.format, args.steps))
    size = path.stat().st_size
    result: dict[str, Any] = {"file": path.name, "bytes": size, "generate_s": gen_s,
                              "load_before": load(), "date": time.strftime("%Y-%m-%d %H:%M UTC",
                                                                           time.gmtime())}
    result["ref_s"], lines = timed(lambda: reference(path))
    result["grep_ci_s"], result["grep_ci"] = timed(lambda: grep(path, RARE, True))
    result["index_s"], source = timed(lambda: index(path))
    run = source.run
    result["steps"] = len(run)
    result["facts_columns_s"], _ = timed(lambda: facts_from_columns(source))
    sample = min(100_000, len(run))
    result["facts_rows_s_per_100k"], _ = timed(lambda: facts_from_rows(source, sample))
    result["facts_rows_s_per_100k"] *= 100_000 / max(sample, 1)
    result["grep_c_s"], result["grep_c_cpu_s"], result["grep_c"] = grep_timed(path, RARE)
    rare = StepQuery.parse(f"'{RARE}'")
    count = len(run)
    order = range(1, count)
    result["search_next_s"], result["search_next_cpu_s"], found = timed_cpu(
        lambda: find_next(run, rare, order, 0, 1, count))
    result["search_next_found"] = found
    search = ByteSearch(run, rare)
    result["search_count_s"], result["search_count_cpu_s"], rare_hits = timed_cpu(
        search.all_matches)
    result["search_count"], result["search_way"] = len(rare_hits), ways(search)
    result["scan_mb_s"] = size / 1e6 / result["search_count_s"]
    result["scan_mb_cpu_s"] = size / 1e6 / result["search_count_cpu_s"]
    for key, word in (("absent_letters", "xylophone"), ("absent_cjk", "日本語")):
        search = ByteSearch(run, StepQuery.parse(f"text:{word}"))
        wall, cpu, hits = timed_cpu(search.all_matches)
        result[f"{key}_s"], result[f"{key}_cpu_s"], result[f"{key}_way"] = wall, cpu, ways(search)
        result[f"{key}_count"] = len(hits)
        result[f"{key}_grep_c_s"], grep_cpu, result[f"{key}_grep_c"] = grep_timed(path, word)
        result[f"{key}_grep_c_cpu_s"] = grep_cpu
        result[f"{key}_ratio_vs_grep_c"] = wall / max(result[f"{key}_grep_c_s"], 1e-9)
        result[f"{key}_cpu_ratio_vs_grep_c"] = cpu / max(grep_cpu, 1e-9)
    common = StepQuery.parse("text:apply_discount")
    result["common_count_s"], common_hits = timed(lambda: ByteSearch(run, common).all_matches())
    result["common_count"] = len(common_hits)
    few = min(20_000, count)
    result["per_step_s_per_20k"], slow_hits = timed(
        lambda: list(iter_matches(run, rare, range(few))))
    result["per_step_s_per_20k"] *= 20_000 / max(few, 1)
    result["load_after"] = load()
    source.close()
    result["ratio_index_vs_ref"] = result["ref_s"] / result["index_s"]
    result["ratio_search_vs_grep_c"] = result["search_count_s"] / max(result["grep_c_s"], 1e-9)
    result["cpu_ratio_search_vs_grep_c"] = (result["search_count_cpu_s"]
                                            / max(result["grep_c_cpu_s"], 1e-9))
    out = OUT / f"search-{args.format}-{args.steps}.json"
    out.write_text(json.dumps(result, indent=2))
    for key, value in result.items():
        print(f"{key:>24}: {value:.3f}" if isinstance(value, float) else f"{key:>24}: {value}")
    print(f"lines: {lines}; written {out}")


if __name__ == "__main__":
    main()
