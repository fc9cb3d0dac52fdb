"""Plain tests of the debugger screen's UI-free logic: facts, visibility, queries, gauge maths,
JSON flattening, safe text and the reader loop (no app running)."""

from __future__ import annotations

from pathlib import Path

import pytest

from support import SAMPLES
from trace_tui.core.model.context_windows import ContextWindow
from trace_tui.core.model.run import Run, Step
from trace_tui.core.navigation.context_view import context_at
from trace_tui.core.navigation.gauge import breakdown, fraction_level, truncation_notes
from trace_tui.core.navigation.run_facts import RunFacts
from trace_tui.core.navigation.state import state_at
from trace_tui.core.navigation.step_query import QueryError, StepQuery, iter_matches
from trace_tui.core.navigation.visibility import TreeVisibility
from trace_tui.core.reading.reader import open_run
from trace_tui.core.reading.source import SourceUpdate
from trace_tui.tui.display.safe_text import display_str, trace_text
from trace_tui.tui.documents.json_lines import FoldState, flatten_json
from trace_tui.tui.documents.lines import wrap_words
from trace_tui.tui.messages import ReaderProgress
from trace_tui.tui.session.reader_loop import pump_source


def _run(name: str) -> Run:
    return open_run(SAMPLES / name)


def _facts(run: Run) -> RunFacts:
    facts = RunFacts()
    while facts.scan(run):
        pass
    return facts


# --------------------------------------------------------------------------- RunFacts
def test_facts_navigation_on_discount_sample() -> None:
    run = _run("discount_over_cap.jsonl")
    facts = _facts(run)
    assert facts.count == len(run) == 8
    assert facts.first_error() == 6  # apply_discount, step 7
    assert facts.next_error(0) == 6 and facts.next_error(6) is None
    assert facts.prev_error(7) == 6 and facts.prev_error(6) is None
    assert facts.next_tool(0) == 2 and facts.prev_tool(2) is None
    assert facts.llm_at_or_before(2) == 1 and facts.llm_before(1) is None
    assert facts.has_children(0) and not facts.has_children(1)
    assert facts.parent(3) == 0 and facts.kind(2) == "tool"
    peak = facts.run_peak()
    assert peak is not None and peak.index == 7 and peak.input_tokens == 618
    assert facts.peak_until(3) == facts.peak_until(4)
    assert facts.peak_until(3) is not None and facts.peak_until(3).index == 3  # type: ignore[union-attr]


def test_facts_refresh_tracks_status_and_tokens_changing_in_place() -> None:
    run = Run()
    for n, kind in enumerate(("agent", "llm", "llm")):
        run.add_step(Step(index=-1, span_id=f"s{n}", parent_id="s0" if n else None, kind=kind,
                          name=kind, status="running"))
    facts = _facts(run)
    assert facts.error_count == 0 and facts.run_peak() is None
    run.steps[2].status = "error"
    run.steps[2].attributes["gen_ai.usage.input_tokens"] = 900
    run.steps[1].attributes["gen_ai.usage.input_tokens"] = 100
    facts.refresh(run, [1, 2])
    assert facts.first_error() == 2
    assert facts.run_peak() is not None and facts.run_peak().index == 2  # type: ignore[union-attr]
    assert facts.peak_until(1) is not None and facts.peak_until(1).input_tokens == 100  # type: ignore[union-attr]


def test_token_profile_buckets() -> None:
    run = _run("system_prompt_evicted.jsonl")
    facts = _facts(run)
    profile = facts.token_profile(len(run), len(run))
    assert profile[0] == -1  # the agent step has no usage
    assert max(profile) == facts.run_peak().input_tokens  # type: ignore[union-attr]
    assert facts.token_profile(len(run), 1) == [max(profile)]


# --------------------------------------------------------------------------- visibility
PARENTS = [-1, 0, 1, 1, 0, 4, -1, 6]  # two roots: 0 (with 1..5) and 6 (with 7)


def test_visibility_identity_collapse_and_reveal() -> None:
    vis = TreeVisibility()
    vis.rebuild(8, PARENTS)
    assert not vis.active and len(vis) == 8 and vis.step_at(5) == 5
    vis.toggle(1, 8, PARENTS)
    assert [vis.step_at(r) for r in range(len(vis))] == [0, 1, 4, 5, 6, 7]
    vis.toggle(0, 8, PARENTS)
    assert [vis.step_at(r) for r in range(len(vis))] == [0, 6, 7]
    assert vis.row_of(3) is None and vis.nearest_row(3) == 1
    assert vis.reveal(3, 8, PARENTS)
    assert vis.row_of(3) is not None and not vis.collapsed
    vis.set_collapsed([], 8, PARENTS)
    assert not vis.active


