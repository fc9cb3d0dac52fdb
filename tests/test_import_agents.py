"""SWE-agent trajectories and OpenHands event streams against numbers read off the files.

SWE-agent: model calls = ``info.model_stats.api_calls`` (and the ``trajectory`` steps), tool
calls = assistant ``history`` entries' ``tool_calls`` plus trajectory steps missing from
``history``. OpenHands: model calls = distinct ``tool_call_metadata.model_response.id`` plus
agent ``message`` actions without metadata (a reply with no tool call); tool calls = actions with
``tool_call_metadata``; tool errors = observations with ``success: false`` / non-zero
``extras.metadata.exit_code``; tokens = ``usage`` of each distinct response.
"""

from __future__ import annotations

from pathlib import Path

from trace_tui.core.reading.reader import open_run

FOREIGN = Path(__file__).parent / "data" / "foreign"


def test_swe_agent_real_run() -> None:
    run = open_run(FOREIGN / "swe-agent" / "swe-agent_gpt4_test-repo_6e44b9.traj")
    assert run.format_name == "swe-agent"
    # model_stats.api_calls = 5 = len(trajectory); history has 4 assistant actions, the 5th
    # (submit) is only in the trajectory.
    assert len(run.steps_of_kind("llm")) == 5
    tools = run.steps_of_kind("tool")
    # history tool_calls names: find_file, open, edit, bash; trajectory[4].action: "submit".
    assert [t.tool_name for t in tools] == ["find_file", "open", "edit", "bash", "submit"]
    assert not any(t.is_error for t in tools)
    # SWE-agent records tokens only in total: no call has usage, the run step keeps the totals.
    assert run.token_totals().input_tokens is None
    root = run.steps_of_kind("agent")[0]
    assert root.attr("swe_agent.model_stats")["tokens_sent"] == 7141
    assert root.attr("swe_agent.exit_status") == "submitted"
    first = run.steps_of_kind("llm")[0]
    # replay_config.agent.model: name gpt-4o, temperature 1.0, top_p 1.0, stop [].
    assert first.model == "gpt-4o"
    assert first.parameters == {"temperature": 1, "top_p": 1, "stop_sequences": []}
    assert first.system_prompt.startswith("SETTING: You are an autonomous programmer")
    assert [m.role for m in first.input_messages] == ["user"]  # the issue text
    assert tools[0].tool_call_id == "call_fJuazlMUN5fQDQ73G6XSpYpx"
    assert tools[0].tool_result.startswith('Found 1 matches for "missing_colon.py"')
    assert max(run.depth_of(s) for s in run.steps) == 1


def test_swe_agent_history_only_demonstration() -> None:
    run = open_run(FOREIGN / "swe-agent" / "swe-agent_function_calling_simple.traj")
    # 12 history entries: system, user, then 5 × (assistant action with one tool call, tool).
    assert len(run.steps_of_kind("llm")) == 5
    assert len(run.steps_of_kind("tool")) == 5
    assert all(t.tool_result is not None for t in run.steps_of_kind("tool"))


def test_openhands_gui_trajectory() -> None:
    run = open_run(FOREIGN / "openhands" / "openhands_basic_gui_mode_trajectory.json")
    assert run.format_name == "openhands"
    # model_response ids c482…, d2f1…, 08f5…, 9e38… + 1 agent message action (id 15).
    assert len(run.steps_of_kind("llm")) == 5
    tools = run.steps_of_kind("tool")
    assert len(tools) == 4  # actions 7, 9, 11, 13
    # Observation 14 (cause 13): success false, exit_code -1.
    assert [t.is_error for t in tools] == [False, False, False, True]
    totals = run.token_totals()
    # prompt_tokens 3439+3601+4769+5488 = 17297; completion 104+1142+693+85 = 2024;
    # LiteLLM's prompt_tokens include Anthropic's cache reads (0+3435+3595+4763 = 11793).
    assert (totals.input_tokens, totals.output_tokens, totals.cache_read_tokens) == (
        17297,
        2024,
        11793,
    )
    assert tools[0].tool_arguments["command"].startswith("mkdir -p /workspace/todo-app")
    # Every other event (state changes, user message, null observations) is kept.
    assert len(run.steps_of_kind("other")) == 18 - 5 - 4


def test_openhands_small_trajectory() -> None:
    run = open_run(FOREIGN / "openhands" / "openhands_basic_trajectory.json")
    # responses ead2…, ab22…; actions edit (3) and finish (5).
    assert len(run.steps_of_kind("llm")) == 2
    assert [t.tool_name for t in run.steps_of_kind("tool")] == ["str_replace_editor", "finish"]
    totals = run.token_totals()
    assert (totals.input_tokens, totals.output_tokens) == (3486 + 4646, 1135 + 177)


def test_truncated_openhands_array(tmp_path: Path) -> None:
    data = (FOREIGN / "openhands" / "openhands_basic_gui_mode_trajectory.json").read_bytes()
    cut = tmp_path / "traj.json"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    run = open_run(cut, "openhands")
    assert 0 < len(run.steps) < 18
    assert any("cut or corrupt" in (p.message + p.preview) for p in run.problems)
