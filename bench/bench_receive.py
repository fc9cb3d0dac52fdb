"""Benchmark ``trace-tui receive``: spans per second from concurrent exporters, and latency.

Starts ``trace-tui receive`` in its own process on a free loopback port, then 20 exporter
threads (in this process) each send OTLP/HTTP protobuf export requests of 512 GenAI spans (the
OpenTelemetry SDK's default batch size), built with the official protobuf classes, over
keep-alive connections for a fixed time. Prints spans/s accepted and the p50/p99 request
latency, and writes the numbers as JSON to ``bench/out/receive.json``.

    python -m bench.bench_receive [--clients 20] [--seconds 10] [--batch 512] [--gzip]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue


def export_request(client: int, batch: int) -> bytes:
    """One ExportTraceServiceRequest of ``batch`` GenAI chat spans (about 600 bytes each)."""
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.append(KeyValue(key="service.name"))
    resource.resource.attributes[0].value.string_value = f"agent-{client}"
    spans = resource.scope_spans.add()
    spans.scope.name = "bench"
    for n in range(batch):
        span = spans.spans.add()
        span.trace_id = (client * 1_000_003 + n // 16 + 1).to_bytes(16, "big")
        span.span_id = (client * 10_000_019 + n + 1).to_bytes(8, "big")
        span.name = "chat gpt-4o"
        span.kind = 3
        span.start_time_unix_nano = 1_700_000_000_000_000_000 + n
        span.end_time_unix_nano = 1_700_000_000_500_000_000 + n
        for key, value in (
            ("gen_ai.operation.name", "chat"),
            ("gen_ai.request.model", "gpt-4o"),
            ("gen_ai.response.id", f"chatcmpl-{client}-{n}"),
            (
                "gen_ai.input.messages",
                '[{"role":"user","parts":[{"type":"text","content":"where is my '
                'order A-2291? It was due on Monday and has not arrived."}]}]',
            ),
        ):
            span.attributes.append(KeyValue(key=key))
            span.attributes[-1].value.string_value = value
        for key, number in (("gen_ai.usage.input_tokens", 812), ("gen_ai.usage.output_tokens", 64)):
            span.attributes.append(KeyValue(key=key))
            span.attributes[-1].value.int_value = number
    return request.SerializeToString()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args()
    port = free_port()
    out = Path(tempfile.mkdtemp(prefix="bench-receive-"))
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "trace_tui",
            "receive",
            "--listen",
            f"127.0.0.1:{port}",
            "--out",
            str(out),
        ],
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("the receiver did not start") from None
            time.sleep(0.05)
    bodies = [export_request(c, args.batch) for c in range(args.clients)]
    if args.gzip:
        bodies = [gzip.compress(b) for b in bodies]
    headers = {"Content-Type": "application/x-protobuf"}
    if args.gzip:
        headers["Content-Encoding"] = "gzip"
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start = time.monotonic()
    stop_at = start + args.seconds

    def exporter(client: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        codes: dict[int, int] = {}
        while time.monotonic() < stop_at:
            sent = time.perf_counter()
            connection.request("POST", "/v1/traces", bodies[client], headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - sent)
            codes[response.status] = codes.get(response.status, 0) + 1
        connection.close()
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=exporter, args=(c,)) for c in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    server.terminate()
    server.wait(10)
    written = sum(p.stat().st_size for p in out.glob("traces-*.jsonl"))
    latencies.sort()
    accepted = statuses.get(200, 0) * args.batch
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "load": os.getloadavg()[0],
        "clients": args.clients,
        "batch": args.batch,
        "gzip": args.gzip,
        "seconds": round(elapsed, 2),
        "requests": len(latencies),
        "statuses": statuses,
        "spans_per_second": round(accepted / elapsed),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "written_mb": round(written / 1e6, 1),
    }
    print(json.dumps(result, indent=2))
    target = Path(__file__).parent / "out" / "receive.json"
    target.parent.mkdir(exist_ok=True)
    target.write_text(json.dumps(result, indent=2))
    for path in out.iterdir():
        path.unlink()
    out.rmdir()


if __name__ == "__main__":
    main()
