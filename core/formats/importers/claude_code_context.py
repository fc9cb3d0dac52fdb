"""What a Claude Code model call was sent: from ``api-request`` records, or rebuilt from the chain.

Claude Code 2.1 writes the exact request next to the transcript: ``api-request-shape`` (system
prompt and tool schemas, by hash), ``api-request-blob`` (message contents, by hash) and
``api-request`` (parameters, and the message list as ``base`` request + ``keep`` + new
``tail`` hashes). :class:`RequestStore` rebuilds those requests. The assistant message a
request repeats is not written as a blob; it is taken from the transcript's assistant lines.

Older transcripts record no request. :class:`ChainStore` keeps each line's message by
``uuid`` and rebuilds the conversation a call saw by walking ``parentUuid`` links back to the
root or to a compaction boundary. That is the conversation as the transcript shows it; the
reminders Claude Code injects are not in it, which the importer says on the step.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from trace_tui.core.formats.shared.coerce import model_parameters
from trace_tui.core.formats.shared.common import as_dict
from trace_tui.core.formats.shared.messages import normalize_messages, normalize_tools, text_of

_MAX_CHAIN = 100_000
#: How many recently built conversations are kept to extend from.
_CACHED = 32


@dataclass
class _Entry:
    parent: str | None
    role: str
    message_id: str | None
    blocks: list[Any]


class ChainStore:
    """Messages by line ``uuid`` and the parent links between them.

    Consecutive calls share most of their conversation, so the conversation last built at a
    few recent lines is cached: the next call only converts the lines added since, and the
    walk up the chain stops at the first cached line (linear time over a session, not
    quadratic). Message dicts are shared between calls' lists, never copied.
    """

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._has_child: set[str] = set()
        self._cache: OrderedDict[str, tuple[list[dict[str, Any]], _Entry | None]] = OrderedDict()

    def add(
        self, uuid: str, parent: str | None, role: str, message_id: str | None, blocks: list[Any]
    ) -> None:
        """Remember one line's message (a compaction boundary is added with no blocks)."""
        self._entries[uuid] = _Entry(parent, role, message_id, blocks)
        if parent:
            self._has_child.add(parent)

    def has_child(self, uuid: str | None) -> bool:
        """True when an earlier line already continued from ``uuid`` (so this one rewinds)."""
        return bool(uuid) and uuid in self._has_child

    def conversation(self, parent: str | None) -> list[dict[str, Any]] | None:
        """Native messages on the path ending at ``parent`` (``None`` when it is unknown)."""
        if not parent or parent not in self._entries:
            return None
        path: list[_Entry] = []
        uuid: str | None = parent
        seen: set[str] = set()
        while uuid and uuid in self._entries and uuid not in self._cache and uuid not in seen:
            seen.add(uuid)
            entry = self._entries[uuid]
            if entry.role == "boundary" or len(path) >= _MAX_CHAIN:
                break
            path.append(entry)
            uuid = entry.parent
        cached = self._cache.get(uuid) if uuid else None
        messages, last = (list(cached[0]), cached[1]) if cached else ([], None)
        for entry in reversed(path):
            if entry.blocks:
                _extend(messages, last, entry)
                last = entry
        self._cache[parent] = (messages, last)
        self._cache.move_to_end(parent)
        while len(self._cache) > _CACHED:
            self._cache.popitem(last=False)
        return list(messages)


def _extend(messages: list[dict[str, Any]], last: _Entry | None, entry: _Entry) -> None:
    """Append one line's messages; a line continuing the previous message merges into a copy.

    Lines of one assistant message (same id) are one message; adjacent user lines are one
    user turn (as the API receives them).
    """
    native = normalize_messages([{"role": entry.role, "content": list(entry.blocks)}])
    if not native:
        return
    continues = (
        last is not None
        and last.role == entry.role
        and (entry.role == "user" or last.message_id == entry.message_id)
    )
    head = native[0]
    if continues and messages and messages[-1].get("role") == head.get("role"):
        merged = dict(messages[-1])
        merged["content"] = _joined(merged.get("content"), head.get("content"))
        if head.get("tool_calls"):
            merged["tool_calls"] = [*merged.get("tool_calls", []), *head["tool_calls"]]
        messages[-1] = merged
        native = native[1:]
    messages.extend(native)


def _joined(left: Any, right: Any) -> Any:
    if left is None or right is None:
        return right if left is None else left
    parts = [{"type": "text", "text": x} if isinstance(x, str) else x for x in (left, right)]
    return [p for x in parts for p in (x if isinstance(x, list) else [x])]


@dataclass
class _Request:
    """One request: ``base``'s first ``keep`` messages, then ``tail`` (the same objects).

    Only the last few requests keep their whole list (``full``): a session's requests would
    otherwise hold one pointer per message of their context each (quadratic in the context).
    """

    base: _Request | None
    keep: int
    tail: list[Any]
    shape_hash: str | None
    params: dict[str, Any]
    incomplete: bool = False
    responses: list[Any] = field(default_factory=list)
    full: list[Any] | None = None

    @property
    def messages(self) -> list[Any]:
        """The request's messages (rebuilt from the nearest request that keeps its list)."""
        chain: list[_Request] = []
        req: _Request | None = self
        while req is not None and req.full is None:
            chain.append(req)
            req = req.base
        messages: list[Any] = req.full if req is not None and req.full is not None else []
        for link in reversed(chain):
            messages = messages[: link.keep] + link.tail
        return messages