def test_visibility_filter_keeps_ancestors_and_grows() -> None:
    vis = TreeVisibility()
    vis.set_filter([3], 8, PARENTS)
    shown = [vis.step_at(r) for r in range(len(vis))]
    assert shown == [0, 1, 3]
    assert vis.is_match(3) and not vis.is_match(1) and vis.match_count == 1
    parents = PARENTS + [7, 1]  # step 8 under 7, step 9 under 1
    vis.extend(10, parents, matches=[8])
    assert [vis.step_at(r) for r in range(len(vis))] == [0, 1, 3, 6, 7, 8]
    vis.add_matches([9], parents)
    assert [vis.step_at(r) for r in range(len(vis))] == [0, 1, 3, 6, 7, 8, 9]
    vis.set_filter(None, 10, parents)
    assert len(vis) == 10 and not vis.active


def test_visibility_clone_is_independent() -> None:
    vis = TreeVisibility()
    vis.toggle(0, 8, PARENTS)
    copy = vis.clone()
    copy.toggle(0, 8, PARENTS)
    assert vis.collapsed == {0} and not copy.collapsed


# --------------------------------------------------------------------------- queries
def test_query_parsing_and_matching() -> None:
    run = _run("discount_over_cap.jsonl")
    q = StepQuery.parse("kind:tool is:error")
    assert list(iter_matches(run, q, range(len(run)))) == [6]
    assert list(iter_matches(run, StepQuery.parse("name:loyalty"), range(len(run)))) == [4]
    # a bare word matches the payload too: the 35 % discount is in step 5's result
    found = list(iter_matches(run, StepQuery.parse("discount_pct"), range(len(run))))
    assert 4 in found
    assert list(iter_matches(run, StepQuery.parse('text:"business cap"'), range(len(run)))) \
        == [6, 7]
    with pytest.raises(QueryError):
        StepQuery.parse("kind:nonsense")
    with pytest.raises(QueryError):
        StepQuery.parse('"unclosed')
    assert StepQuery.parse("").empty


# --------------------------------------------------------------------------- gauge maths
def test_breakdown_exact_totals_and_estimated_split() -> None:
    run = _run("system_prompt_evicted.jsonl")
    step = run.steps[6]  # 96 % of an 8k window
    result = breakdown(step, ContextWindow(8192, "trace"))
    assert result.input_exact and result.input_tokens == step.usage.input_tokens  # type: ignore[union-attr]
    assert sum(p.tokens for p in result.parts if p.key != "output") == result.input_tokens
    assert result.level == "warn" and 0.9 < (result.fraction or 0) < 1.0
    assert not any(p.exact for p in result.parts if p.key != "output")
    unknown = breakdown(step, None)
    assert unknown.fraction is None and unknown.level == "unknown"


def test_breakdown_estimates_without_usage() -> None:
    step = Step(index=0, span_id="a", parent_id=None, kind="llm", name="x", attributes={
        "gen_ai.system_instructions": "s" * 400,
        "gen_ai.input.messages": [{"role": "user", "content": "u" * 800},
                                  {"role": "tool", "content": "t" * 400}],
    })
    result = breakdown(step, ContextWindow(1000, "user"))
    assert not result.input_exact and result.input_tokens == 400
    assert {p.key: p.tokens for p in result.parts}["history"] == 200
    assert fraction_level(0.8) == "warn" and fraction_level(0.79) == "ok"
    assert fraction_level(1.2) == "over"


def test_truncation_notes_on_evicted_sample() -> None:
    run = _run("system_prompt_evicted.jsonl")
    llm = [s for s in run.steps if s.kind == "llm"]
    before, after = llm[-3], llm[-2]  # the call that filled the window, the first after it
    kinds = {n.kind for n in truncation_notes(after, before)}
    assert {"shrank", "system"} <= kinds
    assert truncation_notes(llm[0], None) == []


def test_context_at_matches_state_at() -> None:
    run = _run("discount_over_cap.jsonl")
    facts = _facts(run)
    for index in range(len(run)):
        llm = facts.llm_at_or_before(index)
        tools = facts.tools_between(-1 if llm is None else llm, index)
        mine = context_at(run, index, llm, tools)
        theirs = state_at(run, index)
        assert mine.messages == theirs.messages
        assert mine.system_prompt == theirs.system_prompt
        assert (mine.llm_step.index if mine.llm_step else None) == \
            (theirs.llm_step.index if theirs.llm_step else None)


