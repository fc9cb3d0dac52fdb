"""``trace-tui receive``: real OTLP exports in, OTLP JSON lines out, every status as documented.

The OpenTelemetry Python SDK with its OTLP/HTTP protobuf exporter sends to the receiver on
loopback; JSON bodies are posted as the Collector's ``otlphttp`` exporter sends them (the
OTLP/JSON example of the opentelemetry-proto repository). Every accepted span must be in the
files exactly once, and read back by the same importer ``open`` uses; every refused request
must leave the files as they were.
"""

from __future__ import annotations

import gzip
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from support import ROOT, eventually, eventually_async
from trace_tui.core.reading.reader import open_run
from trace_tui.core.receive.server import OtlpReceiver, ReceiverLimits, ReceiverServer
from trace_tui.core.receive.spool import SpanSpool

PROTO_EXAMPLE = ROOT / "tests/data/foreign/otlp/opentelemetry-proto_examples_trace.json"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverServer]:
    server = ReceiverServer(OtlpReceiver(SpanSpool(tmp_path / "out")), "127.0.0.1", 0)
    server.start()
    yield server
    server.stop()
    server.app.spool.close()


def post(url: str, body: bytes, content_type: str = JSON, **headers: str
         ) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": content_type, **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def written_lines(folder: Path) -> list[dict[str, Any]]:
    lines = []
    for path in sorted(folder.glob("trace*.jsonl")):
        lines += [json.loads(line) for line in path.read_bytes().splitlines()]
    return lines


def span_ids(folder: Path) -> list[str]:
    return [span["spanId"] for line in written_lines(folder) for resource in line["resourceSpans"]
            for scope in resource["scopeSpans"] for span in scope["spans"]]


def json_request(spans: int, trace: int = 1, start: int = 0) -> dict[str, Any]:
    return {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "agent"}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": [{
            "traceId": f"{trace:032x}", "spanId": f"{start + i + 1:016x}", "name": f"step {i}",
            "startTimeUnixNano": str(1_700_000_000_000_000_000 + i),
            "endTimeUnixNano": str(1_700_000_000_000_000_001 + i), "kind": 1,
        } for i in range(spans)]}]}]}


# --------------------------------------------------------------------------- real exporters
@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_sdk_protobuf_exporter_spans_arrive_exactly_once(receiver: ReceiverServer,
                                                         compression: str) -> None:
    from opentelemetry.exporter.otlp.proto.http import Compression
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "support-agent"}))
    exporter = OTLPSpanExporter(endpoint=receiver.url, compression=Compression(
        "gzip" if compression == "gzip" else "none"))
    provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=50))
    tracer = provider.get_tracer("test")
    sent: list[str] = []
    for run in range(3):
        with tracer.start_as_current_span(f"invoke_agent run{run}", attributes={
                "gen_ai.operation.name": "invoke_agent"}) as root:
            sent.append(f"{root.get_span_context().span_id:016x}")
            for call in range(40):
                with tracer.start_as_current_span("chat", attributes={
                        "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o",
                        "gen_ai.usage.input_tokens": call}) as span:
                    sent.append(f"{span.get_span_context().span_id:016x}")
    provider.shutdown()
    out = Path(receiver.app.spool.directory)
    ids = span_ids(out)
    assert sorted(ids) == sorted(sent)  # each exactly once
    assert receiver.app.counters.accepted_spans == len(ids)
    (day_file,) = out.glob("traces-*.jsonl")
    run = open_run(day_file)  # read back as every command reads it
    assert run.format_name == "otlp-jsonl"
    assert sum(1 for s in run.steps if s.name == "chat") == 120


def test_protobuf_answer_and_partial_success_are_protobuf(receiver: ReceiverServer) -> None:
    message = ExportTraceServiceRequest()
    spans = message.resource_spans.add().scope_spans.add().spans
    good, bad = spans.add(), spans.add()
    good.trace_id, good.span_id, good.name = b"\x01" * 16, b"\x02" * 8, "good"
    bad.trace_id, bad.span_id, bad.name = b"\x00" * 16, b"\x03" * 8, "bad"
    status, headers, body = post(receiver.url, message.SerializeToString(), PROTOBUF)
    assert (status, headers["content-type"]) == (200, PROTOBUF)
    answer = ExportTraceServiceResponse.FromString(body)
    assert answer.partial_success.rejected_spans == 1
    assert "traceId" in answer.partial_success.error_message
    assert span_ids(Path(receiver.app.spool.directory)) == ["02" * 8]


