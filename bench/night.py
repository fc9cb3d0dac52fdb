"""Generate a realistic night of agent runs for ``trace-tui triage``: tests and benchmark.

Thousands of runs of a support agent across five tasks, written as native traces and as
OpenTelemetry Collector file-exporter dumps (OTLP JSON lines), with failure kinds injected at
known rates. A manifest (``manifest.json``) names every run's injected kind and the 0-based
step of its fault, so a test can check that triage finds each kind as its own group with the
exact count, and that the divergence step it reports is near the fault.

    python -m bench.night OUT_DIR [--runs 4000] [--seed 7] [--pad BYTES]

Runs are written under ``OUT_DIR/runs``. ``--pad`` adds filler text to every model call's
input (a long conversation), to reach a
target size for the benchmark (10,000 runs of ~100 KB ≈ 1 GB). The policy that makes the
``policy_blocked`` kind visible is written next to the runs as ``policy.yaml``.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Injected kinds and their share of the night (the rest complete cleanly).
RATES = {
    "tool_error": 0.08,
    "loop": 0.05,
    "empty_retrieval": 0.04,
    "context_overflow": 0.03,
    "model_refusal": 0.02,
    "cut_short": 0.02,
    "policy_blocked": 0.03,
}
#: Which task each kind happens in (its successful runs are the kind's siblings).
TASK_OF = {"tool_error": "discount", "loop": "shipment", "empty_retrieval": "refund",
           "context_overflow": "long_chat", "model_refusal": "sensitive",
           "cut_short": "discount", "policy_blocked": "order_lookup"}
TASKS = ("discount", "shipment", "refund", "long_chat", "sensitive", "order_lookup")
POLICY = """version: "2.0"
name: night
schemas:
  lookup_order:
    type: object
    required: [order_number, user_id]
"""
VERSION = "support-agent 2026.12.1"
NIGHT_START = 1_796_169_600.0  # 2026-12-02 00:00 UTC


@dataclass
class RunWriter:
    """Builds one run's native records."""

    run_id: str
    start: float
    model: str
    records: list[dict[str, Any]] = field(default_factory=list)
    clock: float = 0.0
    count: int = 0
    pad: str = ""

    def __post_init__(self) -> None:
        self.clock = self.start

    def _iso(self, t: float) -> str:
        import datetime as dt

        return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def span(self, kind: str, name: str, attributes: dict[str, Any], *, status: str = "ok",
             error: str | None = None, parent: str | None = "root", seconds: float = 0.4
             ) -> str:
        self.count += 1
        span_id = f"{self.run_id}-{self.count:03d}"
        begin = self.clock
        self.clock += seconds
        self.records.append({
            "type": "span", "span_id": span_id, "parent_id": parent, "kind": kind,
            "name": name, "start_time": self._iso(begin), "end_time": self._iso(self.clock),
            "status": status, "error": error, "attributes": attributes})
        return span_id

    def llm(self, messages: list[dict[str, Any]], answer: str | None = None,
            call: tuple[str, dict[str, Any]] | None = None, *, system: bool = True,
            finish: str = "stop", truncated: bool = False, tokens: int = 400) -> None:
        out: dict[str, Any] = {"role": "assistant", "content": answer}
        if call is not None:
            out["tool_calls"] = [{"id": f"call_{self.count + 1}", "name": call[0],
                                  "arguments": call[1]}]
            finish = "tool_calls"
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat", "gen_ai.request.model": self.model,
            "gen_ai.input.messages": ([{"role": "user", "content": self.pad}]
                                      if self.pad else []) + messages,
            "gen_ai.output.messages": [out],
            "gen_ai.response.finish_reasons": [finish],
            "gen_ai.usage.input_tokens": tokens, "gen_ai.usage.output_tokens": 30,
        }
        if system:
            attributes["gen_ai.system_instructions"] = "You are Acme's support agent."
        if truncated:
            attributes["trace_tui.context.truncated"] = True
        self.span("llm", f"chat {self.model}", attributes, seconds=0.8)

    def tool(self, name: str, arguments: dict[str, Any], result: Any, *,
             error: str | None = None) -> None:
        attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name,
                      "gen_ai.tool.call.id": f"call_{self.count}",
                      "gen_ai.tool.call.arguments": arguments, "gen_ai.tool.call.result": result}
        self.span("tool", name, attributes, status="error" if error else "ok", error=error,
                  seconds=0.15)

    def retrieval(self, query: str, documents: list[dict[str, Any]]) -> None:
        self.span("retrieval", "search_policies", {
            "gen_ai.operation.name": "retrieval", "gen_ai.retrieval.query.text": query,
            "gen_ai.retrieval.documents": documents}, seconds=0.3)


