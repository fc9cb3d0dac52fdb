"""Inspect AI evaluation logs: ``.json`` (one document) and ``.eval`` (a zip of JSON members).

Each sample becomes an ``agent`` step; its events become steps under it, nested by Inspect's
own span tree (``span_begin.parent_id``; every event names its ``span_id``):

- ``model`` → ``llm`` (input messages — inline, or ``input_refs`` ranges into the sample's
  message pool — tools, generate config, output choices, usage);
- ``tool`` → ``tool`` (arguments, result, ``error`` → error status), merged with the
  ``span_begin type=tool`` Inspect opens around it, so the tool's sandbox calls nest under it;
- ``span_begin`` → ``agent`` (solvers, agents) or ``other`` (init, scorers), ended by its
  ``span_end``;
- every other event (sandbox, state, store, score, error, info, …, and unknown ones) → ``other``.

``attachment://<hash>`` strings are replaced by the sample's attachments. Usage: Inspect's
``input_tokens`` follows the provider (OpenAI includes cached tokens, Anthropic does not); the
``total_tokens`` sum tells which, and the native count always includes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trace_tui.core.formats.base import Head, TraceFormat
from trace_tui.core.formats.importers.inspect_zip import read_eval_zip
from trace_tui.core.formats.shared.coerce import model_parameters
from trace_tui.core.formats.shared.common import (
    A_IMPORT_NOTE,
    as_dict,
    as_list,
    as_text,
    opt_int,
    problem,
    run_record,
    short,
    span,
    usage_attributes,
)
from trace_tui.core.formats.shared.documents import load_document
from trace_tui.core.formats.shared.messages import normalize_messages, normalize_tools, split_system
from trace_tui.core.formats.shared.sniff import doc_shape

_AGENT_SPANS = ("solver", "solvers", "agent", "handoff", "subtask", "agents")
_ATTACHMENT = "attachment://"


def read_inspect_json(path: Path) -> Iterator[dict[str, Any]]:
    """Records of an Inspect ``.json`` log."""
    log_doc, note = load_document(path)
    if not isinstance(log_doc, dict):
        yield problem("the Inspect log is not a JSON object")
        return
    yield from log_records(log_doc, log_doc.get("samples") or [])
    if note:
        yield problem(note)


def read_inspect_eval(path: Path) -> Iterator[dict[str, Any]]:
    """Records of an Inspect ``.eval`` zip (header, then each sample member)."""
    header, samples, notes = read_eval_zip(path)
    yield from log_records(header, samples)
    for note in notes:
        yield problem(note)


def log_records(header: dict[str, Any], samples: Any) -> Iterator[dict[str, Any]]:
    """Native records of a whole log: the run, then each sample's steps."""
    ev = as_dict(header.get("eval"))
    yield run_record(
        run_id=ev.get("run_id") or ev.get("eval_id"),
        name=f"Inspect {ev.get('task') or 'eval'}",
        started_at=ev.get("created"),
        environment={
            k: v
            for k, v in {
                "model": ev.get("model"),
                "task": ev.get("task"),
                "status": header.get("status"),
                "log_version": header.get("version"),
                "eval_id": ev.get("eval_id"),
                "task_id": ev.get("task_id"),
            }.items()
            if v is not None
        },
    )
    if isinstance(samples, dict | str | bytes) or samples is None:
        samples = []
    for number, sample in enumerate(samples, 1):
        if isinstance(sample, dict):
            yield from SampleMapper(sample, number, ev.get("model")).records()
        else:
            yield problem(f"sample {number} is not a JSON object; skipped")


