"""``trace-tui receive`` (and ``tail otlp://HOST:PORT``): an OTLP/HTTP endpoint for traces.

Parses the options, refuses an unsafe setup (a non-loopback address without a token) with one
line, starts :class:`~trace_tui.core.receive.server.ReceiverServer` and either prints what it
receives (a line every few seconds when something changed) or, with ``--open``, runs the live
view: a run picker over the traces as they arrive, each opened in the debugger as a live tail.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from trace_tui.core.errors import BadInput
from trace_tui.core.text.sanitize import one_line

if TYPE_CHECKING:
    from trace_tui.core.receive.server import OtlpReceiver, ReceiverServer
    from trace_tui.core.receive.spool import SpanSpool

DEFAULT_LISTEN = "127.0.0.1:4318"
DEFAULT_OUT = "otlp-received"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)i?[bB]?\s*$")


class ReceiveError(BadInput):
    """Bad receive options: one line, exit 2."""


def add_receive_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``receive`` on the CLI's subparsers."""
    p = sub.add_parser(
        "receive",
        help="receive OTLP/HTTP trace exports (POST /v1/traces) and write OTLP JSON lines",
        description="Listen for OpenTelemetry trace exports over OTLP/HTTP (protobuf or JSON, "
        "gzip or not) and append them to OTLP JSON-lines files that every other command reads.",
    )
    p.add_argument("--listen", metavar="HOST:PORT", default=DEFAULT_LISTEN,
                   help=f"address to listen on (default {DEFAULT_LISTEN}; any other host than "
                   "loopback needs --token or --token-env)")
    p.add_argument("--split", choices=("day", "service", "trace"), default=None,
                   help="one file per UTC day (default), per service and day, or per trace "
                   "(the live view always uses per trace)")
    p.add_argument("--open", action="store_true",
                   help="show the traces live in the debugger (one file per trace)")
    add_receive_options(p)
    return p


def add_receive_options(p: argparse.ArgumentParser) -> None:
    """The options ``receive`` and ``tail otlp://HOST:PORT`` share."""
    p.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                   help=f"receiver: folder for the OTLP JSON-lines files (default ./{DEFAULT_OUT})")
    p.add_argument("--max-file-size", metavar="SIZE", default="256M",
                   help="receiver: rotate a file when it would grow past SIZE (default 256M)")
    token = p.add_mutually_exclusive_group()
    token.add_argument("--token", metavar="TOKEN",
                       help="require 'Authorization: Bearer TOKEN' on every request")
    token.add_argument("--token-env", metavar="NAME",
                       help="like --token, reading the token from environment variable NAME")
    p.add_argument("--max-body-size", metavar="SIZE", default="20M",
                   help="largest request body, compressed or inflated (default 20M; 413 over it)")
    p.add_argument("--max-spans-per-second", metavar="N", type=float, default=None,
                   help="answer 429 with Retry-After above this span rate (default: no limit)")
    p.add_argument("--fsync", action="store_true",
                   help="sync every batch to disk before answering (default: handed to the OS)")


def parse_size(text: str) -> int:
    """``20M``, ``512k``, ``1G``, ``1048576`` → bytes."""
    match = _SIZE.match(text)
    if not match:
        raise ReceiveError(f"not a size: {one_line(text, 40)!r} (try 20M, 512k, 1G)")
    number, unit = match.groups()
    scale = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit.lower()]
    return int(float(number) * scale)


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[::1]:PORT`` or ``otlp://HOST:PORT`` → (host, port)."""
    raw = text if "://" in text else f"otlp://{text}"
    try:
        parts = urlsplit(raw)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise ReceiveError(f"not an address: {one_line(text, 80)!r} ({exc})") from exc
    if not host or port is None or parts.path not in ("", "/"):
        raise ReceiveError(f"not an address: {one_line(text, 80)!r} (want HOST:PORT)")
    return host, port


