"""SWE-agent trajectories (``*.traj``): ``history`` messages, ``trajectory`` steps, ``info``.

One ``agent`` step holds the run (exit status, submission, the aggregate ``model_stats``:
SWE-agent records tokens only in total, so no model call has its own usage). Every
assistant ``action`` message in ``history`` is an ``llm`` step whose input is the history
before it, followed by a ``tool`` step per tool call, answered by the ``tool`` message with
that id. ``trajectory`` steps are matched to those calls in order; trajectory steps the
history does not have (often the final ``submit``) become an ``llm`` step from the step's
``response`` and a ``tool`` step from its ``action`` and ``observation``. A file with only
``history`` (a demonstration) works the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trace_tui.core.formats.base import Head, TraceFormat
from trace_tui.core.formats.shared.coerce import model_parameters
from trace_tui.core.formats.shared.common import (
    A_IMPORT_NOTE,
    as_dict,
    maybe_json,
    problem,
    run_record,
    span,
)
from trace_tui.core.formats.shared.documents import load_document
from trace_tui.core.formats.shared.messages import normalize_messages, split_system
from trace_tui.core.formats.shared.sniff import doc_shape


def read_swe_agent(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a ``.traj`` document."""
    doc, note = load_document(path)
    if not isinstance(doc, dict):
        yield problem("the trajectory is not a JSON object")
        return
    yield from TrajectoryMapper(doc, path.stem).records()
    if note:
        yield problem(note)


class TrajectoryMapper:
    """Builds the steps of one trajectory document."""

    def __init__(self, doc: dict[str, Any], name: str) -> None:
        self.doc = doc
        self.name = name
        config = maybe_json(doc.get("replay_config"))
        agent = config.get("agent") if isinstance(config, dict) else None
        model = agent.get("model") if isinstance(agent, dict) else None
        self.model = model if isinstance(model, dict) else {}
        history = doc.get("history")
        self.history = (
            [h for h in history if isinstance(h, dict)] if isinstance(history, list) else []
        )
        traj = doc.get("trajectory")
        self.trajectory = [t for t in traj if isinstance(t, dict)] if isinstance(traj, list) else []
        self.root = "swe-run"
        self.n = 0

    def records(self) -> Iterator[dict[str, Any]]:
        """Run, root step, then the model calls and tool calls in order."""
        info = as_dict(self.doc.get("info"))
        yield run_record(
            run_id=self.name,
            name=f"SWE-agent {self.name}",
            environment={
                "environment": self.doc.get("environment"),
                "model": self.model.get("name"),
            },
        )
        yield span(
            self.root,
            "agent",
            f"swe-agent {self.doc.get('environment') or self.name}",
            attributes={
                "gen_ai.agent.name": "swe-agent",
                "swe_agent.exit_status": info.get("exit_status"),
                "swe_agent.model_stats": info.get("model_stats"),
                "swe_agent.submission": info.get("submission"),
            },
            source={k: v for k, v in self.doc.items() if k not in ("history", "trajectory")},
        )
        done = 0
        for index, entry in enumerate(self.history):
            if entry.get("role") == "assistant":
                step = self.trajectory[done] if done < len(self.trajectory) else None
                yield from self._history_call(index, entry, step)
                done += 1
        for step in self.trajectory[done:]:
            yield from self._trajectory_call(step)

    def _id(self, kind: str) -> str:
        self.n += 1
        return f"swe-{kind}-{self.n}"

    def _llm_attrs(
        self, before: list[dict[str, Any]], output: list[dict[str, Any]]
    ) -> dict[str, Any]:
        system, inputs = split_system(normalize_messages(before))
        return {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": self.model.get("name"),
            "gen_ai.system_instructions": system,
            "gen_ai.input.messages": inputs,
            "gen_ai.output.messages": output,
            **model_parameters(self.model),
        }

    def _history_call(
        self, index: int, entry: dict[str, Any], step: dict[str, Any] | None
    ) -> Iterator[dict[str, Any]]:
        output = normalize_messages([_history_message(entry)])
        attrs = self._llm_attrs([_history_message(h) for h in self.history[:index]], output)
        attrs["swe_agent.thought"] = entry.get("thought")
        yield span(
            self._id("llm"),
            "llm",
            f"chat {self.model.get('name') or 'model'}",
            parent_id=self.root,
            attributes=attrs,
            source=entry,
        )
        results = _results_after(self.history, index)
        for call in output[0].get("tool_calls") or () if output else ():
            result = results.get(call.get("id"))
            attrs = {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": call.get("name"),
                "gen_ai.tool.call.id": call.get("id"),
                "gen_ai.tool.call.arguments": call.get("arguments"),
                "gen_ai.tool.call.result": result.get("content") if result else None,
                "swe_agent.action": entry.get("action"),
            }
            if step is not None:
                attrs["swe_agent.execution_time"] = step.get("execution_time")
            yield span(
                self._id("tool"),
                "tool",
                str(call.get("name") or "tool"),
                parent_id=self.root,
                attributes=attrs,
                source=result or step,
            )

    def _trajectory_call(self, step: dict[str, Any]) -> Iterator[dict[str, Any]]:
        action = str(step.get("action") or "").strip()
        name = action.split()[0] if action else "action"
        output = [{"role": "assistant", "content": step.get("response") or step.get("thought")}]
        query = step.get("query")
        history = query if isinstance(query, list) else [_history_message(h) for h in self.history]
        attrs = self._llm_attrs(history, output)
        attrs[A_IMPORT_NOTE] = "this call is only in the trajectory; its input is the full history"
        yield span(
            self._id("llm"),
            "llm",
            f"chat {self.model.get('name') or 'model'}",
            parent_id=self.root,
            attributes=attrs,
            source=step,
        )
        yield span(
            self._id("tool"),
            "tool",
            name,
            parent_id=self.root,
            source=step,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": name,
                "gen_ai.tool.call.arguments": {"command": action},
                "gen_ai.tool.call.result": step.get("observation"),
                "swe_agent.execution_time": step.get("execution_time"),
            },
        )


def _history_message(entry: dict[str, Any]) -> dict[str, Any]:
    msg = {k: entry[k] for k in ("role", "content", "tool_calls") if entry.get(k) is not None}
    ids = entry.get("tool_call_ids")
    if entry.get("role") == "tool" and isinstance(ids, list) and ids:
        msg["tool_call_id"] = ids[0]
    return msg


def _results_after(history: list[dict[str, Any]], index: int) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for entry in history[index + 1 :]:
        if entry.get("role") != "tool":
            break
        for call_id in entry.get("tool_call_ids") or ():
            results[str(call_id)] = entry
    return results


def detect_swe_agent(head: Head) -> bool:
    """A JSON object with ``trajectory`` steps (action/observation) or a ``history`` list."""
    shape = doc_shape(head.data)
    if shape.container != "object":
        return False
    return (
        shape.has("trajectory", "[]", "action")
        or shape.has("trajectory", "[]", "observation")
        or shape.has("history", "[]", "message_type")
        or (shape.has("history") and shape.has("info", "model_stats"))
    )


SWE_AGENT = TraceFormat(
    name="swe-agent",
    title="SWE-agent trajectory (.traj)",
    detect=detect_swe_agent,
    read_document=read_swe_agent,
)
