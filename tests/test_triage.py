"""``trace-tui triage``: outcomes from explicit signals, failure groups, divergence, cache.

The night comes from ``bench/night.py`` (the same generator the benchmark uses): every injected
failure kind must come out as its own group with exactly the injected count, no group may mix
two kinds, and the divergence step must be within 3 steps of the injected fault for at least
90 % of the failing runs that have a successful sibling.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bench.night import generate
from support import SAMPLES, eventually_async
from trace_tui.core.triage.collect import find_files, summarise_all
from trace_tui.core.triage.grouping import group_failures
from trace_tui.core.triage.signature import normalise_message, sequence_shape
from trace_tui.core.triage.summary import summarise

POLICIES = SAMPLES / "policies"
STORIES = {
    "discount_over_cap": ("tool_error", 7, "apply_discount"),
    "empty_retrieval_fabrication": ("empty_retrieval", 3, "search_policies"),
    "tool_loop_no_progress": ("loop", 3, "check_shipment_status"),
    "system_prompt_evicted": ("context_overflow", 8, ""),
    "order_lookup_missing_user_id": ("policy_blocked", 3, "lookup_order"),
}


@pytest.mark.parametrize("story", sorted(STORIES))
def test_each_sample_story_lands_in_its_outcome(story: str) -> None:
    summary = summarise(SAMPLES / f"{story}.jsonl", policy_path=str(POLICIES / f"{story}.yaml"))
    outcome, step, tool = STORIES[story]
    assert (summary.outcome, summary.step + 1 if summary.step is not None else None,
            summary.tool) == (outcome, step, tool)


def test_a_silent_failure_is_not_called_a_failure_without_a_policy() -> None:
    """The missing user_id leaves no error in the trace: only a policy can see it."""
    assert summarise(SAMPLES / "order_lookup_missing_user_id.jsonl").outcome == "completed"


def test_messages_normalise_their_variable_parts() -> None:
    assert normalise_message("ToolError: 35% exceeds the cap of 20% for order A-2291") == \
        normalise_message("ToolError: 40% exceeds the cap of 20% for order B-17")
    assert normalise_message("KeyError: 'user_id' at https://x.example/a?b=1 (req 5b8efff7980381)"
                             ) == "KeyError: <str> at <url> (req <id>)"
    assert normalise_message("x\nsecond line") == "x"
    assert sequence_shape(["a", "b", "b", "b", "c", "a"]) == "a>b+>c>a"


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("night")
    return out, generate(out, runs=400, seed=11)


def _kind(manifest: dict[str, Any], out: Path, path: str) -> str:
    return str(manifest["runs"][str(Path(path).relative_to(out))]["kind"])


def test_every_injected_kind_is_one_group_with_its_exact_count(
        night: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    out, manifest = night
    files = find_files([str(out / "runs")])
    assert len(files) == 400
    summaries, read = summarise_all(files, policy=str(out / "policy.yaml"),
                                    cache=tmp_path / "cache.jsonl")
    assert read == 400
    groups = group_failures(summaries)
    found = {}
    for group in groups:
        kinds = {_kind(manifest, out, r.summary.path) for r in group.runs}
        assert len(kinds) == 1, f"group {group.title} mixes {kinds}"
        (kind,) = kinds
        assert kind not in found, f"{kind} split into several groups"
        found[kind] = group.count
    injected = {k: v for k, v in manifest["counts"].items() if k != "completed"}
    assert found == injected
    assert [g.count for g in groups] == sorted(found.values(), reverse=True)


def test_divergence_is_near_the_injected_fault(night: tuple[Path, dict[str, Any]],
                                               tmp_path: Path) -> None:
    out, manifest = night
    summaries, _ = summarise_all(find_files([str(out / "runs")]),
                                 policy=str(out / "policy.yaml"), cache=tmp_path / "c.jsonl")
    near = with_sibling = 0
    for group in group_failures(summaries):
        for run in group.runs:
            if run.sibling is None:
                continue
            with_sibling += 1
            fault = manifest["runs"][str(Path(run.summary.path).relative_to(out))]["fault"]
            if run.divergence is not None and fault is not None \
                    and abs(run.divergence - fault) <= 3:
                near += 1
    assert with_sibling > 50
    assert near / with_sibling >= 0.9


def test_a_second_triage_reads_only_new_or_changed_files(tmp_path: Path) -> None:
    out = tmp_path / "night"
    generate(out, runs=40, seed=3)
    cache = tmp_path / "cache.jsonl"
    files = find_files([str(out / "runs")])
    first, read = summarise_all(files, cache=cache)
    assert read == 40
    again, read = summarise_all(files, cache=cache)
    assert (read, [s.to_json() for s in again]) == (0, [s.to_json() for s in first])
    changed = files[3]
    changed.write_text(changed.read_text() + "\n")
    os.utime(changed, ns=(1, 1))
    new = out / "runs" / "native" / "00" / "late.jsonl"
    new.write_text(files[0].read_text())
    _, read = summarise_all(find_files([str(out / "runs")]), cache=cache)
    assert read == 2


# --------------------------------------------------------------------------- command line
def test_json_report_and_exit_code(tmp_path: Path, capsys: Any,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from trace_tui.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    code = main(["triage", str(SAMPLES), "--json", "--policy",
                 str(POLICIES / "order_lookup_missing_user_id.yaml")])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert (document["runs"], document["failed"]) == (5, 5)
    top = {g["outcome"]: g for g in document["groups"]}
    assert top["tool_error"]["representative"]["failing_step"] == 7
    assert top["tool_error"]["message"] == "ToolError: <n>% exceeds the business cap of <n>%"


def test_no_failures_exits_0_and_bad_paths_exit_2(tmp_path: Path, capsys: Any,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from trace_tui.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    out = tmp_path / "ok"
    out.mkdir()
    (out / "a.jsonl").write_text((SAMPLES / "order_lookup_missing_user_id.jsonl").read_text())
    assert main(["triage", str(out), "--plain"]) == 0
    assert capsys.readouterr().out.startswith("1 runs, 0 failed (0.0 %), 0 failure groups")
    assert main(["triage", str(tmp_path / "missing")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_hostile_error_text_is_neutralised_in_the_table(
        tmp_path: Path, capsys: Any, write_trace: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from trace_tui.cli import main

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write_trace([{"type": "span", "span_id": "t", "parent_id": None, "kind": "tool",
                  "name": "rm", "status": "error", "error": "boom \x1b]52;c;AAAA\x07 \u202e",
                  "start_time": "2026-12-02T00:00:00Z", "end_time": "2026-12-02T00:00:01Z",
                  "attributes": {"gen_ai.tool.name": "rm"}}])
    assert main(["triage", str(tmp_path / "trace.jsonl"), "--plain"]) == 1
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and "\u202e" not in printed and "\x07" not in printed
    assert "␛" in printed


# --------------------------------------------------------------------------- screen
@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


@pytest.mark.anyio
async def test_groups_screen_opens_runs_and_the_debugger_starts_at_the_failing_step(
        night: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    from textual.widgets import DataTable

    from trace_tui.core.reading.source import open_source
    from trace_tui.tui.triage_app import TriageApp, TriageRunApp

    out, _manifest = night
    summaries, _ = summarise_all(find_files([str(out / "runs")]), cache=tmp_path / "c.jsonl")
    groups = group_failures(summaries)
    app = TriageApp(summaries, groups)
    async with app.run_test(size=(120, 30)) as pilot:
        assert app.query_one("#groups", DataTable).row_count == len(groups)
        await pilot.press("enter")
    chosen = app.return_value
    assert chosen is not None
    rep = groups[0].representative.summary
    assert (chosen.path, chosen.step, chosen.group) == (rep.path, rep.step, 0)

    app = TriageApp(summaries, groups, group=1)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.press("tab", "down", "enter")
    second = app.return_value
    assert second is not None and second.group == 1 and second.run == 1
    assert second.path != groups[1].representative.summary.path

    from trace_tui.tui.triage_app import Chosen, debugger_for

    with_policy = debugger_for(Chosen(rep.path, rep.step, 0, 0), str(out / "policy.yaml"))
    assert with_policy.policy is not None and with_policy.policy.name == "night"
    debugger = TriageRunApp(open_source(rep.path), start_step=rep.step)
    async with debugger.run_test(size=(120, 30)) as pilot:
        await eventually_async(
            lambda: debugger.debugger.cursor.position == rep.step, pilot.pause
        )
        assert debugger.debugger.cursor.position == rep.step
        await pilot.press("escape")
    assert debugger.return_value == 0
