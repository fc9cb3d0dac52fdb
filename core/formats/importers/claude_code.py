"""Claude Code session transcripts (``~/.claude/projects/<dir>/<session>.jsonl``), streamed.

Each human prompt on the main chain starts an ``agent`` step (a turn). An assistant message
becomes one ``llm`` step, however many lines it is split over (the lines share
``message.id``; usage is counted once per message). Each ``tool_use`` block starts a ``tool``
step at once; the ``tool_result`` in a later user line ends it (``is_error`` makes it an error).
Sub-agent lines (``isSidechain``) hang under an ``agent`` step whose parent is the ``Task`` /
``Agent`` tool call that launched them (matched by ``agentId``, else the latest unmatched
call). A ``compact_boundary`` is an ``other`` step and marks the next call's context as
truncated; a prompt whose parent already had a reply is a rewind and says so. Every other line
type, known bookkeeping or new, becomes an ``other`` step, so nothing is dropped.

What each call was sent comes from the ``api-request`` records of Claude Code 2.1 (see
:mod:`.claude_code_requests`), or is rebuilt from the ``parentUuid`` chain (see
:mod:`.claude_code_context`). Given a reader (:meth:`ClaudeCodeMapper.use_reader`, as the
indexer does), the mapper keeps old lines by reference and reads them again when a later line
needs them (:mod:`.claude_code_refs`), so its memory stays small on long sessions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from trace_tui.core.formats.base import ReadLine, Replayable, TraceFormat
from trace_tui.core.formats.importers.claude_code_calls import CallStore, Llm
from trace_tui.core.formats.importers.claude_code_context import ChainStore
from trace_tui.core.formats.importers.claude_code_lines import detect_claude_code, other_line
from trace_tui.core.formats.importers.claude_code_refs import (
    LineReader,
    SourceLines,
    content_blocks,
    message_id_of,
)
from trace_tui.core.formats.importers.claude_code_replay import (
    carried,
    checkpoint,
    invented,
    restore_into,
)
from trace_tui.core.formats.importers.claude_code_requests import RequestStore
from trace_tui.core.formats.shared.common import (
    A_IMPORT_NOTE,
    as_dict,
    run_record,
    short,
    span,
    span_end,
    span_start,
    usage_attributes,
)
from trace_tui.core.formats.shared.messages import content_of, normalize_messages, text_of

_AGENT_TOOLS = ("Task", "Agent")
_REBUILT = (
    "input messages rebuilt from the transcript's parentUuid chain; reminders that "
    "Claude Code injects into requests are not in the transcript"
)




#: Stop reasons that end the model's turn: it answered without asking for a tool.
_FINAL_STOPS = ("end_turn", "stop_sequence", "max_tokens", "refusal")


class ClaudeCodeMapper:
    """Maps transcript lines to native records as they are read (see module docstring)."""

    #: Model calls share their input message dicts and never change one once it is in a
    #: call's input, so the index may spill a call's messages as "the previous call's first
    #: N, then these" (:class:`~trace_tui.core.index.store.SpillFile`).
    CHAINS_MESSAGES = True

    def __init__(self, *, facts: bool = False) -> None:
        #: Facts mode: records carry only what the index keeps (ids, names, times, errors,
        #: usage); checkpoints for the replay (:mod:`.claude_code_replay`).
        self._facts = facts
        #: Bumped at each compaction boundary, for the index.
        self.epoch = 0
        #: Facts mode: every call (message id -> span id, parent, the refs of its lines) and
        #: what the sub-agent maps were given, in order (0: ``_line_agent``, 1:
        #: ``_agent_ids``, 2: ``_agent_tool_spans``; key, value): a checkpoint is a count.
        self._calls: dict[str, tuple[str, str | None, list[int]]] = {}
        self._agent_log: list[tuple[int, str, str]] = []
        self._whole: set[str] = set()  # facts mode: reopened calls, made as in full mode
        self._fed = False
        self._n = 0
        self._run_emitted = False
        self._lines = SourceLines()
        self._chain = ChainStore(self._lines)
        self._requests = RequestStore(self._lines, facts=facts)
        self._turn: str | None = None
        self._turn_end: Any = None
        self._turn_done = False
        self._llms = CallStore(self._lines)  # every message id seen (a late block reopens it)
        self._open: dict[str, Llm] = {}  # messages whose end is not emitted yet
        self._tools: dict[str, str] = {}  # tool_use id -> span id, until the result arrives
        self._agent_calls: list[str] = []  # Task/Agent tool_use ids not yet matched to a sidechain
        self._agent_steps: dict[str, str] = {}  # Task tool_use id -> sub-agent step id
        self._agent_ids: dict[str, str] = {}  # agentId -> Task tool_use id
        self._line_agent: dict[str, str] = {}  # sidechain line uuid -> sub-agent step id
        self._agent_tool_spans: dict[str, str] = {}  # Task tool_use id -> its tool step id
        self._truncated: set[str | None] = set()
        self._parent: str | None = None
        self._last_main: str | None = None
        self._puuid: str | None = None
        self._ref = 0  # the ref of the line being fed

    def use_reader(self, read: LineReader | None) -> None:
        """Keep old lines by reference and read them again through ``read(offset)`` (the
        line at ``offset``, parsed as it was fed); call before feeding any line."""
        self._lines.use_reader(read)

    def feed(self, record: dict[str, Any], *, offset: int, line: int) -> Iterable[dict[str, Any]]:
        """Native records for one transcript line."""
        out: list[dict[str, Any]] = []
        if not self._run_emitted and record.get("sessionId"):
            out.append(self._run(record))
        kind = record.get("type")
        self._ref = self._lines.ref(offset)
        self._fed = True
        message_id = message_id_of(record, self._ref) if kind == "assistant" else None
        out += self._close_llms(keep=message_id)
        self._parent = self._parent_for(record, out)
        self._puuid = self._parent_uuid(record)
        if message_id is not None and isinstance(record.get("message"), dict):
            out += self._assistant(record, message_id)
        elif kind == "user" and isinstance(record.get("message"), dict):
            out += self._user(record, line)
        elif kind == "system" and record.get("subtype") == "compact_boundary":
            out += self._compact(record)
        elif kind == "api-request-shape":
            self._requests.add_shape(record, self._ref)
        elif kind == "api-request-blob":
            self._requests.add_blob(record, self._ref)
        elif kind == "api-request":
            self._requests.add_request(record, self._ref)
        else:
            out.append(self._other(record, line))
        return out

    def finish(self) -> Iterable[dict[str, Any]]:
        """Close messages, sub-agents and the turn still open when the file ends."""
        out = self._close_llms(keep=None)
        for agent_step in self._agent_steps.values():
            out.append(span_end(agent_step))
        self._agent_steps.clear()
        out += self._end_turn()
        return out

    # ----------------------------------------------------------------- facts mode
    def checkpoint(self) -> Any:
        """The state between two lines, for :func:`~.claude_code_replay.restore` (facts mode;
        ``None`` while a model call is open)."""
        return checkpoint(self)

    def open_steps(self) -> list[str]:
        """Span ids of steps a later line may still add to (facts mode, for search)."""
        out = [*self._tools.values(), *self._agent_steps.values()]
        out += [llm.span_id for llm in self._open.values()]
        if self._turn is not None:
            out.append(self._turn)
        return out

    # ----------------------------------------------------------------- ids and run
    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"cc-{prefix}-{self._n}"

    def _run(self, rec: dict[str, Any]) -> dict[str, Any]:
        self._run_emitted = True
        session = str(rec["sessionId"])
        env = {k: rec[k] for k in ("cwd", "version", "gitBranch", "entrypoint") if rec.get(k)}
        return run_record(
            run_id=session,
            session_id=session,
            name=f"Claude Code session {session[:8]}",
            started_at=rec.get("timestamp"),
            environment=env or None,
        )

    def _parent_for(self, rec: dict[str, Any], out: list[dict[str, Any]]) -> str | None:
        """The step this line's steps hang under: its sub-agent, else the current turn.

        A sidechain line that starts a new sub-agent adds that agent's ``span_start`` to ``out``.
        """
        if rec.get("isSidechain") is True:
            return self._sidechain_step(rec, out)
        return self._turn

    # ----------------------------------------------------------------- assistant lines
    def _assistant(self, rec: dict[str, Any], message_id: str) -> list[dict[str, Any]]:
        msg = rec["message"]
        blocks = (
            msg.get("content") if isinstance(msg.get("content"), list) else [msg.get("content")]
        )
        self._remember(rec, "assistant")
        self._lines.keep(self._ref, rec)
        parent = self._parent
        out: list[dict[str, Any]] = []
        facts = self._facts
        llm = self._llms.get(message_id)
        if llm is None:
            llm = self._llms.add(message_id, self._id("llm"), parent)
            attrs = self._request_attrs(rec, msg)
            out.append(
                span_start(
                    llm.span_id,
                    "llm",
                    f"chat {msg.get('model') or 'claude'}",
                    parent_id=parent,
                    start=rec.get("timestamp"),
                    attributes=None if facts else attrs,
                    source=None if facts else rec,
                )
            )
            if facts:
                self._calls[message_id] = (llm.span_id, parent, [self._ref])
        else:
            if facts:
                self._calls[message_id][2].append(self._ref)
                if not llm.open and llm.span_id not in self._whole:
                    self._make_whole(llm)
            if not facts or llm.span_id in self._whole:
                llm.sources.append(rec)
        llm.open = True
        self._open[message_id] = llm
        llm.add(rec, [] if facts and llm.span_id not in self._whole else blocks)
        llm.refs.append(self._ref)
        if isinstance(rec.get("requestRef"), str):
            self._requests.add_response(rec["requestRef"], message_id, self._ref)
        for block in blocks:
            if isinstance(block, dict) and block.get("type") == "tool_use":
                out.append(self._tool_start(block, rec, parent))
        return out

    def _make_whole(self, llm: Llm) -> None:
        """Facts mode: a late line reopens a call that ended; its end is emitted again over
        the first, which the index notes as a problem quoting the record, so from now on the
        call keeps its blocks and its records are made as the full mapper makes them."""
        self._whole.add(llm.span_id)
        llm.blocks = []
        for ref in llm.refs:
            line = self._lines.get(ref)
            llm.add(line or {}, content_blocks(line))

    def _request_attrs(self, rec: dict[str, Any], msg: dict[str, Any]) -> dict[str, Any]:
        attrs: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": rec.get("requestedModel") or msg.get("model"),
            "gen_ai.response.model": msg.get("model"),
            "gen_ai.response.id": msg.get("id"),
            "claude_code.request_id": rec.get("requestId"),
        }
        recorded = None if self._facts else self._requests.attributes(rec.get("requestRef"))
        if recorded is not None:
            attrs.update(recorded)
        elif not self._facts:
            conversation = self._chain.conversation(self._puuid)
            if conversation is not None:
                attrs["gen_ai.input.messages"] = conversation
                attrs[A_IMPORT_NOTE] = _REBUILT
        chain = rec.get("agentId") if rec.get("isSidechain") else None
        if chain in self._truncated or (not rec.get("isSidechain") and None in self._truncated):
            attrs["trace_tui.context.truncated"] = True
            self._truncated.discard(chain)
        return attrs

    def _close_llms(self, keep: str | None) -> list[dict[str, Any]]:
        out = []
        for message_id, llm in list(self._open.items()):
            if message_id == keep:
                continue
            del self._open[message_id]
            llm.open = False
            usage = llm.usage
            if self._facts and llm.span_id not in self._whole:
                tokens = usage_attributes(
                    usage.get("input_tokens"),
                    usage.get("output_tokens"),
                    usage.get("cache_read_input_tokens"),
                    usage.get("cache_creation_input_tokens"),
                    input_includes_cache=False,
                )
                out.append(span_end(llm.span_id, end=llm.end, attributes=tokens))
                if llm.stop_reason in _FINAL_STOPS and llm.parent is not None:
                    out += self._answered(llm.parent, llm.end)
                continue
            attrs: dict[str, Any] = {
                "gen_ai.output.messages": normalize_messages(
                    [{"role": "assistant", "content": llm.blocks}]
                ),
                **usage_attributes(
                    usage.get("input_tokens"),
                    usage.get("output_tokens"),
                    usage.get("cache_read_input_tokens"),
                    usage.get("cache_creation_input_tokens"),
                    input_includes_cache=False,
                ),
            }
            if llm.stop_reason:
                attrs["gen_ai.response.finish_reasons"] = [str(llm.stop_reason)]
            out.append(
                span_end(llm.span_id, end=llm.end, attributes=attrs, source=llm.sources or None)
            )
            llm.sources = []
            if llm.stop_reason in _FINAL_STOPS and llm.parent is not None:
                out += self._answered(llm.parent, llm.end)
        return out

    def _answered(self, parent: str, end: Any) -> list[dict[str, Any]]:
        """The turn ends when its model answers without asking for a tool: the same moment
        whether the file is read whole (``open``) or followed (``tail``)."""
        if parent != self._turn or self._turn_done:
            return []
        self._turn_done = True
        self._turn_end = end or self._turn_end
        return [span_end(parent, end=self._turn_end)]

    # ----------------------------------------------------------------- tools
    def _tool_start(
        self, block: dict[str, Any], rec: dict[str, Any], parent: str | None
    ) -> dict[str, Any]:
        call_id = str(block.get("id") or "")
        span_id = self._id("tool")
        self._tools[call_id] = span_id
        name = str(block.get("name") or "tool")
        if name in _AGENT_TOOLS:
            self._agent_calls.append(call_id)
            self._agent_tool_spans[call_id] = span_id
            if self._facts:
                self._agent_log.append((2, call_id, span_id))
        if self._facts:
            return span_start(span_id, "tool", name, parent_id=parent, start=rec.get("timestamp"))
        return span_start(
            span_id,
            "tool",
            name,
            parent_id=parent,
            start=rec.get("timestamp"),
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": name,
                "gen_ai.tool.call.id": call_id or None,
                "gen_ai.tool.call.arguments": block.get("input"),
            },
            source=block,
        )

    def _tool_result(self, block: dict[str, Any], rec: dict[str, Any]) -> list[dict[str, Any]]:
        call_id = str(block.get("tool_use_id") or "")
        facts, failed = self._facts, block.get("is_error") is True
        result = content_of(block.get("content")) if failed or not facts else None
        attrs: dict[str, Any] = {"gen_ai.tool.call.result": result}
        if rec.get("toolUseResult") is not None:
            attrs["claude_code.tool_use_result"] = rec["toolUseResult"]
        error = (short(text_of(result), 200) or "tool error") if failed else None
        out: list[dict[str, Any]] = []
        if isinstance(rec.get("agentId"), str) and call_id in self._tools:
            self._agent_ids[rec["agentId"]] = call_id
            if self._facts:
                self._agent_log.append((1, rec["agentId"], call_id))
        span_id = self._tools.pop(call_id, None)
        if span_id is None:
            attrs.update(
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.call.id": call_id or None,
                    A_IMPORT_NOTE: "the tool call this result answers is not in this file",
                }
            )
            out.append(
                span(
                    self._id("tool"),
                    "tool",
                    "tool result",
                    parent_id=self._parent,
                    start=rec.get("timestamp"),
                    end=rec.get("timestamp"),
                    error=error,
                    attributes=None if facts else attrs,
                    source=None if facts else rec,
                )
            )
            return out
        if facts:
            out.append(span_end(span_id, end=rec.get("timestamp"), error=error))
        else:
            out.append(span_end(span_id, end=rec.get("timestamp"), error=error,
                                attributes=attrs, source=rec))  # fmt: skip
        agent_step = self._agent_steps.pop(call_id, None)
        if agent_step is not None:
            out.append(span_end(agent_step, end=rec.get("timestamp")))
        return out

    # ----------------------------------------------------------------- user lines
    def _user(self, rec: dict[str, Any], line: int) -> list[dict[str, Any]]:
        content = rec["message"].get("content")
        blocks = (
            content if isinstance(content, list) else ([content] if content is not None else [])
        )
        results = [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result"]
        out: list[dict[str, Any]] = []
        is_prompt = (
            not results
            and not rec.get("isSidechain")
            and not rec.get("isMeta")
            and not rec.get("isCompactSummary")
            and bool(text_of(content_of(blocks)))
        )
        if is_prompt:
            out += self._start_turn(rec, blocks)
        self._remember(rec, "user")
        for block in results:
            out += self._tool_result(block, rec)
        if not results and not is_prompt:
            out.append(self._other(rec, line))
        self._turn_end = rec.get("timestamp") or self._turn_end
        return out

    def _start_turn(self, rec: dict[str, Any], blocks: list[Any]) -> list[dict[str, Any]]:
        out = self._end_turn()
        self._turn = self._id("turn")
        self._turn_end = rec.get("timestamp")
        text = text_of(content_of(blocks)) or ""
        attrs: dict[str, Any] = {"gen_ai.agent.name": "claude-code", "claude_code.prompt": text}
        if self._chain.has_child(self._puuid):
            attrs["claude_code.rewind"] = True
            attrs[A_IMPORT_NOTE] = (
                "this prompt rewinds the conversation to an earlier message; "
                "the turns after that message are an abandoned branch"
            )
        out.append(
            span_start(
                self._turn,
                "agent",
                short(text) or "turn",
                start=rec.get("timestamp"),
                attributes=None if self._facts else attrs,
                source=None if self._facts else rec,
            )
        )
        return out

    def _end_turn(self) -> list[dict[str, Any]]:
        if self._turn is None:
            return []
        turn, self._turn = self._turn, None
        done, self._turn_done = self._turn_done, False
        return [] if done else [span_end(turn, end=self._turn_end)]

    def _remember(self, rec: dict[str, Any], role: str) -> None:
        if isinstance(rec.get("uuid"), str):
            self._chain.add(rec["uuid"], self._puuid, role, self._ref, rec)
            if not rec.get("isSidechain"):
                self._last_main = rec["uuid"]

    def _parent_uuid(self, rec: dict[str, Any]) -> str | None:
        """The line's ``parentUuid``; early transcripts leave it null, so the previous line."""
        parent = rec.get("parentUuid")
        if isinstance(parent, str):
            return parent
        if rec.get("isSidechain") or self._last_main == rec.get("uuid"):
            return None
        return self._last_main

    # ----------------------------------------------------------------- sidechains
    def _sidechain_step(self, rec: dict[str, Any], out: list[dict[str, Any]]) -> str:
        """The sub-agent step of a sidechain line (matched by agentId, parent line, or order)."""
        agent_id = rec.get("agentId")
        call_id = self._agent_ids.get(agent_id) if isinstance(agent_id, str) else None
        step = self._agent_steps.get(call_id) if call_id else None
        parent_uuid = rec.get("parentUuid")
        if step is None and isinstance(parent_uuid, str):
            step = self._line_agent.get(parent_uuid)
        if step is None:
            if call_id is None and self._agent_calls:
                call_id = self._agent_calls.pop()
            step = self._id("agent")
            if call_id:
                self._agent_steps[call_id] = step
                if call_id in self._agent_calls:
                    self._agent_calls.remove(call_id)
            out.append(self._agent_start(step, call_id, rec))
        if isinstance(rec.get("uuid"), str):
            self._line_agent[rec["uuid"]] = step
            if self._facts:
                self._agent_log.append((0, rec["uuid"], step))
        return step

    def _agent_start(self, step: str, call_id: str | None, rec: dict[str, Any]) -> dict[str, Any]:
        tool_span = self._agent_tool_spans.get(call_id or "")
        attrs: dict[str, Any] = {
            "gen_ai.agent.name": "claude-code subagent",
            "claude_code.agent_id": rec.get("agentId"),
            "claude_code.launched_by": call_id,
        }
        if tool_span is None:
            attrs[A_IMPORT_NOTE] = "the tool call that launched this sub-agent is not in this file"
        return span_start(
            step,
            "agent",
            "subagent",
            parent_id=tool_span or self._turn,
            start=rec.get("timestamp"),
            attributes=None if self._facts else attrs,
            source=None if self._facts else rec,
        )

    # ----------------------------------------------------------------- other lines
    def _other(self, rec: dict[str, Any], line: int) -> dict[str, Any]:
        label, attrs = other_line(rec, line)
        parent = self._parent if rec.get("type") == "user" else self._turn
        return span(
            self._id("other"),
            "other",
            label,
            parent_id=parent,
            start=rec.get("timestamp"),
            end=rec.get("timestamp"),
            attributes=None if self._facts else attrs,
            source=None if self._facts else rec,
        )

    def _compact(self, rec: dict[str, Any]) -> list[dict[str, Any]]:
        meta = as_dict(rec.get("compactMetadata"))
        self._chain.add(str(rec.get("uuid") or self._id("boundary")), None, "boundary", -1)
        self._truncated.add(rec.get("agentId") if rec.get("isSidechain") else None)
        self.epoch += 1
        name = f"compact boundary ({meta.get('trigger', 'unknown')} trigger)"
        if self._facts:
            return [span(self._id("compact"), "other", name, parent_id=self._turn,
                         start=rec.get("timestamp"), end=rec.get("timestamp"))]  # fmt: skip
        return [
            span(
                self._id("compact"),
                "other",
                name,
                parent_id=self._turn,
                start=rec.get("timestamp"),
                end=rec.get("timestamp"),
                attributes={
                    "claude_code.line_type": "system",
                    "claude_code.subtype": "compact_boundary",
                    "claude_code.compact": meta or None,
                    "claude_code.logical_parent": rec.get("logicalParentUuid"),
                },
                source=rec,
            )
        ]


def restore(state: Any, read: ReadLine) -> ClaudeCodeMapper:
    """A full mapper in the state a facts-mode mapper's :meth:`~ClaudeCodeMapper.checkpoint`
    noted (falsy: the start of the file), reading old lines through ``read``."""
    mapper = ClaudeCodeMapper()
    mapper.use_reader(read)
    if state:
        restore_into(mapper, state)
    return mapper


CLAUDE_CODE = TraceFormat(
    name="claude-code",
    title="Claude Code session transcript (~/.claude/projects/*/*.jsonl)",
    detect=detect_claude_code,
    mapper=ClaudeCodeMapper,
    replay=Replayable(
        facts=lambda: ClaudeCodeMapper(facts=True),
        restore=lambda state, read: restore(state, read),
        carried=carried,
        context_kinds=frozenset({"llm", "agent"}),
        invented=invented,
    ),
)