#: How many recent requests keep their whole message list.
_WHOLE_LISTS = 8


class RequestStore:
    """Requests rebuilt from Claude Code 2.1 ``api-request*`` records.

    Consecutive requests repeat most of their messages (the same blob and response objects),
    so each message is converted to the native shape once (:meth:`_native`) and the native
    dicts are shared between calls' lists, as :class:`ChainStore` shares them; a shape's
    system prompt and tools likewise.
    """

    def __init__(self) -> None:
        self._shapes: dict[str, dict[str, Any]] = {}
        self._blobs: dict[str, Any] = {}
        self._requests: dict[str, _Request] = {}
        #: ``id(message) -> (message, content length, its native messages)``; the message
        #: is held so its id is not reused; a response whose content grew is converted again.
        self._native_of: dict[int, tuple[Any, int, list[dict[str, Any]]]] = {}
        self._shape_attrs: dict[str, tuple[Any, str | None, list[dict[str, Any]]]] = {}
        self._whole: deque[_Request] = deque()  # the requests that keep their whole list

    def add_shape(self, rec: dict[str, Any]) -> None:
        """An ``api-request-shape`` record: system prompt and tools, by hash."""
        if isinstance(rec.get("shapeHash"), str) and isinstance(rec.get("shape"), dict):
            self._shapes[rec["shapeHash"]] = rec["shape"]

    def add_blob(self, rec: dict[str, Any]) -> None:
        """An ``api-request-blob`` record: one message's content, by hash."""
        if isinstance(rec.get("hash"), str):
            self._blobs[rec["hash"]] = rec.get("message")

    def add_request(self, rec: dict[str, Any]) -> None:
        """An ``api-request`` record: ``base`` request messages[:keep] + ``tail`` blobs."""
        req_id = rec.get("id")
        if not isinstance(req_id, str):
            return
        base_id = rec.get("base")
        base = self._requests.get(base_id) if isinstance(base_id, str) else None
        keep: int = rec["keep"] if isinstance(rec.get("keep"), int) else 0
        before = base.messages if base else []
        incomplete = bool(rec.get("base")) and base is None
        fill = list(base.responses) if base else []
        tail: list[Any] = []
        for digest in rec.get("tail") or ():
            if digest in self._blobs:
                tail.append(self._blobs[digest])
            elif fill:
                tail.append(fill.pop(0))
            else:
                incomplete = True
                tail.append(
                    {"role": "assistant", "content": f"[not in the transcript: blob {digest}]"}
                )
        params = as_dict(rec.get("params"))
        req = _Request(base, keep, tail, rec.get("shapeHash"), params, incomplete)
        req.full = before[:keep] + tail
        self._requests[req_id] = req
        self._whole.append(req)
        if len(self._whole) > _WHOLE_LISTS:
            self._whole.popleft().full = None

    def add_response(self, request_id: str, message: dict[str, Any]) -> None:
        """The assistant message a request got (later requests repeat it without a blob)."""
        req = self._requests.get(request_id)
        if req is not None:
            if req.responses and req.responses[-1].get("id") == message.get("id"):
                req.responses[-1]["content"].extend(message.get("content") or [])
            else:
                req.responses.append(
                    {
                        "id": message.get("id"),
                        "role": "assistant",
                        "content": list(message.get("content") or []),
                    }
                )

    def attributes(self, request_id: Any) -> dict[str, Any] | None:
        """Native request attributes for an assistant line's ``requestRef``, if recorded."""
        req = self._requests.get(request_id) if isinstance(request_id, str) else None
        if req is None:
            return None
        messages: list[dict[str, Any]] = []
        native_of = self._native_of
        for message in req.messages:
            seen = native_of.get(id(message))
            if seen is not None and seen[0] is message:  # the size check of _native
                content = message.get("content")
                if seen[1] == (len(content) if isinstance(content, list) else -1):
                    messages += seen[2]
                    continue
            if isinstance(message, dict):
                messages += self._native(message)
        attrs: dict[str, Any] = {
            "gen_ai.input.messages": messages,
            "claude_code.request.params": req.params,
        }
        if req.params.get("model"):
            attrs["gen_ai.request.model"] = str(req.params["model"])
        attrs.update(model_parameters(req.params))
        shape = self._shapes.get(req.shape_hash or "")
        if shape is not None:
            known = self._shape_attrs.get(req.shape_hash or "")
            if known is None or known[0] is not shape:
                known = (shape, text_of(shape.get("system")), normalize_tools(shape.get("tools")))
                self._shape_attrs[req.shape_hash or ""] = known
            attrs["gen_ai.system_instructions"] = known[1]
            attrs["gen_ai.tool.definitions"] = known[2]
        if req.incomplete:
            attrs["trace_tui.import.note"] = "part of this request was not in the transcript"
        return attrs

    def _native(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        """One request message in the native shape (converted once; see the class doc).

        A list of ``{"role", "content"}`` dicts converts message by message (nothing merges
        across them in :func:`normalize_messages`), so the concatenation is the same list.
        """
        content = message.get("content")
        size = len(content) if isinstance(content, list) else -1
        known = self._native_of.get(id(message))
        if known is not None and known[0] is message and known[1] == size:
            return known[2]
        native = normalize_messages([{"role": message.get("role"), "content": content}])
        self._native_of[id(message)] = (message, size, native)
        return native
