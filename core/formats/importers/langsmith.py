"""LangSmith run exports: ``{"runs": [...]}``, a JSON array of runs, or one run per line.

Each run is a step under ``parent_run_id``, in ``dotted_order`` (which sorts a trace into tree
order). ``run_type`` gives the kind: ``llm`` → ``llm``, ``tool`` → ``tool``, ``chain`` →
``agent``, ``retriever`` → ``retrieval``, others → ``other``. LLM runs take their messages from
``inputs.messages`` / ``outputs`` (LangChain messages), the model and parameters from
``extra.invocation_params`` and ``extra.metadata.ls_*``, and usage from the run's
``prompt_tokens`` / ``completion_tokens`` (chain runs repeat their children's totals, which are
kept as attributes but not counted). ``status: error`` (or an ``error``) makes a step an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from trace_tui.core.formats.base import Head, TraceFormat
from trace_tui.core.formats.shared.coerce import model_parameters
from trace_tui.core.formats.shared.common import (
    as_dict,
    first,
    json_or_text,
    problem,
    span,
    span_start,
    usage_attributes,
)
from trace_tui.core.formats.shared.documents import load_document
from trace_tui.core.formats.shared.messages import normalize_messages, split_system
from trace_tui.core.formats.shared.sniff import doc_shape

_KINDS = {"llm": "llm", "tool": "tool", "chain": "agent", "retriever": "retrieval"}
_TOKEN_KEYS = (
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "total_cost",
    "prompt_cost",
    "completion_cost",
)


def run_step(run: dict[str, Any]) -> dict[str, Any]:
    """One native record for a LangSmith run (``span_start`` while it is pending)."""
    kind = _KINDS.get(str(run.get("run_type")), "other")
    extra = as_dict(run.get("extra"))
    attrs: dict[str, Any] = {
        "langsmith.run_type": run.get("run_type"),
        "langsmith.dotted_order": run.get("dotted_order"),
        **{f"langsmith.{k}": run.get(k) for k in _TOKEN_KEYS if kind != "llm"},
    }
    if kind == "llm":
        attrs.update(_llm(run, extra))
    elif kind == "tool":
        attrs.update(_tool(run))
    else:
        attrs["langsmith.inputs"] = run.get("inputs")
        attrs["langsmith.outputs"] = run.get("outputs")
    parent = run.get("parent_run_id")
    parent_id = f"ls-{parent}" if parent else None
    step_id = f"ls-{run.get('id')}"
    name = str(run.get("name") or run.get("run_type") or "run")
    if run.get("status") == "pending" and not run.get("end_time"):
        return span_start(
            step_id,
            kind,
            name,
            parent_id=parent_id,
            start=run.get("start_time"),
            attributes=attrs,
            source=run,
        )
    error = run.get("error") or ("error" if run.get("status") == "error" else None)
    return span(
        step_id,
        kind,
        name,
        parent_id=parent_id,
        start=run.get("start_time"),
        end=run.get("end_time"),
        error=error,
        attributes=attrs,
        source=run,
    )


def _llm(run: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    meta = as_dict(extra.get("metadata"))
    params = as_dict(extra.get("invocation_params"))
    runtime = as_dict(extra.get("runtime"))
    model = first(
        params.get("model"),
        params.get("model_name"),
        meta.get("ls_model_name"),
        runtime.get("model"),
    )
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": model,
        "gen_ai.provider.name": meta.get("ls_provider"),
        **model_parameters(params),
        **usage_attributes(
            run.get("prompt_tokens"), run.get("completion_tokens"), input_includes_cache=True
        ),
    }
    if "temperature" not in params and meta.get("ls_temperature") is not None:
        attrs.update(model_parameters({"temperature": meta["ls_temperature"]}))
    inputs = as_dict(run.get("inputs"))
    messages = inputs.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], list):
        messages = messages[0]
    if messages is not None:
        system, rest = split_system(normalize_messages(messages))
        attrs["gen_ai.input.messages"] = rest
        attrs["gen_ai.system_instructions"] = system
    outputs = as_dict(run.get("outputs"))
    generations = outputs.get("generations")
    if isinstance(generations, list) and generations:
        first_gen = (
            generations[0][0]
            if isinstance(generations[0], list) and generations[0]
            else generations[0]
        )
        message = first_gen.get("message") if isinstance(first_gen, dict) else None
        attrs["gen_ai.output.messages"] = normalize_messages(
            [message]
            if message
            else [{"role": "assistant", "content": (first_gen or {}).get("text")}]
        )
    elif isinstance(outputs.get("messages"), list) or isinstance(outputs.get("message"), dict):
        attrs["gen_ai.output.messages"] = normalize_messages(
            outputs.get("messages") or [outputs["message"]]
        )
    return attrs


def _tool(run: dict[str, Any]) -> dict[str, Any]:
    inputs = as_dict(run.get("inputs"))
    outputs = as_dict(run.get("outputs"))
    return {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": run.get("name"),
        "gen_ai.tool.call.id": inputs.get("tool_call_id"),
        "gen_ai.tool.call.arguments": json_or_text(inputs.get("input", inputs or None)),
        "gen_ai.tool.call.result": outputs.get("output", outputs or None),
    }


class LangSmithMapper:
    """One run per line (streams; children may come before parents, linked by id)."""

    def feed(self, record: dict[str, Any], *, offset: int, line: int) -> Iterable[dict[str, Any]]:
        """The run's record."""
        if "run_type" not in record:
            return [problem(f"line {line}: not a LangSmith run (no run_type); skipped")]
        return [run_step(record)]

    def finish(self) -> Iterable[dict[str, Any]]:
        """Nothing is held back."""
        return ()


def read_langsmith(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a run-list document, in ``dotted_order``."""
    doc, note = load_document(path)
    runs = doc.get("runs") if isinstance(doc, dict) else doc
    if not isinstance(runs, list):
        yield problem("the document holds no list of runs")
        runs = []
    good = [r for r in runs if isinstance(r, dict) and "run_type" in r]
    for run in sorted(
        good,
        key=lambda r: (
            str(r.get("trace_id") or ""),
            str(r.get("dotted_order") or ""),
            str(r.get("start_time") or ""),
        ),
    ):
        yield run_step(run)
    if len(good) < len(runs):
        yield problem(f"{len(runs) - len(good)} item(s) are not LangSmith runs; skipped")
    if note:
        yield problem(note)


def detect_langsmith(head: Head) -> bool:
    """A list of runs with ``run_type``: a JSON array or ``{"runs": [...]}``."""
    rec = head.first_record
    if (
        isinstance(rec, dict)
        and "run_type" in rec
        and ("dotted_order" in rec or "parent_run_id" in rec)
    ):
        return False  # one run per line: the JSON-lines format reads it
    shape = doc_shape(head.data)
    return any(shape.has(*prefix, "run_type") for prefix in (("runs", "[]"), ("[]",)))


def detect_langsmith_jsonl(head: Head) -> bool:
    """JSON lines whose first record is a LangSmith run."""
    rec = head.first_record
    return (
        isinstance(rec, dict)
        and "run_type" in rec
        and ("dotted_order" in rec or "parent_run_id" in rec)
    )


LANGSMITH = TraceFormat(
    name="langsmith",
    title="LangSmith run list ({runs: [...]} or a JSON array)",
    detect=detect_langsmith,
    read_document=read_langsmith,
)

LANGSMITH_JSONL = TraceFormat(
    name="langsmith-jsonl",
    title="LangSmith runs, one per line",
    detect=detect_langsmith_jsonl,
    mapper=LangSmithMapper,
)
