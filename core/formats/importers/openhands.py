"""OpenHands trajectories: a JSON array of events (actions and observations).

An agent action carrying ``tool_call_metadata`` is a ``tool`` step; its observation (the event
whose ``cause`` is the action's ``id``) gives the result, and a failed command (``success:
false``, a non-zero exit code, or an ``error`` observation) makes it an error. The raw model
response in the metadata becomes an ``llm`` step, once per ``model_response.id`` (one
response can ask for several tools and is repeated on each action, usage included). An agent
``message`` action without metadata is a model reply that called no tool: an ``llm`` step
with no usage recorded. OpenHands does not record what the model was sent, so no step has
input messages. Everything else (user messages, state changes, unmatched observations)
becomes an ``other`` step.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trace_tui.core.formats.base import Head, TraceFormat
from trace_tui.core.formats.shared.common import (
    A_IMPORT_NOTE,
    as_dict,
    json_or_text,
    opt_int,
    problem,
    short,
    span,
    usage_attributes,
)
from trace_tui.core.formats.shared.documents import load_document
from trace_tui.core.formats.shared.messages import normalize_messages
from trace_tui.core.formats.shared.sniff import doc_shape


def read_openhands(path: Path) -> Iterator[dict[str, Any]]:
    """Records of an OpenHands trajectory array."""
    doc, note = load_document(path)
    events = doc.get("events", doc.get("trajectory")) if isinstance(doc, dict) else doc
    if not isinstance(events, list):
        yield problem("the trajectory is not a JSON array of events")
        events = []
    yield from EventMapper([e for e in events if isinstance(e, dict)]).records()
    skipped = sum(1 for e in events if not isinstance(e, dict))
    if skipped:
        yield problem(f"{skipped} item(s) of the array are not event objects; skipped")
    if note:
        yield problem(note)


class EventMapper:
    """Pairs actions with observations and model responses with steps."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events
        self.observations = {
            e["cause"]: e for e in events if "observation" in e and e.get("cause") is not None
        }
        self.responses: set[str] = set()
        self.used: set[int] = set()

    def records(self) -> Iterator[dict[str, Any]]:
        """Steps in event order; observations fold into their tool step."""
        for index, event in enumerate(self.events):
            if id(event) in self.used:
                continue
            meta = event.get("tool_call_metadata")
            if "action" in event and isinstance(meta, dict):
                yield from self._tool_action(index, event, meta)
            elif event.get("action") == "message" and event.get("source") == "agent":
                yield self._reply(index, event)
            else:
                yield self._other(index, event)

    def _llm(self, index: int, event: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
        usage = as_dict(response.get("usage"))
        details = as_dict(usage.get("prompt_tokens_details"))
        choices = [c for c in response.get("choices") or () if isinstance(c, dict)]
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.response.id": response.get("id"),
            "gen_ai.request.model": response.get("model"),
            "gen_ai.response.model": response.get("model"),
            "gen_ai.output.messages": normalize_messages(
                [c.get("message") for c in choices if c.get("message")]
            ),
            "gen_ai.response.finish_reasons": [
                str(c["finish_reason"]) for c in choices if c.get("finish_reason")
            ],
            **usage_attributes(
                usage.get("prompt_tokens"),
                usage.get("completion_tokens"),
                usage.get("cache_read_input_tokens", details.get("cached_tokens")),
                usage.get("cache_creation_input_tokens"),
                input_includes_cache=True,
            ),
        }
        return span(
            f"oh-llm-{index}",
            "llm",
            f"chat {response.get('model') or 'model'}",
            start=event.get("timestamp"),
            end=event.get("timestamp"),
            attributes=attrs,
            source=response,
        )

    def _tool_action(
        self, index: int, event: dict[str, Any], meta: dict[str, Any]
    ) -> Iterator[dict[str, Any]]:
        response = as_dict(meta.get("model_response"))
        key = str(response.get("id") or f"event-{index}")
        if response and key not in self.responses:
            self.responses.add(key)
            yield self._llm(index, event, response)
        call_id = meta.get("tool_call_id")
        obs = self.observations.get(event.get("id"))
        if obs is not None:
            self.used.add(id(obs))
        name = str(meta.get("function_name") or event.get("action") or "tool")
        attrs = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.call.id": call_id,
            "gen_ai.tool.call.arguments": _arguments(response, call_id, event),
            "gen_ai.tool.call.result": obs.get("content") if obs else None,
            "openhands.action": event.get("action"),
            "openhands.observation": obs.get("observation") if obs else None,
            "openhands.exit_code": _exit_code(obs),
        }
        if obs is None and event.get("action") != "finish":
            attrs[A_IMPORT_NOTE] = "no observation answers this action in the file"
        yield span(
            f"oh-{event.get('id', index)}",
            "tool",
            name,
            start=event.get("timestamp"),
            end=(obs or event).get("timestamp"),
            error=_error(obs),
            attributes=attrs,
            source=[event, obs] if obs else event,
        )

    def _reply(self, index: int, event: dict[str, Any]) -> dict[str, Any]:
        args = as_dict(event.get("args"))
        text = args.get("content", event.get("message"))
        return span(
            f"oh-{event.get('id', index)}",
            "llm",
            "chat (reply)",
            start=event.get("timestamp"),
            end=event.get("timestamp"),
            source=event,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.output.messages": [{"role": "assistant", "content": text}],
                A_IMPORT_NOTE: "an agent message without model metadata: no usage recorded",
            },
        )

    def _other(self, index: int, event: dict[str, Any]) -> dict[str, Any]:
        what = event.get("action") or event.get("observation") or "event"
        role = "action" if "action" in event else "observation"
        label = f"{event.get('source') or 'event'} {role}: {what}"
        message = event.get("message") or event.get("content")
        if message:
            label += f" — {short(message, 40)}"
        return span(
            f"oh-{event.get('id', index)}",
            "other",
            label,
            start=event.get("timestamp"),
            end=event.get("timestamp"),
            error=_error(event) if "observation" in event else None,
            attributes={
                "openhands.source": event.get("source"),
                "openhands.message": event.get("message"),
                "openhands.cause": event.get("cause"),
            },
            source=event,
        )