def _token(args: argparse.Namespace) -> str | None:
    if args.token_env:
        value = os.environ.get(args.token_env)
        if not value:
            raise ReceiveError(f"--token-env {one_line(args.token_env, 40)}: "
                               "the variable is not set or empty")
        return value
    return args.token or None


def run_receive(args: argparse.Namespace, listen: str | None = None, live: bool = False) -> int:
    """Run the receiver until Ctrl-C (or the live view is closed); returns the exit code."""
    from trace_tui.core.receive.server import (
        OtlpReceiver,
        ReceiverLimits,
        ReceiverServer,
        is_loopback,
    )
    from trace_tui.core.receive.spool import SpanSpool, Split, SpoolBusy

    live = live or bool(getattr(args, "open", False))
    host, port = parse_listen(listen or str(getattr(args, "listen", DEFAULT_LISTEN)))
    token = _token(args)
    if not is_loopback(host) and token is None:
        raise ReceiveError(f"listening on {one_line(host, 60)} (not loopback) needs --token or "
                           "--token-env, so only your exporters can write here")
    split: Split = getattr(args, "split", None) or ("trace" if live else "day")
    if live and split != "trace":
        raise ReceiveError("the live view writes one file per trace: leave out --split")
    limits = ReceiverLimits(max_body_bytes=parse_size(args.max_body_size),
                            max_spans_per_second=args.max_spans_per_second)
    try:
        spool = SpanSpool(args.out, split=split, max_file_bytes=parse_size(args.max_file_size),
                          fsync=args.fsync)
    except SpoolBusy as exc:
        raise ReceiveError(one_line(str(exc))) from exc
    except OSError as exc:
        raise ReceiveError(f"cannot write to {one_line(str(args.out), 80)}: "
                           f"{one_line(exc.strerror or str(exc))}") from exc
    app = OtlpReceiver(spool, token=token, limits=limits)
    try:
        server = ReceiverServer(app, host, port)
    except OSError as exc:
        spool.close()
        raise ReceiveError(f"cannot listen on {one_line(host, 60)}:{port}: "
                           f"{one_line(exc.strerror or str(exc))}") from exc
    out = one_line(str(Path(args.out).resolve()), 200)
    if live:
        return _run_live(server, spool, args, out)
    print(f"trace-tui: receiving OTLP/HTTP on {server.url} · writing {out}/ "
          f"({split} files) · Ctrl-C stops", file=sys.stderr, flush=True)
    stop = threading.Event()
    reporter = threading.Thread(target=_report, args=(app, stop), daemon=True)
    reporter.start()
    try:
        server.run()
    finally:
        stop.set()
        spool.close()
        _print_counts(app)
    return 0


def _report(app: OtlpReceiver, stop: threading.Event) -> None:
    last = None
    while not stop.wait(5.0):
        counts = _counts_line(app)
        if counts != last:
            print(f"trace-tui: {counts}", file=sys.stderr, flush=True)
            last = counts


def _counts_line(app: OtlpReceiver) -> str:
    counters = app.counters
    return (f"{counters.accepted_spans:,} spans accepted, {counters.rejected_spans:,} rejected, "
            f"{counters.refused:,} requests refused")


def _print_counts(app: OtlpReceiver) -> None:
    print(f"trace-tui: stopped · {_counts_line(app)}", file=sys.stderr, flush=True)


def _run_live(server: ReceiverServer, spool: SpanSpool, args: argparse.Namespace,
              out: str) -> int:
    from trace_tui.tui.run_picker import run_live_view

    try:
        server.start()
        return run_live_view(server, spool, args)
    finally:
        server.stop()
        spool.close()
        print(f"trace-tui: spans kept in {out}/", file=sys.stderr)


def otlp_tail_address(path: str) -> str | None:
    """``HOST:PORT`` when ``trace-tui tail`` was given ``otlp://HOST:PORT``, else None."""
    return path if path.lower().startswith("otlp://") else None
