"""Decorators for the agent's tools and retrievers: recorded in a capture, answered in a replay.

``@tool`` and ``@retriever`` wrap sync and ``async`` functions alike. The arguments recorded
are the ones the caller passed, by parameter name (defaults left out), which is how a model's
tool call names them, so ``lookup_order(**call.arguments)`` links to that call by itself.
With no active session the function is simply called.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, overload

from trace_tui.core.capture.active import active_session
from trace_tui.core.capture.session import KIND_RETRIEVAL, KIND_TOOL, Session

F = TypeVar("F", bound=Callable[..., Any])


def bound_arguments(signature: inspect.Signature | None, args: Any, kwargs: Any) -> Any:
    """The call's arguments by parameter name; ``*args``/``**kwargs`` flattened in."""
    if signature is None:
        return {**{f"arg{i}": a for i, a in enumerate(args)}, **kwargs}
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return {**{f"arg{i}": a for i, a in enumerate(args)}, **kwargs}
    out: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            out.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            out[name] = list(value)
        elif name not in ("self", "cls"):
            out[name] = value
    return out


def _wrap(fn: Callable[..., Any], kind: str, name: str | None, session: Session | None) -> Any:
    tool_name = name or fn.__name__
    try:
        signature: inspect.Signature | None = inspect.signature(fn)
    except (TypeError, ValueError):
        signature = None

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            current = session or active_session()
            if current is None:
                return await fn(*args, **kwargs)
            arguments = bound_arguments(signature, args, kwargs)
            return await current.arun_tool(kind, tool_name, fn, arguments, args, kwargs)

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current = session or active_session()
        if current is None:
            return fn(*args, **kwargs)
        arguments = bound_arguments(signature, args, kwargs)
        return current.run_tool(kind, tool_name, fn, arguments, args, kwargs)

    return wrapper


@overload
def tool(fn: F) -> F: ...
@overload
def tool(
    fn: None = None, *, name: str | None = None, session: Session | None = None
) -> Callable[[F], F]: ...
def tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    session: Session | None = None,
) -> Any:
    """Mark a function as a tool: ``@tool`` or ``@tool(name="lookup_order")``.

    Recording, each call is a ``tool`` step (arguments, result or exception, linked call id);
    replaying, the recorded result is returned (or the recorded exception raised) and the
    function is not called.
    """
    if fn is None:
        return lambda f: _wrap(f, KIND_TOOL, name, session)
    return _wrap(fn, KIND_TOOL, name, session)


@overload
def retriever(fn: F) -> F: ...
@overload
def retriever(
    fn: None = None, *, name: str | None = None, session: Session | None = None
) -> Callable[[F], F]: ...
def retriever(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    session: Session | None = None,
) -> Any:
    """Mark a function as a retriever: a ``retrieval`` step with the query and the documents.

    The query is the ``query`` argument (else the first text argument); the return value is
    recorded as the documents (a list; strings become ``{"content": ...}``).
    """
    if fn is None:
        return lambda f: _wrap(f, KIND_RETRIEVAL, name, session)
    return _wrap(fn, KIND_RETRIEVAL, name, session)