class SampleMapper:
    """One sample's events → native records, parents before children."""

    def __init__(self, sample: dict[str, Any], number: int, model: Any) -> None:
        self.sample = sample
        self.prefix = f"s{number}"
        self.root = f"{self.prefix}-sample"
        self.model = model
        attachments = sample.get("attachments")
        self.attachments = attachments if isinstance(attachments, dict) else {}
        data = as_dict(sample.get("events_data"))
        pool = sample.get("message_pool", data.get("messages"))
        self.pool = pool if isinstance(pool, list) else []
        events = sample.get("events")
        self.events = [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []
        self.span_ends = {e.get("id"): e for e in self.events if e.get("event") == "span_end"}
        self.spans: set[str] = set()
        self.n = 0

    def records(self) -> Iterator[dict[str, Any]]:
        """The sample step, then one step per event."""
        yield self._sample_step()
        merged = _pair_tool_spans(self.events)
        for index, event in enumerate(self.events):
            kind = event.get("event")
            if kind == "span_end" or index in merged.values():
                continue
            if kind == "span_begin":
                yield self._span(event)
            elif kind == "model":
                yield self._model(event)
            elif kind == "tool":
                tool_span = self.events[merged[index]] if index in merged else None
                yield self._tool(event, tool_span)
            else:
                yield self._other(event)

    def _id(self, value: Any = None) -> str:
        if value:
            return f"{self.prefix}-{value}"
        self.n += 1
        return f"{self.prefix}-e{self.n}"

    def _parent(self, event: dict[str, Any], key: str = "span_id") -> str:
        value = event.get(key)
        return self._id(value) if value and self._id(value) in self.spans else self.root

    def _sample_step(self) -> dict[str, Any]:
        s = self.sample
        error = s.get("error")
        name = f"sample {s.get('id')}" + (f" (epoch {s.get('epoch')})" if s.get("epoch") else "")
        return span(
            self.root,
            "agent",
            name,
            start=_first_time(self.events),
            end=_last_time(self.events),
            error=_error_text(error) if error else None,
            attributes={
                "gen_ai.agent.name": "inspect",
                "inspect.sample_id": s.get("id"),
                "inspect.epoch": s.get("epoch"),
                "inspect.input": self._resolve(s.get("input")),
                "inspect.target": s.get("target"),
                "inspect.scores": s.get("scores"),
                "inspect.model_usage": s.get("model_usage"),
            },
            source={
                k: v
                for k, v in s.items()
                if k not in ("events", "attachments", "messages", "message_pool", "events_data")
            },
        )

    def _span(self, event: dict[str, Any]) -> dict[str, Any]:
        step = self._id(event.get("id"))
        parent = self._parent(event, "parent_id")
        self.spans.add(step)
        end = self.span_ends.get(event.get("id"), {})
        kind = "agent" if event.get("type") in _AGENT_SPANS else "other"
        name = str(event.get("name") or event.get("type") or "span")
        return span(
            step,
            kind,
            name,
            parent_id=parent,
            start=event.get("timestamp"),
            end=end.get("timestamp"),
            attributes={"inspect.span_type": event.get("type")},
            source=event,
        )

    def _model(self, event: dict[str, Any]) -> dict[str, Any]:
        output = as_dict(event.get("output"))
        choices = [c for c in output.get("choices") or () if isinstance(c, dict)]
        messages = _with_tool_errors(self._resolve(self._input(event)))
        system, inputs = split_system(normalize_messages(messages))
        model = str(event.get("model") or self.model or "model")
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": model.split("/", 1)[0] if "/" in model else None,
            "gen_ai.request.model": model,
            "gen_ai.response.model": output.get("model"),
            "gen_ai.system_instructions": system,
            "gen_ai.input.messages": inputs,
            "gen_ai.output.messages": normalize_messages(
                self._resolve([c.get("message") for c in choices])
            ),
            "gen_ai.response.finish_reasons": [
                str(c["stop_reason"]) for c in choices if c.get("stop_reason")
            ],
            "gen_ai.tool.definitions": normalize_tools(event.get("tools") or []),
            "inspect.tool_choice": event.get("tool_choice"),
            **_params(event.get("config")),
            **_usage(output.get("usage")),
        }
        call = as_dict(event.get("call"))
        response = as_dict(call.get("response"))
        if response.get("id"):
            attrs["gen_ai.response.id"] = str(response["id"])
        error = event.get("error") or output.get("error")
        return span(
            self._id(),
            "llm",
            f"chat {model.split('/')[-1]}",
            parent_id=self._parent(event),
            start=event.get("timestamp"),
            end=event.get("completed"),
            error=_error_text(error) if error else None,
            attributes=attrs,
            source=event,
        )

    def _input(self, event: dict[str, Any]) -> list[Any]:
        refs = event.get("input_refs")
        if isinstance(refs, list) and refs and self.pool:
            messages: list[Any] = []
            for ref in refs:
                if isinstance(ref, list) and len(ref) == 2:
                    messages += self.pool[opt_int(ref[0]) or 0 : opt_int(ref[1]) or 0]
            return messages
        return as_list(event.get("input"))

    def _tool(self, event: dict[str, Any], tool_span: dict[str, Any] | None) -> dict[str, Any]:
        step = self._id(tool_span.get("id")) if tool_span else self._id()
        if tool_span:
            self.spans.add(step)
        error = event.get("error")
        name = str(event.get("function") or "tool")
        attrs = {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.call.id": event.get("id"),
            "gen_ai.tool.call.arguments": event.get("arguments"),
            "gen_ai.tool.call.result": self._resolve(event.get("result")),
            "inspect.truncated": event.get("truncated"),
        }
        return span(
            step,
            "tool",
            name,
            parent_id=self._parent(event),
            start=event.get("timestamp"),
            end=event.get("completed"),
            error=_error_text(error) if error else None,
            attributes=attrs,
            source=event,
        )

    def _other(self, event: dict[str, Any]) -> dict[str, Any]:
        kind = str(event.get("event") or "event")
        detail = (
            event.get("cmd") or event.get("action") or event.get("message") or event.get("name")
        )
        name = f"{kind}: {short(as_text(detail), 50)}" if detail else kind
        attrs: dict[str, Any] = {"inspect.event": kind}
        if kind == "score":
            attrs["inspect.score"] = event.get("score")
        if kind not in _KNOWN_EVENTS:
            attrs[A_IMPORT_NOTE] = f"an Inspect event type this importer does not know: {kind}"
        error = event.get("error") if kind == "error" else None
        return span(
            self._id(),
            "other",
            name,
            parent_id=self._parent(event),
            start=event.get("timestamp"),
            end=event.get("completed") or event.get("timestamp"),
            error=_error_text(error) if error else None,
            attributes=attrs,
            source=event,
        )

    def _resolve(self, value: Any) -> Any:
        """Replace ``attachment://<hash>`` strings by the attachment's text, anywhere inside."""
        if isinstance(value, str):
            if value.startswith(_ATTACHMENT):
                return self.attachments.get(value[len(_ATTACHMENT) :], value)
            return value
        if isinstance(value, list):
            return [self._resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self._resolve(v) for k, v in value.items()}
        return value