# --------------------------------------------------------------------------- text
def test_flatten_json_pointers_folds_and_cuts() -> None:
    value = {"a/b": [1, {"c~d": "x" * 500}], "t": True, "n": None}
    state = FoldState()
    lines = flatten_json(value, state)
    anchors = [ln.anchor for ln in lines]
    assert "/a~1b/1/c~0d" in anchors and "/t" in anchors
    long = next(ln for ln in lines if ln.anchor == "/a~1b/1/c~0d")
    assert long.action == "expand" and "+340 chars" in long.text
    state.apply("expand", "/a~1b/1/c~0d")
    expanded = flatten_json(value, state, width=60)
    assert sum(1 for ln in expanded if ln.anchor == "/a~1b/1/c~0d") > 5
    state.apply("fold", "/a~1b")
    folded = flatten_json(value, state)
    assert not any(ln.anchor == "/a~1b/0" for ln in folded)
    assert any("2 items" in ln.text for ln in folded)


def test_flatten_json_caps_children() -> None:
    lines = flatten_json(list(range(1000)), FoldState())
    assert len(lines) < 300
    assert lines[-2].action == "more-items" and "800 more items" in lines[-2].text


def test_display_str_makes_controls_visible_and_cuts_first() -> None:
    hostile = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x9b31m\u202e[bold]x[/bold]"
    shown = display_str(hostile)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "\u202e" not in shown and "[bold]" in shown
    text = trace_text("[link=http://x]click[/link]")
    assert text.plain == "[link=http://x]click[/link]" and not text.spans
    huge = "\x1b" * 10_000_000
    assert len(display_str(huge, limit=50)) == 50


def test_wrap_words() -> None:
    assert wrap_words("alpha beta gamma", 11) == ["alpha beta", "gamma"]
    assert wrap_words("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


# --------------------------------------------------------------------------- reader loop
class _FakeSource:
    """A source whose run grows by a scripted list of updates."""

    def __init__(self, run: Run, script: list[tuple[int, bool]]) -> None:
        self.path = Path("fake.jsonl")
        self.format_name = "native"
        self.run = Run()
        self._all = run
        self._script = script
        self.waits = 0

    def update(self) -> SourceUpdate:
        upto, complete = self._script.pop(0) if self._script else (len(self._all), True)
        added = 0
        while len(self.run) < upto:
            self.run.add_step(self._all.steps[len(self.run)])
            added += 1
        return SourceUpdate(added=added, complete=complete, progress=upto / len(self._all))

    def wait(self, timeout: float) -> None:
        self.waits += 1

    def close(self) -> None:
        pass


def test_pump_source_posts_batched_progress_and_ends() -> None:
    full = _run("tool_loop_no_progress.jsonl")
    source = _FakeSource(full, [(3, False), (9, False), (13, True)])
    posted: list[object] = []
    now = [0.0]
    facts = RunFacts()
    pump_source(source, facts, follow=False, post=posted.append, cancelled=lambda: False,
                clock=lambda: now[0])
    progress = [m for m in posted if isinstance(m, ReaderProgress)]
    assert progress[0].count == 3  # the first batch is posted at once
    assert progress[-1].complete and progress[-1].count == progress[-1].scanned == 13
    assert facts.count == 13 and source.waits == 0


def test_pump_source_waits_while_the_user_presses_keys() -> None:
    """Key presses first: no update of the index while ``user_active()`` holds."""
    full = _run("tool_loop_no_progress.jsonl")
    source = _FakeSource(full, [(3, False), (9, False), (13, True)])
    asked: list[int] = []

    def user_active() -> bool:
        asked.append(len(source.run))
        return len(asked) in (2, 3, 4)  # pressing keys after the first update

    facts = RunFacts()
    pump_source(source, facts, follow=False, post=lambda m: None, cancelled=lambda: False,
                user_active=user_active)
    assert asked[:5] == [0, 3, 3, 3, 3], "updated while the user was pressing keys"
    assert facts.count == len(source.run) == 13


def test_pump_source_follows_until_cancelled() -> None:
    full = _run("tool_loop_no_progress.jsonl")
    source = _FakeSource(full, [(5, True), (5, True), (13, True)])
    posted: list[object] = []
    calls = [0]

    def cancelled() -> bool:
        calls[0] += 1
        return calls[0] > 12

    pump_source(source, RunFacts(), follow=True, post=posted.append, cancelled=cancelled,
                interval=0.0)
    counts = [m.count for m in posted if isinstance(m, ReaderProgress)]
    assert counts[0] == 5 and counts[-1] == 13 and source.waits >= 2


def test_every_binding_has_description_tooltip_and_id() -> None:
    from trace_tui.tui.keys import BUILTIN_KEYS, key_groups, markdown_table

    seen: set[str] = set()
    for _group, bindings in key_groups(tail=True):
        for binding in bindings:
            assert binding.description and binding.tooltip, binding
            if binding not in BUILTIN_KEYS:
                assert binding.id and binding.id not in seen, binding
                seen.add(binding.id)
    table = markdown_table()
    assert "`:`" in table and "`/`" in table and "Ctrl+p" in table
