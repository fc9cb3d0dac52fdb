"""httpx transports that hand every model API call to the capture session in charge.

The official OpenAI and Anthropic Python clients accept an ``http_client``; they are built on
httpx (the releases current at the time of writing import it as ``httpx2``, an API-compatible
successor; both are supported, see :func:`httpx_module`). A transport sees the exact request
bytes the client sends and the exact response bytes it gets back, so a capture here records
what was on the wire, streamed responses included, and a replay here answers the client
without any socket being opened.

:class:`~trace_tui.core.capture.session.Session` objects do the work; a transport only finds
the session (the one it was built for, or else the active one) and passes the request on.
Requests that are not model API calls, and every request while no session is active, go
straight to the wrapped transport.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from trace_tui.core.capture.active import active_session

if TYPE_CHECKING:
    from trace_tui.core.capture.session import Session

#: The httpx distributions tried, in order, when the caller does not name one.
HTTPX_MODULES = ("httpx2", "httpx")


def httpx_module(name: str | None = None) -> ModuleType:
    """The httpx module the SDKs use: ``httpx2`` when installed, else ``httpx``."""
    names = (name,) if name else HTTPX_MODULES
    for candidate in names:
        try:
            return importlib.import_module(candidate)
        except ImportError:
            continue
    raise ImportError(f"trace-tui capture needs one of: {', '.join(names)}")


def module_of(obj: Any) -> ModuleType:
    """The httpx-like module an object (a request, a transport) comes from."""
    return _module_named(type(obj).__module__.split(".", 1)[0])


@cache
def _module_named(name: str) -> ModuleType:
    return importlib.import_module(name)


class TeeSyncStream:
    """A response body passed through to the client while a copy is kept for the session."""

    def __init__(self, inner: Any, done: Callable[[bytes, BaseException | None], None]) -> None:
        self._inner = inner
        self._done = done
        self._chunks: list[bytes] = []
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                self._chunks.append(chunk)
                yield chunk
        except BaseException as exc:
            self._finish(exc)
            raise
        self._finish(None)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._finish(None)

    def _finish(self, error: BaseException | None) -> None:
        if not self._finished:
            self._finished = True
            self._done(b"".join(self._chunks), error)


class TeeAsyncStream:
    """The asyncio twin of :class:`TeeSyncStream`."""

    def __init__(self, inner: Any, done: Callable[[bytes, BaseException | None], None]) -> None:
        self._inner = inner
        self._done = done
        self._chunks: list[bytes] = []
        self._finished = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                self._chunks.append(chunk)
                yield chunk
        except BaseException as exc:
            self._finish(exc)
            raise
        self._finish(None)

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._finish(None)

    def _finish(self, error: BaseException | None) -> None:
        if not self._finished:
            self._finished = True
            self._done(b"".join(self._chunks), error)


@cache
def stream_classes(mod: ModuleType) -> tuple[type[Any], type[Any]]:
    """The tee streams as subclasses of ``mod``'s byte streams (the client checks the type)."""
    sync_cls = type("TeeSyncStream", (TeeSyncStream, mod.SyncByteStream), {})
    async_cls = type("TeeAsyncStream", (TeeAsyncStream, mod.AsyncByteStream), {})
    return sync_cls, async_cls


@cache
def transport_classes(mod: ModuleType) -> tuple[type[Any], type[Any]]:
    """Capture transports (sync, async) subclassing ``mod``'s base transports."""

    class CaptureTransport(mod.BaseTransport):  # type: ignore[name-defined]
        """Sync transport: model calls go through the session, the rest straight on."""

        def __init__(self, inner: Any = None, session: Session | None = None) -> None:
            self.inner = inner if inner is not None else mod.HTTPTransport()
            self.session = session

        def handle_request(self, request: Any) -> Any:
            session = _session_for(self.session)
            if session is None:
                return self.inner.handle_request(request)
            return session.sync_exchange(request, self.inner.handle_request)

        def close(self) -> None:
            self.inner.close()

    class AsyncCaptureTransport(mod.AsyncBaseTransport):  # type: ignore[name-defined]
        """Asyncio transport: model calls go through the session, the rest straight on."""

        def __init__(self, inner: Any = None, session: Session | None = None) -> None:
            self.inner = inner if inner is not None else mod.AsyncHTTPTransport()
            self.session = session

        async def handle_async_request(self, request: Any) -> Any:
            session = _session_for(self.session)
            send: Callable[[Any], Awaitable[Any]] = self.inner.handle_async_request
            if session is None:
                return await send(request)
            return await session.async_exchange(request, send)

        async def aclose(self) -> None:
            await self.inner.aclose()

    return CaptureTransport, AsyncCaptureTransport


def _session_for(bound: Session | None) -> Session | None:
    if bound is not None:
        return bound
    return active_session()


def http_client(
    session: Session | None = None,
    *,
    inner: Any = None,
    module: str | None = None,
    **client_options: Any,
) -> Any:
    """An ``httpx.Client`` for ``OpenAI(http_client=...)`` / ``Anthropic(http_client=...)``.

    Bound to ``session`` when given; otherwise each request goes to the session active at that
    moment (see :func:`~trace_tui.core.capture.active.active_session`), or straight to the
    network when none is. ``inner`` is the transport to wrap (default: the module's own).
    """
    mod = httpx_module(module)
    sync_cls, _ = transport_classes(mod)
    return mod.Client(transport=sync_cls(inner, session), **client_options)


def async_http_client(
    session: Session | None = None,
    *,
    inner: Any = None,
    module: str | None = None,
    **client_options: Any,
) -> Any:
    """The ``httpx.AsyncClient`` twin of :func:`http_client`, for the async SDK clients."""
    mod = httpx_module(module)
    _, async_cls = transport_classes(mod)
    return mod.AsyncClient(transport=async_cls(inner, session), **client_options)