def _arguments(response: dict[str, Any], call_id: Any, event: dict[str, Any]) -> Any:
    for choice in response.get("choices") or ():
        message = choice.get("message") if isinstance(choice, dict) else None
        for call in (message or {}).get("tool_calls") or ():
            if isinstance(call, dict) and call.get("id") == call_id:
                return json_or_text((call.get("function") or {}).get("arguments"))
    return event.get("args")


def _exit_code(obs: dict[str, Any] | None) -> int | None:
    extras = (obs or {}).get("extras")
    meta = extras.get("metadata") if isinstance(extras, dict) else None
    code = meta.get("exit_code") if isinstance(meta, dict) else None
    return code if isinstance(code, int) else opt_int(code)


def _error(obs: dict[str, Any] | None) -> str | None:
    if obs is None:
        return None
    code = _exit_code(obs)
    if obs.get("observation") == "error" or obs.get("success") is False or code not in (None, 0):
        return short(obs.get("message") or obs.get("content") or f"exit code {code}", 200)
    return None


def detect_openhands(head: Head) -> bool:
    """A JSON array of events with an integer ``id``, a ``source`` and an action/observation."""
    shape = doc_shape(head.data)
    return (
        shape.container == "array"
        and shape.has("[]", "id")
        and shape.has("[]", "source")
        and (shape.has("[]", "action") or shape.has("[]", "observation"))
    )


OPENHANDS = TraceFormat(
    name="openhands",
    title="OpenHands trajectory (JSON array of action/observation events)",
    detect=detect_openhands,
    read_document=read_openhands,
)