def _user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def build_run(task: str, kind: str, number: int, rng: random.Random, start: float,
              pad: str) -> tuple[list[dict[str, Any]], int | None, bool]:
    """The records of one run, the fault's 0-based step (None: no fault), and whether the file
    must end cut short."""
    models = {"discount": "gpt-4o-2024-08-06", "shipment": "claude-sonnet-4-5",
              "refund": "gpt-4o-2024-08-06", "long_chat": "gpt-4o-mini-2024-07-18",
              "sensitive": "gpt-4o-2024-08-06", "order_lookup": "gpt-4o-mini-2024-07-18"}
    w = RunWriter(f"r{number:05d}", start, models[task], pad=pad)
    customer = f"C-{rng.randint(100, 999)}"
    order = f"A-{rng.randint(1000, 9999)}"
    names = {"discount": f"support agent: loyalty discount on order {order}",
             "shipment": f"support agent: track shipment TRK-{rng.randint(10, 99)}",
             "refund": "support agent: refund for opened headphones",
             "long_chat": "support agent: sync failures, long conversation",
             "sensitive": "support agent: account recovery",
             "order_lookup": f"support agent: where is my order {rng.randint(1000, 9999)}"}
    header = {"type": "run", "schema_version": 1, "run_id": w.run_id, "name": names[task],
              "started_at": w._iso(start), "environment": {"agent_version": VERSION}}
    w.records.append({"type": "span", "span_id": "root", "parent_id": None, "kind": "agent",
                      "name": "support_agent", "start_time": w._iso(start),
                      "attributes": {"gen_ai.operation.name": "invoke_agent",
                                     "gen_ai.agent.name": "support_agent"}})
    w.count = 0
    fault: int | None = None
    cut = False
    ask = _user(names[task].split(": ", 1)[1])
    if task == "discount":
        w.llm(ask, call=("get_customer", {"customer_id": customer}))
        w.tool("get_customer", {"customer_id": customer}, {"customer_id": customer, "tier": "gold"})
        w.llm(ask, call=("get_loyalty_discount", {"customer_id": customer}))
        pct = rng.choice((35, 40, 45)) if kind == "tool_error" else rng.choice((10, 15))
        w.tool("get_loyalty_discount", {"customer_id": customer}, {"discount_pct": pct})
        if kind == "cut_short":
            fault = w.count  # the run stops here: the file ends mid-run
            cut = True
        else:
            w.llm(ask, call=("apply_discount", {"order_id": order, "percent": pct}))
            if kind == "tool_error":
                fault = w.count + 1
                w.tool("apply_discount", {"order_id": order, "percent": pct},
                       {"error": "over cap"},
                       error=f"ToolError: {pct}% exceeds the business cap of 20%")
                w.llm(ask, f"Sorry, I could not apply {pct}%.")
            else:
                w.tool("apply_discount", {"order_id": order, "percent": pct}, {"applied": True})
                w.llm(ask, f"Done: {pct}% off order {order}.")
    elif task == "shipment":
        tracking = {"tracking_id": "TRK-88"}
        w.llm(ask, call=("check_shipment_status", tracking))
        if kind == "loop":
            fault = w.count + 1
            for _ in range(6):
                w.tool("check_shipment_status", tracking, {"status": "pending"})
                w.llm(ask, call=("check_shipment_status", tracking))
        else:
            w.tool("check_shipment_status", tracking, {"status": "delivered"})
            w.llm(ask, "Your parcel was delivered this morning.")
    elif task == "refund":
        w.llm(ask, call=("search_policies", {"query": "refund opened electronics"}))
        documents = [] if kind == "empty_retrieval" else [
            {"id": "POL-7", "score": 0.82, "content": "Opened electronics: 14-day refund."}]
        if kind == "empty_retrieval":
            fault = w.count + 1
        w.retrieval("refund opened electronics", documents)
        w.llm(ask, "Opened headphones can be refunded within 14 days."
              if documents else "Yes! Our 30-day no-questions-asked policy covers it.")
    elif task == "long_chat":
        for turn in range(5):
            evicted = kind == "context_overflow" and turn == 3
            if evicted and fault is None:
                fault = w.count + 1
            w.llm(_user(f"log part {turn}"), f"Thanks, part {turn} noted.",
                  system=not (kind == "context_overflow" and turn >= 3), truncated=evicted,
                  tokens=1500 * (turn + 1))
    elif task == "sensitive":
        if kind == "model_refusal":
            fault = w.count + 1
            w.llm(ask, None, finish="content_filter")
        else:
            w.llm(ask, "I've sent a recovery link to your e-mail address.")
    elif task == "order_lookup":
        arguments: dict[str, Any] = {"order_number": "1042"}
        if kind != "policy_blocked":
            arguments["user_id"] = "u-1001"
        else:
            fault = w.count + 2
        w.llm(ask, call=("lookup_order", arguments))
        w.tool("lookup_order", arguments, {"status": "delivered"})
        w.llm(ask, "Order 1042 was delivered yesterday.")
    if not cut:
        root = w.records[0]
        root["end_time"] = w._iso(w.clock)
        root["status"] = "ok"
    else:
        root = w.records[0]
        root["type"] = "span_start"
    return [header, *w.records], fault, cut


