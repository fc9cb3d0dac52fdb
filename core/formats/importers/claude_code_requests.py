"""What a Claude Code 2.1 model call was sent, from the ``api-request*`` records, by reference.

Claude Code 2.1 writes the exact request next to the transcript: ``api-request-shape`` (system
prompt and tool schemas, by hash), ``api-request-blob`` (message contents, by hash) and
``api-request`` (parameters, and the message list as ``base`` request + ``keep`` + new
``tail`` hashes). The assistant message a request repeats is not written as a blob; it is taken
from the transcript's assistant lines (the base request's responses, in order).

:class:`RequestStore` keeps each request, blob and response as refs to its lines
(:mod:`.claude_code_refs`): a request is its line and its responses, a response its message
id and lines. Only the last few requests keep their message list resolved (the items, and
their native messages flattened); a request based on an older one resolves that one again
from its lines, as it was when the request was written. Consecutive requests repeat most of
their messages, so a request's native list starts with its base's very objects and only the
new messages are converted (the index spills a call as "the previous call's first N, then
these"). A response that gets more lines after it was converted is converted again.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from trace_tui.core.formats.importers.claude_code_refs import SourceLines, content_blocks
from trace_tui.core.formats.shared.coerce import model_parameters
from trace_tui.core.formats.shared.common import as_dict
from trace_tui.core.formats.shared.messages import normalize_messages, normalize_tools, text_of

#: How many recent requests keep their message list resolved.
RESOLVED = 8
#: How many converted messages are kept (beyond those the resolved requests hold).
CONVERTED = 1024


class _Response:
    """An assistant message a request got: its id and the lines whose blocks it joins."""

    __slots__ = ("converted", "id", "refs")

    def __init__(self, message_id: Any, ref: int) -> None:
        self.id = message_id
        self.refs = [ref]
        self.converted = False  # True once its native messages were made


class _Request:
    """One ``api-request`` line and the responses it got (``earlier``: a request with the
    same id written before it)."""

    __slots__ = ("earlier", "ref", "responses")

    def __init__(self, ref: int, earlier: _Request | None) -> None:
        self.ref = ref
        self.earlier = earlier
        self.responses: list[_Response] = []


#: A message of a request: a blob line's ref, a response, or ``("?", digest)`` (not found).
_Item = Any


class _Resolved:
    """A request's messages: ``items``, their native messages (``flat``; ``ends[k]``: how many
    of them the first ``k + 1`` items make), its parameters and shape, as of ``version``."""

    __slots__ = ("ends", "flat", "incomplete", "items", "params", "shape_hash", "version")

    def __init__(self, items: list[_Item], ends: list[int], flat: list[dict[str, Any]],
                 params: dict[str, Any], shape_hash: Any, incomplete: bool,
                 version: int) -> None:  # fmt: skip
        self.items, self.ends, self.flat = items, ends, flat
        self.params, self.shape_hash, self.incomplete = params, shape_hash, incomplete
        self.version = version


class _BlobsAsOf(dict[Any, int]):
    """``RequestStore._blobs`` of a store restored as of the line ref ``upto``: a hash's
    entry (and its earlier lines, into ``older``) is copied from the facts store's when first
    asked for (a restore copies nothing up front; the facts store may grow meanwhile: its
    dicts are snapshots and its lists are only read)."""

    def __init__(self, latest: dict[Any, int], earlier: dict[Any, list[int]], upto: int,
                 older: dict[Any, list[int]]) -> None:  # fmt: skip
        super().__init__()
        self._latest, self._earlier, self._upto, self._older = latest, earlier, upto, older

    def get(self, digest: Any, default: Any = None) -> Any:
        if dict.__contains__(self, digest):
            return dict.__getitem__(self, digest)
        known = self._latest.pop(digest, None)
        if known is None:
            return default
        upto = self._upto
        refs = [r for r in list(self._earlier.get(digest, ())) if r < upto]
        if known < upto:
            refs.append(known)
        if not refs:
            return default
        dict.__setitem__(self, digest, refs.pop())
        if refs:
            self._older[digest] = refs
        return dict.__getitem__(self, digest)

    def __setitem__(self, digest: Any, ref: int) -> None:
        self.get(digest)  # its earlier lines first
        dict.__setitem__(self, digest, ref)


class _RequestsAsOf(dict[str, "_Request"]):
    """``RequestStore._requests`` of a store restored as of the line ref ``upto``: a
    request (its earlier versions and responses below ``upto``) is copied from the facts
    store's when first asked for (see :class:`_BlobsAsOf`)."""

    def __init__(self, source: dict[str, _Request], upto: int) -> None:
        super().__init__()
        self._source, self._upto = source, upto

    def get(self, req_id: Any, default: Any = None) -> Any:
        if dict.__contains__(self, req_id):
            return dict.__getitem__(self, req_id)
        req = self._source.pop(req_id, None)
        chain: list[_Request] = []
        while req is not None:
            if req.ref < self._upto:
                chain.append(req)
            req = req.earlier
        below: _Request | None = None
        for link in reversed(chain):
            below = _Request(link.ref, below)
            for response in list(link.responses):
                refs = [r for r in list(response.refs) if r < self._upto]
                if refs:
                    kept = _Response(response.id, refs[0])
                    kept.refs = refs
                    below.responses.append(kept)
        if below is None:
            return default
        dict.__setitem__(self, req_id, below)
        return below

    def __getitem__(self, req_id: str) -> _Request:
        req = self.get(req_id)
        if req is None:
            raise KeyError(req_id)
        return req

    def __setitem__(self, req_id: str, req: _Request) -> None:
        self.get(req_id)  # what a later line's request with this id replaces
        dict.__setitem__(self, req_id, req)


