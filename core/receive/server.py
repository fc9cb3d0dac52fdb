"""The OTLP/HTTP endpoint: ``POST /v1/traces``, answered as the OTLP specification says.

An ASGI application (:class:`OtlpReceiver`) served by uvicorn (:class:`ReceiverServer`, in the
calling thread or a background one). Per request, in this order:

- wrong path 404, wrong method 405; a token is configured and the request does not carry
  ``Authorization: Bearer <token>``: 401;
- body over the limit (by ``Content-Length`` or while reading): 413; content type other than
  protobuf or JSON: 415; more than ``max_pending`` exports waiting to be written: 503 with
  ``Retry-After``;
- body that does not decode: 400 with the reason;
- over the span rate: 429 with ``Retry-After`` (nothing written);
- otherwise the spans are written (:class:`~trace_tui.core.receive.spool.SpanSpool`) and only
  then answered 200, with ``partialSuccess`` when some spans were rejected.

Successful answers and errors (a ``google.rpc.Status``) are encoded in the request's content
type: protobuf for protobuf, JSON for JSON. Nothing of a refused request is written.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import socket
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson

from trace_tui.core.receive.decode import (
    JSON,
    PROTOBUF,
    ExportBatch,
    ExportRejected,
    decode_export,
    media_type,
)
from trace_tui.core.receive.limits import SpanRate, retry_after_header
from trace_tui.core.receive.spool import SpanSpool

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

TRACES_PATH = "/v1/traces"
# google.rpc.Code values for the Status body of an error answer.
_RPC_CODE = {400: 3, 401: 16, 404: 12, 405: 12, 413: 3, 415: 3, 429: 8, 500: 13, 503: 14}


@dataclass(slots=True)
class ReceiverLimits:
    """Request size, rate and backlog limits (``None`` rate: unlimited)."""

    max_body_bytes: int = 20 * 1024 * 1024
    max_spans_per_second: float | None = None
    max_pending: int = 64


@dataclass(slots=True)
class ReceiverCounters:
    """What the endpoint answered since it started, by outcome."""

    requests: int = 0
    accepted_spans: int = 0
    rejected_spans: int = 0
    refused: int = 0


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class OtlpReceiver:
    """The ASGI application (see module doc)."""

    def __init__(self, spool: SpanSpool, *, token: str | None = None,
                 limits: ReceiverLimits | None = None) -> None:
        self.spool = spool
        self.token = token
        self.limits = limits or ReceiverLimits()
        self.rate = SpanRate(self.limits.max_spans_per_second)
        self.counters = ReceiverCounters()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="otlp-writer")
        self._pending = 0

    def close(self) -> None:
        """Wait for exports being written, then stop the writer thread."""
        self._writer.shutdown(wait=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        self.counters.requests += 1
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        kind = media_type(headers.get("content-type"))
        answer_json = kind != PROTOBUF
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            status, message, extra = refusal
            await _error(send, status, message, answer_json, extra)
            return
        body = await _read_body(receive, self.limits.max_body_bytes)
        if body is None:
            await _error(send, 413, f"the body is over {self.limits.max_body_bytes} bytes",
                         answer_json)
            return
        if self._pending >= self.limits.max_pending:
            await _error(send, 503, "the receiver is busy writing; retry later", answer_json,
                         [(b"retry-after", b"1")])
            return
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            status, payload, extra = await loop.run_in_executor(
                self._writer, self._handle, body, headers)
        finally:
            self._pending -= 1
        if status != 200:
            await _error(send, status, payload, answer_json, extra)
            return
        await _respond(send, 200, _success_body(payload, answer_json), answer_json, [])

    def _refusal(self, scope: Scope, headers: dict[str, str]
                 ) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        if scope.get("path") != TRACES_PATH:
            return 404, f"not found: only POST {TRACES_PATH} is served", []
        if scope.get("method") != "POST":
            return 405, f"method not allowed: POST {TRACES_PATH}", [(b"allow", b"POST")]
        if self.token is not None and not _bearer_ok(headers.get("authorization"), self.token):
            return 401, "missing or wrong bearer token", [(b"www-authenticate", b"Bearer")]
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limits.max_body_bytes:
            return 413, f"the body is over {self.limits.max_body_bytes} bytes", []
        if media_type(headers.get("content-type")) not in (PROTOBUF, JSON):
            return 415, f"send {PROTOBUF} or {JSON}", []
        return None

    def _handle(self, body: bytes, headers: dict[str, str]
                ) -> tuple[int, Any, list[tuple[bytes, bytes]]]:
        """Decode, rate-check and write one export (in the writer thread)."""
        try:
            batch = decode_export(body, headers.get("content-type"),
                                  headers.get("content-encoding"), self.limits.max_body_bytes)
        except ExportRejected as exc:
            self.counters.refused += 1
            return exc.status, str(exc), []
        wait = self.rate.take(batch.accepted)
        if wait:
            self.counters.refused += 1
            return 429, "over the span rate limit; retry later", [
                (b"retry-after", retry_after_header(wait).encode())]
        if batch.resource_spans:
            try:
                self.spool.append(batch)
            except OSError as exc:
                log.error("cannot write received spans: %s", exc)
                self.counters.refused += 1
                return 503, "the receiver cannot write its files; retry later", [
                    (b"retry-after", b"5")]
        self.counters.accepted_spans += batch.accepted
        self.counters.rejected_spans += batch.rejected
        return 200, batch, []


def _bearer_ok(header: str | None, token: str) -> bool:
    scheme, _, value = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode("utf-8", "surrogateescape"), token.encode())


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The request body, or None as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _success_body(batch: ExportBatch, as_json: bool) -> bytes:
    if as_json:
        if not batch.rejected:
            return b"{}"
        return orjson.dumps({"partialSuccess": {"rejectedSpans": str(batch.rejected),
                                                "errorMessage": batch.reason}})
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTracePartialSuccess,
        ExportTraceServiceResponse,
    )

    response = ExportTraceServiceResponse()
    if batch.rejected:
        response.partial_success.CopyFrom(ExportTracePartialSuccess(
            rejected_spans=batch.rejected, error_message=batch.reason))
    return bytes(response.SerializeToString())


async def _error(send: Send, status: int, message: str, as_json: bool,
                 extra: list[tuple[bytes, bytes]] | None = None) -> None:
    code = _RPC_CODE.get(status, 2)
    if as_json:
        body = orjson.dumps({"code": code, "message": message})
    else:
        from google.rpc.status_pb2 import Status

        body = bytes(Status(code=code, message=message).SerializeToString())
    await _respond(send, status, body, as_json, extra or [])


async def _respond(send: Send, status: int, body: bytes, as_json: bool,
                   extra: list[tuple[bytes, bytes]]) -> None:
    content_type = JSON if as_json else PROTOBUF
    headers = [(b"content-type", content_type.encode()),
               (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ReceiverServer:
    """uvicorn serving an :class:`OtlpReceiver` on one bound socket.

    The socket is bound in the constructor, so a port in use is an ``OSError`` at once and
    ``port=0`` picks a free port (read it from :attr:`port`). :meth:`run` serves in the calling
    thread until :meth:`stop`; :meth:`start` serves in a daemon thread.
    """

    def __init__(self, app: OtlpReceiver, host: str = "127.0.0.1", port: int = 4318) -> None:
        import uvicorn

        self.app = app
        family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind((host.strip("[]"), port))
        except OSError:
            self.socket.close()
            raise
        self.host = host
        self.port = int(self.socket.getsockname()[1])
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off",
                                server_header=False, timeout_keep_alive=30, backlog=1024)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The endpoint URL exporters send to (``http://host:port/v1/traces``)."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") \
            else self.host
        return f"http://{host}:{self.port}{TRACES_PATH}"

    @property
    def started(self) -> bool:
        """True once the server accepts connections."""
        return bool(self._server.started)

    def run(self) -> None:
        """Serve until :meth:`stop` (or Ctrl-C when in the main thread)."""
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self.app.close()

    def start(self) -> None:
        """Serve in a daemon thread; returns once the server accepts connections."""
        import time

        self._thread = threading.Thread(target=self.run, name="otlp-receiver", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and self._thread.is_alive():
            if time.monotonic() > deadline:
                raise OSError("the OTLP receiver did not start within 10 s")
            time.sleep(0.01)

    def stop(self) -> None:
        """Ask the server to finish the requests it has and stop."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.socket.close()