def to_otlp(records: list[dict[str, Any]], service: str) -> list[dict[str, Any]]:
    """The same run as OTLP JSON lines (one export request per span, as a Collector writes)."""
    trace_id = f"{abs(hash(records[0]['run_id'])) % (1 << 120):032x}"
    ids: dict[str, str] = {}
    lines = []
    for record in records[1:]:
        ids[record["span_id"]] = f"{len(ids) + 1:016x}"
    for record in records[1:]:
        attributes = [{"key": key, "value": _otlp_value(value)}
                      for key, value in record["attributes"].items()]
        span: dict[str, Any] = {
            "traceId": trace_id, "spanId": ids[record["span_id"]], "name": record["name"],
            "kind": 1, "startTimeUnixNano": str(_nanos(record["start_time"])),
            "attributes": attributes}
        if record.get("end_time"):
            span["endTimeUnixNano"] = str(_nanos(record["end_time"]))
        if record.get("parent_id"):
            span["parentSpanId"] = ids[record["parent_id"]]
        if record.get("status") == "error":
            span["status"] = {"code": 2, "message": record.get("error") or ""}
        lines.append({"resourceSpans": [{
            "resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": service}},
                {"key": "service.version", "value": {"stringValue": VERSION}}]},
            "scopeSpans": [{"scope": {"name": "night"}, "spans": [span]}]}]})
    root = lines.pop(0)
    lines.append(root)  # the Collector writes the root when it ends: last
    return lines


def _otlp_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, str):
        return {"stringValue": value}
    return {"stringValue": json.dumps(value)}


def _nanos(iso: str) -> int:
    import datetime as dt

    moment = dt.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000) * 1_000_000


def generate(out: Path, runs: int, seed: int = 7, pad: int = 0,
             otlp_share: float = 0.3) -> dict[str, Any]:
    """Write ``runs`` runs under ``out`` and return the manifest (also written)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    (out / "policy.yaml").write_text(POLICY)
    line = "Log line: upload worker restarted after timeout; retry scheduled. "
    filler = (line * (pad // len(line) + 1))[:pad]
    kinds = [k for k, rate in RATES.items() for _ in range(round(rate * runs))]
    kinds += ["completed"] * (runs - len(kinds))
    rng.shuffle(kinds)
    manifest: dict[str, Any] = {"runs": {}, "counts": {}}
    for number, kind in enumerate(kinds):
        task = TASK_OF.get(kind) or rng.choice(TASKS)
        start = NIGHT_START + number * (6 * 3600 / runs)
        records, fault, cut = build_run(task, kind, number, rng, start, filler)
        # OTLP carries everything but retrieval documents, refusals and cut lines faithfully
        otlp = kind in ("completed", "tool_error", "loop") and rng.random() < otlp_share
        folder = out / "runs" / ("collector" if otlp else "native") / f"{number % 20:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"run-{number:05d}.jsonl"
        lines = to_otlp(records, "support-agent") if otlp else records
        data = "".join(json.dumps(line) + "\n" for line in lines)
        if cut:
            data += data.splitlines()[-1][:40]  # the writer died mid-line
        path.write_text(data)
        relative = str(path.relative_to(out))
        manifest["runs"][relative] = {"kind": kind, "task": task, "fault": fault,
                                      "format": "otlp-jsonl" if otlp else "native"}
        manifest["counts"][kind] = manifest["counts"].get(kind, 0) + 1
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--runs", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pad", type=int, default=0, help="filler bytes per model call")
    args = parser.parse_args()
    manifest = generate(args.out, args.runs, args.seed, args.pad)
    print(json.dumps(manifest["counts"], indent=1))


if __name__ == "__main__":
    main()