class RequestStore:
    """Requests rebuilt from Claude Code 2.1 ``api-request*`` records (see module doc)."""

    def __init__(self, lines: SourceLines | None = None, *, facts: bool = False) -> None:
        self._lines = lines if lines is not None else SourceLines()
        #: Facts mode: no message list is resolved, shapes are kept as (hash, ref) notes.
        self._facts = facts
        self._shape_refs: list[tuple[str, int]] = []
        self._shapes: dict[str, dict[str, Any]] = {}
        self._shape_attrs: dict[str, tuple[Any, str | None, list[dict[str, Any]]]] = {}
        self._blobs: dict[Any, int] = {}  # hash -> ref of its latest line
        self._older_blobs: dict[Any, list[int]] = {}  # hash -> refs of earlier lines
        self._requests: dict[str, _Request] = {}
        self._resolved: OrderedDict[str, tuple[_Request, _Resolved]] = OrderedDict()
        self._native: OrderedDict[Any, tuple[int, list[dict[str, Any]]]] = OrderedDict()
        #: Bumped when a converted response grows: resolved lists older than this are redone.
        self._version = 0

    # ----------------------------------------------------------------- records
    def add_shape(self, rec: dict[str, Any], ref: int) -> None:
        """An ``api-request-shape`` record (line ``ref``): system prompt and tools, by hash."""
        if isinstance(rec.get("shapeHash"), str) and isinstance(rec.get("shape"), dict):
            if self._facts:
                self._shape_refs.append((rec["shapeHash"], ref))
            else:
                self._shapes[rec["shapeHash"]] = rec["shape"]

    def add_blob(self, rec: dict[str, Any], ref: int) -> None:
        """An ``api-request-blob`` record (line ``ref``): one message's content, by hash."""
        digest = rec.get("hash")
        if isinstance(digest, str):
            self._lines.keep(ref, rec)
            known = self._blobs.get(digest)
            if known is not None:
                self._older_blobs.setdefault(digest, []).append(known)
            self._blobs[digest] = ref

    def add_request(self, rec: dict[str, Any], ref: int) -> None:
        """An ``api-request`` record (line ``ref``): ``base`` messages[:keep] + ``tail``."""
        req_id = rec.get("id")
        if not isinstance(req_id, str):
            return
        req = _Request(ref, self._requests.get(req_id))
        if self._facts:  # not resolved, but it raises where _link would
            for digest in rec.get("tail") or ():
                self._blob_at(digest, ref)
            self._requests[req_id] = req
            return
        resolved = self._link(req, rec, self._base(rec, ref))  # may raise: nothing kept then
        self._lines.keep(ref, rec)
        self._requests[req_id] = req
        self._remember(req_id, req, resolved)

    def add_response(self, request_id: str, message_id: Any, ref: int) -> None:
        """An assistant line (``ref``) answering ``request_id`` (later requests repeat the
        message without a blob); lines of one message join into one response."""
        req = self._requests.get(request_id)
        if req is None:
            return
        last = req.responses[-1] if req.responses else None
        if last is not None and last.id == message_id:
            last.refs.append(ref)
            if last.converted:
                self._version += 1
        else:
            req.responses.append(_Response(message_id, ref))

    # ----------------------------------------------------------------- checkpoints
    def mark(self) -> int:
        """How far the shape notes go (with a line ref, what :meth:`as_of` needs)."""
        return len(self._shape_refs)

    def as_of(self, upto: int, shapes: int, lines: SourceLines) -> RequestStore:
        """A full-mode store holding what this (facts-mode) one held before the line ref
        ``upto`` (``shapes``: :meth:`mark` then); shapes are read back from their lines.
        Another thread may add to this store meanwhile: only C-level copies are iterated."""
        out = RequestStore(lines)
        latest: dict[str, int] = {}
        for digest, ref in self._shape_refs[:shapes]:
            latest[digest] = ref
        for ref in sorted(latest.values()):
            line = lines.get(ref)
            if line is not None:
                out.add_shape(line, ref)
        out._blobs = _BlobsAsOf(self._blobs.copy(), self._older_blobs.copy(), upto,
                                out._older_blobs)  # fmt: skip
        out._requests = _RequestsAsOf(self._requests.copy(), upto)
        return out

    # ----------------------------------------------------------------- attributes
    def attributes(self, request_id: Any) -> dict[str, Any] | None:
        """Native request attributes for an assistant line's ``requestRef``, if recorded."""
        req = self._requests.get(request_id) if isinstance(request_id, str) else None
        if req is None:
            return None
        res = self._resolve(request_id, req)
        attrs: dict[str, Any] = {
            "gen_ai.input.messages": list(res.flat),
            "claude_code.request.params": res.params,
        }
        params = res.params
        if params.get("model"):
            attrs["gen_ai.request.model"] = str(params["model"])
        attrs.update(model_parameters(params))
        shape_hash = res.shape_hash
        shape = self._shapes.get(shape_hash or "")
        if shape is not None:
            known = self._shape_attrs.get(shape_hash or "")
            if known is None or known[0] is not shape:
                known = (shape, text_of(shape.get("system")), normalize_tools(shape.get("tools")))
                self._shape_attrs[shape_hash or ""] = known
            attrs["gen_ai.system_instructions"] = known[1]
            attrs["gen_ai.tool.definitions"] = known[2]
        if res.incomplete:
            attrs["trace_tui.import.note"] = "part of this request was not in the transcript"
        return attrs

    def messages(self, request_id: str) -> list[Any]:
        """The request's messages as written (blob messages and responses; tests compare)."""
        req = self._requests[request_id]
        return [self._message(item) for item in self._resolve(request_id, req).items]

    # ----------------------------------------------------------------- resolving
    def _request_at(self, req_id: Any, ref: int) -> _Request | None:
        """The request ``req_id`` as a line at ``ref`` saw it (written before it)."""
        req = self._requests.get(req_id) if isinstance(req_id, str) else None
        while req is not None and req.ref >= ref:
            req = req.earlier
        return req

    def _blob_at(self, digest: Any, ref: int) -> int | None:
        """The blob line of ``digest`` a request at ``ref`` saw (the latest before it)."""
        known = self._blobs.get(digest)
        if known is None or known < ref:
            return known
        for older in reversed(self._older_blobs.get(digest, ())):
            if older < ref:
                return older
        return None

    def _base(self, rec: dict[str, Any], ref: int) -> tuple[_Request, _Resolved] | None:
        base_id = rec.get("base")
        if not isinstance(base_id, str):
            return None
        base = self._request_at(base_id, ref)
        return None if base is None else (base, self._resolve(base_id, base))

    def _resolve(self, req_id: str, req: _Request) -> _Resolved:
        """``req``'s messages (kept for recent requests, else resolved from its lines)."""
        hit = self._resolved.get(req_id)
        if hit is not None and hit[0] is req:
            self._resolved.move_to_end(req_id)
            if hit[1].version != self._version:
                self._refresh(hit[1])
            return hit[1]
        chain: list[tuple[_Request, dict[str, Any]]] = []
        at: _Request | None = req
        base: tuple[_Request, _Resolved] | None = None
        while at is not None:
            rec = self._lines.get(at.ref) or {}
            chain.append((at, rec))
            base_id = rec.get("base")
            if not isinstance(base_id, str):
                break
            at = self._request_at(base_id, at.ref)
            hit = self._resolved.get(base_id)
            if at is not None and hit is not None and hit[0] is at:
                if hit[1].version != self._version:
                    self._refresh(hit[1])
                base, at = hit, None
        res: _Resolved | None = None
        for link, rec in reversed(chain):
            res = self._link(link, rec, base)
            base = (link, res)
        assert res is not None
        self._remember(req_id, req, res)
        return res

    def _remember(self, req_id: str, req: _Request, res: _Resolved) -> None:
        self._resolved[req_id] = (req, res)
        self._resolved.move_to_end(req_id)
        while len(self._resolved) > RESOLVED:
            self._resolved.popitem(last=False)

    def _link(self, req: _Request, rec: dict[str, Any],
              base: tuple[_Request, _Resolved] | None) -> _Resolved:  # fmt: skip
        """``req``'s messages from its record and its base's (as when it was written)."""
        keep: int = rec["keep"] if isinstance(rec.get("keep"), int) else 0
        incomplete = bool(rec.get("base")) and base is None
        items: list[_Item] = []
        ends: list[int] = []
        flat: list[dict[str, Any]] = []
        fill: list[_Response] = []
        if base is not None:
            before = base[1]
            items = before.items[:keep]
            ends = before.ends[: len(items)]
            flat = before.flat[: ends[-1]] if ends else []
            fill = [r for r in base[0].responses if r.refs[0] < req.ref]
        for digest in rec.get("tail") or ():
            blob = self._blob_at(digest, req.ref)
            if blob is not None:
                item: _Item = blob
            elif fill:
                item = fill.pop(0)
            else:
                incomplete, item = True, ("?", digest)
            items.append(item)
            flat += self._converted(item)
            ends.append(len(flat))
        params = as_dict(rec.get("params"))
        return _Resolved(items, ends, flat, params, rec.get("shapeHash"), incomplete,
                         self._version)  # fmt: skip

    def _refresh(self, res: _Resolved) -> None:
        """Convert again what grew since ``res`` was made (a response with more lines)."""
        flat: list[dict[str, Any]] = []
        ends: list[int] = []
        for item in res.items:
            flat += self._converted(item)
            ends.append(len(flat))
        res.flat, res.ends, res.version = flat, ends, self._version

    # ----------------------------------------------------------------- messages
    def _message(self, item: _Item) -> Any:
        """The message an item stands for, as the request wrote it."""
        if isinstance(item, _Response):
            content: list[Any] = []
            for ref in item.refs:
                content += content_blocks(self._lines.get(ref))
            return {"id": item.id, "role": "assistant", "content": content}
        if isinstance(item, tuple):
            return {"role": "assistant", "content": f"[not in the transcript: blob {item[1]}]"}
        line = self._lines.get(item)
        return line.get("message") if line is not None else None

    def _converted(self, item: _Item) -> list[dict[str, Any]]:
        """An item's native messages (converted once while it is recent; a message that is
        not an object has none)."""
        size = len(item.refs) if isinstance(item, _Response) else 0
        known = self._native.get(item)
        if known is not None and known[0] == size:
            self._native.move_to_end(item)
            return known[1]
        message = self._message(item)
        native = (
            normalize_messages([{"role": message.get("role"), "content": message.get("content")}])
            if isinstance(message, dict)
            else []
        )
        if isinstance(item, _Response):
            item.converted = True
        self._native[item] = (size, native)
        self._native.move_to_end(item)
        while len(self._native) > CONVERTED:
            self._native.popitem(last=False)
        return native