# --------------------------------------------------------------------------- JSON bodies
@pytest.mark.parametrize("gzipped", [False, True])
def test_json_body_as_the_collector_sends_it(receiver: ReceiverServer, gzipped: bool) -> None:
    body = PROTO_EXAMPLE.read_bytes()
    extra = {"Content-Encoding": "gzip"} if gzipped else {}
    status, headers, answer = post(receiver.url, gzip.compress(body) if gzipped else body,
                                   **extra)
    assert (status, headers["content-type"], json.loads(answer)) == (200, JSON, {})
    (line,) = written_lines(Path(receiver.app.spool.directory))
    span = line["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert (span["traceId"], span["spanId"], span["name"]) == (
        "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174", "I'm a server span")


def test_json_partial_success_names_what_was_rejected(receiver: ReceiverServer) -> None:
    request = json_request(3)
    request["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["spanId"] = "not-hex"
    status, _headers, answer = post(receiver.url, json.dumps(request).encode())
    assert status == 200
    assert json.loads(answer) == {"partialSuccess": {
        "rejectedSpans": "1",
        "errorMessage": "a span has an invalid spanId (want 16 hex digits, not all zero)"}}
    assert span_ids(Path(receiver.app.spool.directory)) == [f"{1:016x}", f"{3:016x}"]


# --------------------------------------------------------------------------- refusals
@pytest.mark.parametrize(("body", "content_type", "headers", "status", "message"), [
    (b"{not json", JSON, {}, 400, "the JSON body does not parse"),
    (b"\xff\xff\xff", PROTOBUF, {}, 400, "the protobuf body is not an ExportTraceServiceRequest"),
    (b'{"resourceSpans": 3}', JSON, {}, 400, "resourceSpans is not a list"),
    (b"not gzip", JSON, {"Content-Encoding": "gzip"}, 400, "the gzip body cannot be"),
    (b"{}", "text/plain", {}, 415, "send application/x-protobuf or application/json"),
    (b"{}", JSON, {"Content-Encoding": "br"}, 415, "content encoding 'br' is not supported"),
])
def test_bad_requests_get_their_status_and_write_nothing(
        receiver: ReceiverServer, body: bytes, content_type: str, headers: dict[str, str],
        status: int, message: str) -> None:
    got, answer_headers, answer = post(receiver.url, body, content_type, **headers)
    assert got == status
    if answer_headers["content-type"] == PROTOBUF:
        text = Status.FromString(answer).message
    else:
        text = json.loads(answer)["message"]
    assert text.startswith(message)
    assert not list(Path(receiver.app.spool.directory).glob("trace*.jsonl"))


def test_oversized_bodies_are_413_raw_and_inflated(tmp_path: Path) -> None:
    limits = ReceiverLimits(max_body_bytes=4096)
    server = ReceiverServer(OtlpReceiver(SpanSpool(tmp_path), limits=limits), "127.0.0.1", 0)
    server.start()
    try:
        big = json.dumps(json_request(100)).encode()
        assert len(big) > 4096
        assert post(server.url, big)[0] == 413
        bomb = gzip.compress(b'{"resourceSpans": []' + b" " * 100_000 + b"}")
        assert len(bomb) < 4096
        status, _h, answer = post(server.url, bomb, **{"Content-Encoding": "gzip"})
        assert (status, json.loads(answer)["message"]) == (
            413, "the body inflates to more than 4096 bytes")
        assert post(server.url, json.dumps(json_request(2)).encode())[0] == 200
    finally:
        server.stop()
    assert len(span_ids(tmp_path)) == 2


def test_token_is_checked_on_every_request(tmp_path: Path) -> None:
    server = ReceiverServer(OtlpReceiver(SpanSpool(tmp_path), token="s3cret"), "127.0.0.1", 0)
    server.start()
    try:
        body = json.dumps(json_request(1)).encode()
        assert post(server.url, body)[0] == 401
        assert post(server.url, body, Authorization="Bearer wrong")[0] == 401
        status, headers, _ = post(server.url, body, Authorization="Basic s3cret")
        assert (status, headers["www-authenticate"]) == (401, "Bearer")
        assert not span_ids(tmp_path)
        assert post(server.url, body, Authorization="Bearer s3cret")[0] == 200
    finally:
        server.stop()
    assert len(span_ids(tmp_path)) == 1


def test_over_the_rate_is_429_with_retry_after(tmp_path: Path) -> None:
    limits = ReceiverLimits(max_spans_per_second=10)
    server = ReceiverServer(OtlpReceiver(SpanSpool(tmp_path), limits=limits), "127.0.0.1", 0)
    server.start()
    try:
        assert post(server.url, json.dumps(json_request(10)).encode())[0] == 200
        status, headers, _ = post(server.url, json.dumps(json_request(5, start=10)).encode())
        assert status == 429 and int(headers["retry-after"]) >= 1
    finally:
        server.stop()
    assert len(span_ids(tmp_path)) == 10


def test_backlog_full_is_503_with_retry_after(tmp_path: Path) -> None:
    spool = SpanSpool(tmp_path)
    release, entered = threading.Event(), threading.Event()
    real_append = spool.append

    def slow_append(batch: Any) -> Any:
        entered.set()
        release.wait(10)
        return real_append(batch)

    spool.append = slow_append  # type: ignore[method-assign]
    server = ReceiverServer(OtlpReceiver(spool, limits=ReceiverLimits(max_pending=1)),
                            "127.0.0.1", 0)
    server.start()
    try:
        first: list[int] = []
        worker = threading.Thread(target=lambda: first.append(
            post(server.url, json.dumps(json_request(1)).encode())[0]))
        worker.start()
        assert entered.wait(10)
        status, headers, _ = post(server.url, json.dumps(json_request(1, start=5)).encode())
        assert (status, headers["retry-after"]) == (503, "1")
        release.set()
        worker.join(10)
        assert first == [200]
    finally:
        release.set()
        server.stop()
    assert span_ids(tmp_path) == [f"{1:016x}"]


def test_other_paths_and_methods(receiver: ReceiverServer) -> None:
    base = receiver.url.removesuffix("/v1/traces")
    assert post(base + "/v1/metrics", b"{}")[0] == 404
    request = urllib.request.Request(receiver.url, method="GET")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 405


# --------------------------------------------------------------------------- files
def test_split_by_service_keeps_file_names_inside_the_folder(tmp_path: Path) -> None:
    from trace_tui.core.receive.decode import decode_export

    request = json_request(2)
    request["resourceSpans"].append({**json_request(1, trace=2)["resourceSpans"][0]})
    request["resourceSpans"][1]["resource"] = {"attributes": [
        {"key": "service.name", "value": {"stringValue": "../../etc/\x1b]0;evil"}}]}
    with SpanSpool(tmp_path, split="service", clock=lambda: 0.0) as spool:
        spool.append(decode_export(json.dumps(request).encode(), JSON, None, 1 << 20))
    names = sorted(p.name for p in tmp_path.glob("traces-*"))
    assert names[0] == "traces-agent-1970-01-01.jsonl"
    assert names[1].startswith("traces-etc_0_evil-") and "/" not in names[1]
    assert all(p.parent == tmp_path for p in tmp_path.iterdir())


def test_rotation_loses_no_line(tmp_path: Path) -> None:
    from trace_tui.core.receive.decode import decode_export

    with SpanSpool(tmp_path, max_file_bytes=3000) as spool:
        for n in range(30):
            body = json.dumps(json_request(3, start=n * 3)).encode()
            spool.append(decode_export(body, JSON, None, 1 << 20))
        assert spool.stats.rotations >= 5
        assert spool.stats.traces == {}  # a day spool keeps no per-trace list (a fleet's
        # receiver would grow it with every trace id); only the live view's trace spool does
    ids = span_ids(tmp_path)
    assert sorted(ids) == [f"{i:016x}" for i in range(1, 91)]
    assert all(p.stat().st_size <= 3000 for p in tmp_path.glob("traces-*.jsonl"))


def test_a_second_receiver_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    from trace_tui.core.receive.spool import SpoolBusy

    with SpanSpool(tmp_path), pytest.raises(SpoolBusy):
        SpanSpool(tmp_path)


def test_a_line_cut_by_a_crash_is_cut_off_when_the_folder_is_reopened(tmp_path: Path) -> None:
    from trace_tui.core.receive.decode import decode_export

    body = json.dumps(json_request(2)).encode()
    with SpanSpool(tmp_path, clock=lambda: 0.0) as spool:
        (path,) = spool.append(decode_export(body, JSON, None, 1 << 20))
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"resourceSpans":[{"scopeSp')  # the crash, mid-write
    with SpanSpool(tmp_path, clock=lambda: 0.0) as spool:
        spool.append(decode_export(json.dumps(json_request(1, start=7)).encode(), JSON, None,
                                   1 << 20))
    assert span_ids(tmp_path) == [f"{1:016x}", f"{2:016x}", f"{8:016x}"]


# --------------------------------------------------------------------------- command line
def test_non_loopback_without_token_is_refused(tmp_path: Path, capsys: Any) -> None:
    from trace_tui.cli import main

    assert main(["receive", "--listen", "0.0.0.0:0", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        "trace-tui: listening on 0.0.0.0 (not loopback) needs --token or --token-env, "
        "so only your exporters can write here")
    assert not list(tmp_path.iterdir())


def test_kill_9_during_a_flood_keeps_every_acknowledged_span(tmp_path: Path) -> None:
    """Exporters flood a receiver process; it is killed with SIGKILL mid-flood. Every span
    whose request was answered 200 is in the files exactly once, and the files read cleanly."""
    import signal
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "trace_tui", "receive", "--listen", f"127.0.0.1:{port}",
         "--out", str(out)], stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/v1/traces"
    try:
        eventually(lambda: _accepts(port), what="the receiver listening")
    except AssertionError:
        process.kill()
        raise
    acked: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def flood(client: int) -> None:
        for batch in range(400):
            if stop.is_set():
                return
            start = (client * 1000 + batch) * 50
            try:
                status, _h, _b = post(url, json.dumps(json_request(50, trace=client + 1,
                                                                   start=start)).encode())
            except OSError:
                return
            if status == 200:
                with lock:
                    acked.extend(f"{start + i + 1:016x}" for i in range(50))

    clients = [threading.Thread(target=flood, args=(n,)) for n in range(4)]
    for client in clients:
        client.start()
    try:
        eventually(lambda: len(acked) >= 2000, what="2000 spans acknowledged")
    finally:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    stop.set()
    for client in clients:
        client.join(10)
    assert len(acked) >= 2000
    (path,) = out.glob("traces-*.jsonl")
    lines = path.read_bytes().split(b"\n")
    whole = [json.loads(line) for line in lines[:-1]]  # a cut last line may follow
    ids = [span["spanId"] for line in whole for resource in line["resourceSpans"]
           for scope in resource["scopeSpans"] for span in scope["spans"]]
    assert len(ids) == len(set(ids))
    assert set(acked) <= set(ids)
    run = open_run(path)
    assert len(run.steps) == len(ids)


# --------------------------------------------------------------------------- live view
def _spool_with_traces(folder: Path, traces: int) -> SpanSpool:
    from trace_tui.core.receive.decode import decode_export

    spool = SpanSpool(folder, split="trace")
    for trace in range(1, traces + 1):
        request = json_request(3, trace=trace, start=trace * 10)
        spans = request["resourceSpans"][0]["scopeSpans"][0]["spans"]
        for child in spans[1:]:
            child["parentSpanId"] = spans[0]["spanId"]
        spans[0]["name"] = f"agent \x1b]0;pwned\x07 run {trace}"
        spans[2]["status"] = {"code": 2, "message": "tool failed"}
        spool.append(decode_export(json.dumps(request).encode(), JSON, None, 1 << 20))
    return spool


@pytest.fixture
def anyio_backend() -> str:
    """Pilot runs on asyncio."""
    return "asyncio"


@pytest.mark.anyio
async def test_run_picker_lists_runs_safely_and_opens_the_chosen_one(tmp_path: Path) -> None:
    from textual.widgets import DataTable

    from trace_tui.tui.run_picker import RunPickerApp

    spool = _spool_with_traces(tmp_path, 3)
    server = ReceiverServer(OtlpReceiver(spool), "127.0.0.1", 0)
    try:
        app = RunPickerApp(server, spool, auto_open=True)
        async with app.run_test(size=(100, 20)) as pilot:
            table = app.query_one(DataTable)
            assert table.row_count == 3  # three runs: no auto-open, the user picks
            rows = [[str(cell) for cell in table.get_row_at(r)] for r in range(3)]
            assert sorted(row[1] for row in rows) == [
                f"agent ␛]0;pwned␇ run {n}" for n in (1, 2, 3)]
            assert {(row[2], row[3]) for row in rows} == {("3", "1")}
            await pilot.press("down", "enter")
        chosen = rows[1][6]  # the first 16 hex digits of the second row's trace id
        assert app.return_value is not None
        assert app.return_value.parent == tmp_path
        assert app.return_value.name.startswith(f"trace-{chosen}")
    finally:
        server.socket.close()
        spool.close()


@pytest.mark.anyio
async def test_one_run_opens_by_itself_and_shows_every_span(tmp_path: Path) -> None:
    from trace_tui.tui.app import build_app
    from trace_tui.tui.run_picker import RunPickerApp

    spool = _spool_with_traces(tmp_path, 1)
    server = ReceiverServer(OtlpReceiver(spool), "127.0.0.1", 0)
    try:
        picker = RunPickerApp(server, spool, auto_open=True)
        async with picker.run_test(size=(100, 20)):
            pass
        assert picker.return_value == tmp_path / f"trace-{1:032x}.jsonl"
        debugger = build_app(picker.return_value, follow=True, format_name="otlp-jsonl")
        async with debugger.run_test(size=(120, 30)) as pilot:
            # the reader follows the file: wait for the three spans
            await eventually_async(lambda: debugger.debugger.count >= 3, pilot.pause)
            assert debugger.debugger.count == 3
    finally:
        server.socket.close()
        spool.close()


def _accepts(port: int) -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