_KNOWN_EVENTS = (
    "sample_init",
    "sample_limit",
    "state",
    "store",
    "sandbox",
    "input",
    "interrupt",
    "approval",
    "step",
    "subtask",
    "branch",
    "checkpoint",
    "anchor",
    "compaction",
    "score",
    "score_edit",
    "error",
    "logger",
    "info",
)


def _pair_tool_spans(events: list[dict[str, Any]]) -> dict[int, int]:
    """Tool event index → index of the ``span_begin type=tool`` Inspect opened around it."""
    pairs: dict[int, int] = {}
    for index, event in enumerate(events):
        if event.get("event") != "span_begin" or event.get("type") != "tool":
            continue
        for other in (index + 1, index - 1):
            if 0 <= other < len(events) and other not in pairs:
                cand = events[other]
                if cand.get("event") == "tool" and cand.get("function") == event.get("name"):
                    pairs[other] = index
                    break
    return pairs


def _params(config: Any) -> dict[str, Any]:
    if not isinstance(config, dict):
        return {}
    config = dict(config)
    if "stop_seqs" in config:
        config["stop_sequences"] = config.pop("stop_seqs")
    return model_parameters(config)


def _usage(usage: Any) -> dict[str, Any]:
    if not isinstance(usage, dict):
        return {}
    inp, out = opt_int(usage.get("input_tokens")), opt_int(usage.get("output_tokens"))
    read, write = (
        opt_int(usage.get("input_tokens_cache_read")),
        opt_int(usage.get("input_tokens_cache_write")),
    )
    total = opt_int(usage.get("total_tokens"))
    separate = (
        total is not None
        and inp is not None
        and (read or write)
        and total == inp + (out or 0) + (read or 0) + (write or 0)
    )
    return usage_attributes(inp, out, read, write, input_includes_cache=not separate)


def _error_text(error: Any) -> str:
    """An Inspect error as one line: ``type: message``, without Inspect's ``unknown`` type
    (a ``ToolCallError`` whose kind Inspect could not tell says nothing more)."""
    if isinstance(error, dict):
        kind = error.get("type")
        shown = [kind] if kind and kind != "unknown" else []
        return (
            ": ".join(str(x) for x in (*shown, error.get("message")) if x)
            or as_text(error)
            or "error"
        )
    return str(error)


def _with_tool_errors(messages: list[Any]) -> list[Any]:
    """Tool messages whose call failed carry the error as their content, as the model read it.

    Inspect keeps a failed call's message with empty ``content`` and a separate ``error``;
    its providers send the model ``Error: <message>`` in its place.
    """
    out = []
    for m in messages:
        error = m.get("error") if isinstance(m, dict) and m.get("role") == "tool" else None
        if isinstance(error, dict) and not m.get("content"):
            m = {**m, "content": f"Error: {error.get('message') or _error_text(error)}"}
        out.append(m)
    return out


def _first_time(events: list[dict[str, Any]]) -> Any:
    return next((e.get("timestamp") for e in events if e.get("timestamp")), None)


def _last_time(events: list[dict[str, Any]]) -> Any:
    return next(
        (e.get("completed") or e.get("timestamp") for e in reversed(events) if e.get("timestamp")),
        None,
    )


def detect_inspect_json(head: Head) -> bool:
    """A JSON document with top-level ``version`` + ``eval`` (+ ``status``)."""
    shape = doc_shape(head.data)
    return shape.container == "object" and shape.has("version") and shape.has("eval")


def detect_inspect_eval(head: Head) -> bool:
    """A zip whose first members are Inspect's (``_journal/start.json``, ``header.json``…)."""
    return head.data.startswith(b"PK\x03\x04") and any(
        name in head.data for name in (b"_journal/start.json", b"header.json", b"samples/")
    )


INSPECT_EVAL = TraceFormat(
    name="inspect-eval",
    title="Inspect AI log, .eval zip",
    detect=detect_inspect_eval,
    read_document=read_inspect_eval,
)

INSPECT_JSON = TraceFormat(
    name="inspect-json",
    title="Inspect AI log, .json",
    detect=detect_inspect_json,
    read_document=read_inspect_json,
)
