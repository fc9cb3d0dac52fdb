"""Assay trace JSON lines (the output of ``assay import``), streamed.

``episode_start`` … ``episode_end`` is an ``agent`` step; each ``step`` record starts a step of
its ``kind`` (``tool`` mostly) under the episode, and the ``tool_call`` record with the same
``step_id`` ends it with arguments, result and error. The older v1 form
(``{"id", "tool", "args", "response"}`` per line) becomes one complete tool step per line.
Other record types become ``other`` steps.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trace_tui.core.formats.base import Head, TraceFormat
from trace_tui.core.formats.shared.common import (
    A_IMPORT_NOTE,
    run_record,
    span,
    span_end,
    span_start,
)

_KINDS = {"tool": "tool", "llm": "llm", "model": "llm", "retrieval": "retrieval"}


class AssayMapper:
    """Maps Assay records to native records as they are read."""

    def __init__(self) -> None:
        self._n = 0
        self._episode: str | None = None
        self._steps: set[str] = set()

    def feed(self, record: dict[str, Any], *, offset: int, line: int) -> Iterable[dict[str, Any]]:
        """Native records for one Assay record."""
        kind = record.get("type")
        when = record.get("timestamp")
        if kind == "episode_start":
            return self._start(record, when)
        if kind == "episode_end" and self._episode:
            episode, self._episode = self._episode, None
            return [
                span_end(
                    episode,
                    end=when,
                    source=record,
                    attributes={
                        "assay.outcome": record.get("outcome"),
                        "assay.final_output": record.get("final_output"),
                    },
                )
            ]
        if kind == "step":
            return [self._step(record, when)]
        if kind == "tool_call":
            return [self._tool_call(record, when, line)]
        if kind is None and "tool" in record:
            return [self._v1(record)]
        self._n += 1
        return [
            span(
                f"assay-{self._n}",
                "other",
                str(kind or "record"),
                parent_id=self._episode,
                start=when,
                end=when,
                attributes={
                    A_IMPORT_NOTE: f"line {line}: an Assay record type this importer does not know"
                },
                source=record,
            )
        ]

    def finish(self) -> Iterable[dict[str, Any]]:
        """Close an episode the file never ended."""
        if self._episode is None:
            return ()
        episode, self._episode = self._episode, None
        return (span_end(episode),)

    def _start(self, record: dict[str, Any], when: Any) -> list[dict[str, Any]]:
        episode_id = str(record.get("episode_id") or "episode")
        self._episode = f"assay-episode-{episode_id}"
        prompt = (
            (record.get("input") or {}).get("prompt")
            if isinstance(record.get("input"), dict)
            else None
        )
        return [
            run_record(
                run_id=episode_id,
                name=f"Assay episode {episode_id}",
                started_at=when,
                environment=record.get("meta") if isinstance(record.get("meta"), dict) else None,
            ),
            span_start(
                self._episode,
                "agent",
                f"episode {episode_id}",
                start=when,
                source=record,
                attributes={"gen_ai.agent.name": "assay", "assay.prompt": prompt},
            ),
        ]

    def _step(self, record: dict[str, Any], when: Any) -> dict[str, Any]:
        step_id = f"assay-step-{record.get('step_id')}"
        self._steps.add(step_id)
        kind = _KINDS.get(str(record.get("kind")), "other")
        name = str(record.get("name") or record.get("kind") or "step")
        attrs: dict[str, Any] = {
            "assay.content": record.get("content"),
            "assay.meta": record.get("meta"),
        }
        if kind == "tool":
            attrs.update({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name})
            jsonrpc_id = (
                (record.get("meta") or {}).get("jsonrpc_id")
                if isinstance(record.get("meta"), dict)
                else None
            )
            attrs["gen_ai.tool.call.id"] = str(jsonrpc_id) if jsonrpc_id is not None else None
        return span_start(
            step_id,
            kind,
            name,
            parent_id=self._episode,
            start=when,
            attributes=attrs,
            source=record,
        )

    def _tool_call(self, record: dict[str, Any], when: Any, line: int) -> dict[str, Any]:
        step_id = f"assay-step-{record.get('step_id')}"
        attrs = {
            "gen_ai.tool.call.arguments": record.get("args"),
            "gen_ai.tool.call.result": record.get("result"),
        }
        error = record.get("error")
        if step_id in self._steps:
            self._steps.discard(step_id)
            return span_end(step_id, end=when, error=error, attributes=attrs, source=record)
        self._n += 1
        name = str(record.get("tool_name") or "tool")
        attrs.update(
            {
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": name,
                A_IMPORT_NOTE: f"line {line}: no step record announced this tool call",
            }
        )
        return span(
            f"assay-{self._n}",
            "tool",
            name,
            parent_id=self._episode,
            start=when,
            end=when,
            error=error,
            attributes=attrs,
            source=record,
        )

    def _v1(self, record: dict[str, Any]) -> dict[str, Any]:
        self._n += 1
        name = str(record.get("tool") or "tool")
        return span(
            f"assay-{self._n}",
            "tool",
            name,
            parent_id=self._episode,
            source=record,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": name,
                "gen_ai.tool.call.id": str(record["id"]) if record.get("id") is not None else None,
                "gen_ai.tool.call.arguments": record.get("args"),
                "gen_ai.tool.call.result": record.get("response"),
                "assay.prompt": record.get("prompt"),
            },
        )


def detect_assay(head: Head) -> bool:
    """An Assay trace: ``episode_start`` with ``episode_id`` first (or the v1 tool lines)."""
    rec = head.first_record
    if not isinstance(rec, dict):
        return False
    if rec.get("type") == "episode_start" and "episode_id" in rec:
        return True
    return {"id", "tool", "args", "response"} <= set(rec) and "type" not in rec


ASSAY = TraceFormat(
    name="assay",
    title="Assay trace JSON lines (episode_start / step / tool_call / episode_end)",
    detect=detect_assay,
    mapper=AssayMapper,
)
