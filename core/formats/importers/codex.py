"""OpenAI Codex CLI rollouts (``~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl``), streamed.

Every line is ``{"timestamp", "type", "payload"}``. A turn (``task_started`` /
``turn_context`` … ``task_complete``) is an ``agent`` step named after its prompt. Model output
items (reasoning, assistant messages, function and custom tool calls) that follow each other
form one ``llm`` step, whose input is the conversation so far (the rollout records all of it;
the system prompt is ``session_meta.base_instructions``). ``function_call`` and
``custom_tool_call`` start ``tool`` steps at once; the output with the same ``call_id`` ends
them (a non-zero exit code makes the step an error).

Usage: ``token_usage_record`` gives one response's usage; otherwise the cumulative
``token_count`` totals are turned into per-call deltas (repeated identical counts are
ignored). Codex's ``input_tokens`` already include cached tokens. Known duplicate events
(``user_message``, ``agent_message``, ``item_completed`` …) add nothing; unknown line and event
types become ``other`` steps.

Facts mode (``CodexMapper(facts=True)``, see ``docs/stateful-formats.md`` and
:mod:`trace_tui.core.index.replay_steps`): the same state machine runs, but records carry only
what the index keeps (ids, parent, kind, name, times, status, error, usage) and the
conversation is kept as the offsets of the lines it is made of (:class:`LineRefs`), not as
messages. :meth:`CodexMapper.checkpoint` copies the state between lines (while no model call
is open); :func:`restore` turns a checkpoint into a full mapper (its conversation read back
from those lines), which replays the lines after it to build the steps a view shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from trace_tui.core.formats.base import (
    CARRY_ALWAYS,
    CARRY_EPOCH,
    CARRY_NONE,
    Head,
    ReadLine,
    Replayable,
    TraceFormat,
)
from trace_tui.core.formats.shared.common import (
    A_IMPORT_NOTE,
    as_dict,
    opt_int,
    run_record,
    short,
    span,
    span_end,
    span_start,
    usage_attributes,
)
from trace_tui.core.formats.shared.line_refs import LineRefs
from trace_tui.core.formats.shared.messages import MessageLog, normalize_messages, text_of

_TYPES = ("session_meta", "response_item", "compacted", "turn_context", "event_msg")
_OUTPUT_ITEMS = (
    "reasoning",
    "function_call",
    "custom_tool_call",
    "local_shell_call",
    "web_search_call",
    "tool_search_call",
    "image_generation_call",
)
_CALLS = ("function_call", "custom_tool_call", "local_shell_call")
_RESULTS = (
    "function_call_output",
    "custom_tool_call_output",
    "local_shell_call_output",
    "tool_search_output",
)
_DUPLICATES = (
    "user_message",
    "agent_message",
    "agent_reasoning",
    "agent_reasoning_raw_content",
    "item_completed",
    "thread_settings_applied",
    "exec_command_begin",
    "token_count",
)
_EXIT = re.compile(r"(?:Process exited with code|exit code:?)\s*(-?\d+)", re.IGNORECASE)


class CodexMapper:
    """Maps rollout lines to native records as they are read (see module docstring)."""

    #: Model calls share their input message dicts (:class:`MessageLog` never changes one in
    #: place), so the index may chain a call's messages to the previous call's
    #: (:class:`~trace_tui.core.index.store.SpillFile`).
    CHAINS_MESSAGES = True

    def __init__(self, *, facts: bool = False) -> None:
        #: Facts mode: records carry only what the index keeps; the conversation is kept as
        #: line offsets (see the module doc).
        self._facts = facts
        #: Bumped when the conversation starts over (a ``compacted`` line), for the index.
        self.epoch = 0
        self._n = 0
        self._system: str | None = None
        self._provider: str | None = None
        self._model: str | None = None
        self._effort: Any = None
        self._window: int | None = None
        self._history: MessageLog | LineRefs = LineRefs() if facts else MessageLog()
        self._turn: str | None = None
        self._turn_open = False
        self._turn_end: Any = None
        self._llm: dict[str, Any] | None = None
        self._last_llm: dict[str, Any] | None = None
        self._tools: dict[str, str] = {}
        self._exit_codes: dict[str, int] = {}
        self._total: dict[str, Any] | None = None
        self._truncated = False

    def feed(self, record: dict[str, Any], *, offset: int, line: int) -> Iterable[dict[str, Any]]:
        """Native records for one rollout line."""
        kind, payload, ts = record.get("type"), record.get("payload"), record.get("timestamp")
        payload = payload if isinstance(payload, dict) else {}
        if self._facts:
            self._history.at = offset  # type: ignore[union-attr]
        if kind == "session_meta":
            return [self._session(payload, ts)]
        if kind == "turn_context":
            self._model = payload.get("model") or self._model
            self._effort = payload.get("effort", self._effort)
            self._turn_open = True
            return []
        if kind == "response_item":
            return self._item(payload, record, ts)
        if kind == "event_msg":
            return self._event(payload, record, ts, line)
        if kind == "token_usage_record":
            return self._usage(payload.get("usage"), exact=True)
        if kind == "compacted":
            self._history.replace(payload.get("replacement_history") or [])
            self.epoch += 1
            self._truncated = True
            return [*self._close_llm(ts), self._other("compacted", record, ts, line)]
        return [self._other(str(kind), record, ts, line)]

    def finish(self) -> Iterable[dict[str, Any]]:
        """Close the model call and the turn still open at the end of the file."""
        return [*self._close_llm(None), *self._end_turn()]

    # ----------------------------------------------------------------- facts mode
    def checkpoint(self) -> tuple[Any, ...] | None:
        """The state between two lines, for :func:`restore` (facts mode; ``None`` while a
        model call is open: its items would have to be kept)."""
        history = self._history
        if self._llm is not None or not isinstance(history, LineRefs):
            return None
        last = self._last_llm
        return (
            self._n, self._system, self._provider, self._model, self._effort, self._window,
            self._turn, self._turn_open, self._turn_end,
            None if last is None else {"id": last["id"], "usage": last["usage"]},
            dict(self._tools), dict(self._exit_codes), self._total, self._truncated,
            self.epoch, *history.mark(),
        )  # fmt: skip

    def open_steps(self) -> list[str]:
        """Span ids of steps a later line may still add to (facts mode, for search)."""
        out = [*self._tools.values()]
        if self._turn is not None:
            out.append(self._turn)
        if self._llm is not None:
            out.append(self._llm["id"])
        if self._last_llm is not None and self._last_llm["usage"] is None:
            out.append(self._last_llm["id"])
        return out

    # ----------------------------------------------------------------- session and turns
    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"codex-{prefix}-{self._n}"

    def _session(self, payload: dict[str, Any], ts: Any) -> dict[str, Any]:
        base = payload.get("base_instructions")
        self._system = (
            base.get("text")
            if isinstance(base, dict)
            else (base if isinstance(base, str) else None)
        )
        self._provider = payload.get("model_provider")
        env = {
            k: payload[k]
            for k in (
                "cwd",
                "cli_version",
                "originator",
                "source",
                "model_provider",
                "git",
                "forked_from_id",
            )
            if payload.get(k) is not None
        }
        session = payload.get("id") or payload.get("session_id")
        return run_record(
            run_id=session,
            session_id=session,
            name=f"Codex session {str(session or '')[:8]}".strip(),
            started_at=payload.get("timestamp") or ts,
            environment=env or None,
        )

    def _ensure_turn(
        self, ts: Any, name: str | None = None, record: Any = None
    ) -> list[dict[str, Any]]:
        if self._turn is not None:
            return []
        self._turn = self._id("turn")
        self._turn_open = False
        self._turn_end = ts
        facts = self._facts
        attrs = None if facts else {"gen_ai.agent.name": "codex", "codex.prompt": name}
        return [
            span_start(
                self._turn,
                "agent",
                short(name) if name else "turn",
                start=ts,
                attributes=attrs,
                source=None if facts else record,
            )
        ]

    def _end_turn(self, ts: Any = None, error: Any = None) -> list[dict[str, Any]]:
        if self._turn is None:
            return []
        turn, self._turn = self._turn, None
        return [span_end(turn, end=ts or self._turn_end, error=error)]

    # ----------------------------------------------------------------- response items
    def _item(self, item: dict[str, Any], record: dict[str, Any], ts: Any) -> list[dict[str, Any]]:
        kind, out = item.get("type"), []
        self._turn_end = ts
        if kind == "message" and item.get("role") == "assistant" or kind in _OUTPUT_ITEMS:
            out += self._ensure_turn(ts, record=record)
            out += self._model_output(item, record, ts)
        elif kind in _RESULTS:
            out += self._close_llm(ts)
            self._history.add(item)
            out += self._tool_end(item, record, ts)
        else:
            out += self._close_llm(ts)
            if kind == "message" and item.get("role") == "user" and _is_prompt(item):
                if self._turn_open:
                    out += self._end_turn()
                out += self._ensure_turn(ts, text_of(item.get("content")), record)
            if kind == "compaction":
                self._truncated = True
            self._history.add(item)
        return out

    def _model_output(
        self, item: dict[str, Any], record: dict[str, Any], ts: Any
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        facts = self._facts
        seen = 0 if facts else len(self._history.messages)  # type: ignore[union-attr]
        start: dict[str, Any] | None = None
        if self._llm is None:
            self._llm = {
                "id": self._id("llm"),
                "items": [],
                "end": ts,
                "usage": None,
                "sources": [],
            }
            attrs: dict[str, Any] | None = None
            if not facts:
                attrs = {
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": self._provider,
                    "gen_ai.request.model": self._model,
                    "codex.reasoning_effort": self._effort,
                    "gen_ai.system_instructions": self._system,
                    "gen_ai.input.messages": [],  # set below; the key keeps its place
                }
                if self._truncated:
                    attrs["trace_tui.context.truncated"] = True
            self._truncated = False
            start = span_start(
                self._llm["id"],
                "llm",
                f"chat {self._model or 'model'}",
                parent_id=self._turn,
                start=ts,
                attributes=attrs,
                source=None if facts else record,
            )
            out.append(start)
        elif not facts:
            self._llm["sources"].append(record)
        if not facts:
            self._llm["items"].append(item)
        self._llm["end"] = ts
        self._history.add(item)
        if start is not None and not facts:  # the input as it reads once this item is in
            # (it may have continued the last message: a turn that starts without a prompt)
            messages = self._history.messages  # type: ignore[union-attr]
            start["attributes"]["gen_ai.input.messages"] = messages[:seen]
        if item.get("type") in _CALLS:
            out.append(self._tool_start(item, record, ts))
        return out

    def _close_llm(self, ts: Any) -> list[dict[str, Any]]:
        llm, self._llm = self._llm, None
        if llm is None:
            return []
        self._last_llm = llm
        if self._facts:
            return [span_end(llm["id"], end=llm["end"] or ts, attributes=llm["usage"])]
        attrs: dict[str, Any] = {"gen_ai.output.messages": normalize_messages(llm["items"])}
        calls = [i for i in llm["items"] if i.get("type") in _CALLS]
        attrs["gen_ai.response.finish_reasons"] = ["tool_calls" if calls else "stop"]
        if llm["usage"]:
            attrs.update(llm["usage"])
        if self._window:
            attrs["trace_tui.context_window"] = self._window
        return [
            span_end(
                llm["id"], end=llm["end"] or ts, attributes=attrs, source=llm["sources"] or None
            )
        ]

    # ----------------------------------------------------------------- tools
    def _tool_start(self, item: dict[str, Any], record: dict[str, Any], ts: Any) -> dict[str, Any]:
        call_id = str(item.get("call_id") or item.get("id") or self._id("call"))
        span_id = self._id("tool")
        self._tools[call_id] = span_id
        name = str(item.get("name") or item.get("type"))
        if self._facts:
            return span_start(span_id, "tool", name, parent_id=self._turn, start=ts)
        if item.get("type") == "custom_tool_call":
            args: Any = item.get("input")
        elif item.get("type") == "local_shell_call":
            args = item.get("action")
        else:
            args = normalize_messages([item])[0]["tool_calls"][0]["arguments"]
        return span_start(
            span_id,
            "tool",
            name,
            parent_id=self._turn,
            start=ts,
            source=record,
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": name,
                "gen_ai.tool.call.id": call_id,
                "gen_ai.tool.call.arguments": args,
            },
        )

    def _tool_end(
        self, item: dict[str, Any], record: dict[str, Any], ts: Any
    ) -> list[dict[str, Any]]:
        call_id = str(item.get("call_id") or "")
        output = item.get("output")
        code = self._exit_codes.pop(call_id, None)
        code = code if code is not None else _exit_code(output)
        error = _failure(code, output) if code not in (None, 0) else None
        span_id = self._tools.pop(call_id, None)
        if self._facts:
            if span_id is None:
                return [span(self._id("tool"), "tool", "tool output", parent_id=self._turn,
                             start=ts, end=ts, error=error)]  # fmt: skip
            return [span_end(span_id, end=ts, error=error)]
        attrs: dict[str, Any] = {"gen_ai.tool.call.result": output, "codex.exit_code": code}
        if span_id is None:
            attrs.update(
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.call.id": call_id or None,
                    A_IMPORT_NOTE: "the tool call this output answers is not in this file",
                }
            )
            return [
                span(
                    self._id("tool"),
                    "tool",
                    "tool output",
                    parent_id=self._turn,
                    start=ts,
                    end=ts,
                    error=error,
                    attributes=attrs,
                    source=record,
                )
            ]
        return [span_end(span_id, end=ts, error=error, attributes=attrs, source=record)]

    # ----------------------------------------------------------------- events and usage
    def _event(
        self, payload: dict[str, Any], record: dict[str, Any], ts: Any, line: int
    ) -> list[dict[str, Any]]:
        kind = payload.get("type")
        if kind in ("task_started", "turn_started"):
            self._window = opt_int(payload.get("model_context_window")) or self._window
            self._turn_open = True
            return self._end_turn()
        if kind in ("task_complete", "turn_complete", "turn_aborted"):
            error = "turn aborted" if kind == "turn_aborted" else None
            return [*self._close_llm(ts), *self._end_turn(ts, error)]
        if kind == "token_count":
            info = as_dict(payload.get("info"))
            self._window = opt_int(info.get("model_context_window")) or self._window
            return self._usage(info.get("total_token_usage"), exact=False)
        if kind == "item_completed":
            self._note_exit(payload.get("item"))
        if kind in _DUPLICATES:
            return []
        if kind == "context_compacted":
            self._truncated = True
        return [
            self._other(
                f"event {kind}",
                record,
                ts,
                line,
                error=payload.get("message") if kind == "error" else None,
            )
        ]

    def _note_exit(self, item: Any) -> None:
        if isinstance(item, dict) and item.get("type") == "CommandExecution":
            code = (
                opt_int(item.get("exit_code"))
                if not isinstance(item.get("exit_code"), int)
                else item["exit_code"]
            )
            if code is not None and isinstance(item.get("id"), str):
                self._exit_codes[item["id"]] = code

    def _usage(self, usage: Any, *, exact: bool) -> list[dict[str, Any]]:
        """Usage of the current (or last) model call, from a per-response or cumulative count."""
        if not isinstance(usage, dict):
            return []
        if not exact:
            previous, self._total = self._total, usage
            if previous == usage:
                return []
            usage = {
                k: (opt_int(v) or 0) - (opt_int((previous or {}).get(k)) or 0)
                for k, v in usage.items()
            }
        target = self._llm or self._last_llm
        if target is None or target["usage"] is not None:
            return []
        target["usage"] = usage_attributes(
            usage.get("input_tokens"),
            usage.get("output_tokens"),
            usage.get("cached_input_tokens"),
            usage.get("cache_write_input_tokens"),
            input_includes_cache=True,
        )
        if target is self._llm:
            return []
        return [span_end(target["id"], status="ok", attributes=target["usage"])]

    def _other(
        self, label: str, record: dict[str, Any], ts: Any, line: int, error: Any = None
    ) -> dict[str, Any]:
        if self._facts:
            return span(self._id("other"), "other", label, parent_id=self._turn, start=ts,
                        end=ts, error=error)  # fmt: skip
        attrs = {"codex.line_type": record.get("type")}
        if record.get("type") not in _TYPES:
            attrs[A_IMPORT_NOTE] = f"line {line}: a record type this importer does not know"
        return span(
            self._id("other"),
            "other",
            label,
            parent_id=self._turn,
            start=ts,
            end=ts,
            error=error,
            attributes=attrs,
            source=record,
        )


def restore(state: tuple[Any, ...] | None, read: ReadLine) -> CodexMapper:
    """A full mapper in the state a facts-mode mapper's :meth:`~CodexMapper.checkpoint` copied
    (``None``: the start of the file); its conversation is read back from the trace's lines
    (``read(offset)``: the parsed line there)."""
    mapper = CodexMapper()
    if state is None:
        return mapper
    (mapper._n, mapper._system, mapper._provider, mapper._model, mapper._effort,
     mapper._window, mapper._turn, mapper._turn_open, mapper._turn_end, last, tools, codes,
     mapper._total, mapper._truncated, mapper.epoch, base, refs, count) = state  # fmt: skip
    mapper._last_llm = None if last is None else dict(last)
    mapper._tools, mapper._exit_codes = dict(tools), dict(codes)
    history = mapper._history
    assert isinstance(history, MessageLog)
    if base >= 0:
        history.replace(_payload(read(base)).get("replacement_history") or [])
    for offset in refs[:count]:
        history.add(_payload(read(offset)))
    return mapper


def _payload(value: Any) -> dict[str, Any]:
    payload = value.get("payload") if isinstance(value, dict) else None
    return payload if isinstance(payload, dict) else {}


def carried(value: Any) -> int:
    """How far a line's text reaches beyond the steps whose lines it lies among (search):
    the session and turn settings go into every later model call, conversation items into
    the later calls until the next compaction."""
    kind = value.get("type") if isinstance(value, dict) else None
    if kind in ("session_meta", "turn_context"):
        return CARRY_ALWAYS
    if kind in ("response_item", "compacted"):
        return CARRY_EPOCH
    return CARRY_NONE


def _invented() -> frozenset[str]:
    from trace_tui.core.formats.shared.vocabulary import invented_words

    return invented_words(*_MAPPING_MODULES)


_MAPPING_MODULES = (
    "trace_tui.core.formats.importers.codex",
    "trace_tui.core.formats.shared.messages",
    "trace_tui.core.formats.shared.common",
    "trace_tui.core.model.step",
    "trace_tui.core.model.run",
)


def _is_prompt(item: dict[str, Any]) -> bool:
    """A user message typed by a person, not context Codex injects (``<environment_context>``)."""
    text = (text_of(item.get("content")) or "").strip()
    return bool(text) and not (text.startswith("<") and text.endswith(">"))


def _exit_code(output: Any) -> int | None:
    if isinstance(output, str):
        match = _EXIT.search(output[:2000])
        return int(match.group(1)) if match else None
    return None


def _failure(code: int | None, output: Any) -> str:
    """``exit code N: <the last line the command printed>``: the reason, not only the code.

    Codex wraps a command's output (``Chunk ID``, ``Wall time``, ``Process exited with code``,
    ``Output:``); the message a person needs is the last line after ``Output:``.
    """
    head = f"exit code {code}"
    if not isinstance(output, str):
        return head
    text = output.split("\nOutput:\n", 1)[1] if "\nOutput:\n" in output else output
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not _EXIT.search(line)]
    if not lines:
        return head
    reason = lines[-1]
    return f"{head}: {reason[:197] + '...' if len(reason) > 200 else reason}"


def detect_codex(head: Head) -> bool:
    """A rollout line: ``{"timestamp", "type", "payload"}`` with a Codex line type."""
    rec = head.first_record
    if not isinstance(rec, dict) or not isinstance(rec.get("payload"), dict):
        return False
    if rec.get("type") == "session_meta":
        return True
    return rec.get("type") in _TYPES and "timestamp" in rec


CODEX = TraceFormat(
    name="codex",
    title="OpenAI Codex CLI rollout (~/.codex/sessions/**/rollout-*.jsonl)",
    detect=detect_codex,
    mapper=CodexMapper,
    replay=Replayable(
        facts=lambda: CodexMapper(facts=True),
        restore=restore,
        carried=carried,
        context_kinds=frozenset({"llm"}),
        invented=_invented,
    ),
)
