"""Writes the built-in sample traces (``python sample_traces/make_samples.py``).

Each sample is a replay-complete native trace (docs/trace-format.md) that tells one debugging
story; ``sample_traces/README.md`` tells them in two lines each. The files are committed; this
script is how they were made and how to remake them after a format change. Everything is
deterministic: fixed ids, fixed clock.

Conversation rule the samples follow (and replay relies on): the messages of model call *n* are
the messages of call *n-1*, then its answer, then one ``tool`` message per tool call answered,
whose ``content`` is the tool result as text (a string as-is, other JSON as ``json.dumps``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EPOCH = datetime(2026, 11, 2, 9, 30, 0, tzinfo=UTC)


def tool_content(result: Any) -> str:
    """The text of a tool message for a tool result (the rule replay follows too)."""
    return result if isinstance(result, str) else json.dumps(result, ensure_ascii=False)


class Story:
    """Builds one trace: an agent span holding model calls and tool calls, in order."""

    def __init__(
        self,
        slug: str,
        *,
        title: str,
        model: str,
        system: str,
        tools: list[dict[str, Any]],
        params: dict[str, Any],
        env: dict[str, Any],
        start_offset_s: float = 0.0,
        context_windows: dict[str, int] | None = None,
    ) -> None:
        self.slug, self.model, self.system, self.tools, self.params = (
            slug,
            model,
            system,
            tools,
            params,
        )
        self.clock = EPOCH + timedelta(seconds=start_offset_s)
        self.records: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.pending_tool_messages: list[dict[str, Any]] = []
        self.counter = 0
        self.provider = (
            "anthropic"
            if model.startswith("claude")
            else "openai"
            if model.startswith("gpt")
            else "self-hosted"
        )
        run: dict[str, Any] = {
            "type": "run",
            "schema_version": 1,
            "run_id": f"run-{slug}",
            "session_id": f"sess-{slug}",
            "trace_id": f"trace-{slug}",
            "name": title,
            "started_at": self.ts(),
            "environment": env,
        }
        if context_windows:
            run["context_windows"] = context_windows
        self.records.append(run)
        self.agent_id = self.new_id()
        self.records.append(
            {
                "type": "span_start",
                "span_id": self.agent_id,
                "parent_id": None,
                "kind": "agent",
                "name": "support_agent",
                "start_time": self.ts(),
                "attributes": {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "support_agent",
                },
            }
        )

    def new_id(self) -> str:
        self.counter += 1
        return f"{self.slug[:3]}-{self.counter:04d}"

    def ts(self) -> str:
        return self.clock.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def tick(self, seconds: float) -> None:
        self.clock += timedelta(seconds=seconds)

    def user(self, text: str) -> None:
        """The user says something (becomes part of the next model call's messages)."""
        self.messages.append({"role": "user", "content": text})

    def llm(
        self,
        *,
        content: str | None = None,
        calls: list[tuple[str, str, dict[str, Any]]] = (),
        usage: tuple[int, int, int],
        seconds: float,
        system: str | None | bool = True,
        truncate_to: int | None = None,
    ) -> list[str]:
        """A model call answering with ``content`` and/or tool ``calls`` (id, name, args).

        ``usage`` is (input tokens, output tokens, cache-read tokens). ``system=False`` drops the
        system prompt (evicted); ``truncate_to`` keeps only the last N messages first.
        """
        self.messages.extend(self.pending_tool_messages)
        self.pending_tool_messages = []
        attributes: dict[str, Any] = {}
        if truncate_to is not None:
            self.messages = self.messages[-truncate_to:]
            attributes["trace_tui.context.truncated"] = True
        span_id = self.new_id()
        self.tick(0.05)
        request: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": self.provider,
            "gen_ai.request.model": self.model,
            **{f"gen_ai.request.{k}": v for k, v in self.params.items()},
            "gen_ai.system_instructions": self.system if system else None,
            "gen_ai.input.messages": [dict(m) for m in self.messages],
            "gen_ai.tool.definitions": self.tools,
            **attributes,
        }
        if not system:
            del request["gen_ai.system_instructions"]
        self.records.append(
            {
                "type": "span_start",
                "span_id": span_id,
                "parent_id": self.agent_id,
                "kind": "llm",
                "name": f"chat {self.model}",
                "start_time": self.ts(),
                "attributes": request,
            }
        )
        self.tick(seconds)
        answer: dict[str, Any] = {"role": "assistant", "content": content}
        if calls:
            answer["tool_calls"] = [{"id": i, "name": n, "arguments": a} for i, n, a in calls]
        self.messages.append(answer)
        self.records.append(
            {
                "type": "span_end",
                "span_id": span_id,
                "end_time": self.ts(),
                "status": "ok",
                "attributes": {
                    "gen_ai.response.model": self.model,
                    "gen_ai.response.id": f"chatcmpl-{span_id}",
                    "gen_ai.output.messages": [answer],
                    "gen_ai.response.finish_reasons": ["tool_calls" if calls else "stop"],
                    "gen_ai.usage.input_tokens": usage[0],
                    "gen_ai.usage.output_tokens": usage[1],
                    "gen_ai.usage.cache_read.input_tokens": usage[2],
                },
            }
        )
        return [c[0] for c in calls]

    def tool(
        self,
        call_id: str,
        name: str,
        args: dict[str, Any],
        result: Any,
        *,
        seconds: float,
        error: str | None = None,
        kind: str = "tool",
        documents: list[dict[str, Any]] | None = None,
        query: str | None = None,
    ) -> None:
        """A tool (or retrieval) step answering the model's call ``call_id``."""
        self.tick(0.02)
        start = self.ts()
        self.tick(seconds)
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "retrieval" if kind == "retrieval" else "execute_tool",
            "gen_ai.tool.name": name,
            "gen_ai.tool.call.id": call_id,
            "gen_ai.tool.call.arguments": args,
            "gen_ai.tool.call.result": result,
        }
        if kind == "retrieval":
            attributes["gen_ai.retrieval.query.text"] = query
            attributes["gen_ai.retrieval.documents"] = documents or []
        self.records.append(
            {
                "type": "span",
                "span_id": self.new_id(),
                "parent_id": self.agent_id,
                "kind": kind,
                "name": name,
                "start_time": start,
                "end_time": self.ts(),
                "status": "error" if error else "ok",
                "error": {"type": "ToolError", "message": error} if error else None,
                "attributes": attributes,
            }
        )
        self.pending_tool_messages.append(
            {"role": "tool", "tool_call_id": call_id, "name": name, "content": tool_content(result)}
        )

    def finish(self, *, error: str | None = None) -> None:
        self.tick(0.03)
        self.records.append(
            {
                "type": "span_end",
                "span_id": self.agent_id,
                "end_time": self.ts(),
                "status": "error" if error else "ok",
                "error": {"type": "AgentError", "message": error} if error else None,
            }
        )

    def write(self) -> Path:
        path = HERE / f"{self.slug}.jsonl"
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            for rec in self.records:
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        return path


def fn(name: str, description: str, props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """A tool definition in the native shape."""
    return {
        "name": name,
        "description": description,
        "parameters": {"type": "object", "properties": props, "required": required},
    }


STR = {"type": "string"}
PARAMS = {"temperature": 0.0, "top_p": 1.0, "max_tokens": 1024, "seed": 7}


def discount_over_cap() -> Story:
    """A loyalty tool returns 35 %, over the 20 % business cap; apply_discount rejects it."""
    s = Story(
        "discount_over_cap",
        title="support agent: loyalty discount on order A-2291",
        model="gpt-4o-2024-08-06",
        system=(
            "You are Acme's support agent. You may apply the customer's loyalty discount to an "
            "open order. Discounts above 20% need a manager and must not be applied."
        ),
        tools=[
            fn("get_customer", "Look up a customer by id.", {"customer_id": STR}, ["customer_id"]),
            fn(
                "get_loyalty_discount",
                "Loyalty discount percentage for a customer.",
                {"customer_id": STR},
                ["customer_id"],
            ),
            fn(
                "apply_discount",
                "Apply a percentage discount to an open order.",
                {"order_id": STR, "percent": {"type": "number"}},
                ["order_id", "percent"],
            ),
        ],
        params=PARAMS,
        env={
            "agent_commit": "4e1d9a7",
            "feature_flags": {"loyalty_v2": True},
            "user_id": "u-1001",
            "tenant_id": "acme",
        },
    )
    s.user("Hi, I'm customer C-118. Can you apply my loyalty discount to order A-2291?")
    [c1] = s.llm(
        calls=[("call_cust", "get_customer", {"customer_id": "C-118"})],
        usage=(412, 21, 0),
        seconds=0.9,
    )
    s.tool(
        c1,
        "get_customer",
        {"customer_id": "C-118"},
        {
            "customer_id": "C-118",
            "name": "Priya Natarajan",
            "tier": "gold",
            "open_orders": ["A-2291"],
        },
        seconds=0.12,
    )
    [c2] = s.llm(
        calls=[("call_disc", "get_loyalty_discount", {"customer_id": "C-118"})],
        usage=(489, 24, 384),
        seconds=0.8,
    )
    s.tool(
        c2,
        "get_loyalty_discount",
        {"customer_id": "C-118"},
        {"customer_id": "C-118", "discount_pct": 35, "source": "loyalty_v2"},
        seconds=0.21,
    )
    [c3] = s.llm(
        calls=[("call_apply", "apply_discount", {"order_id": "A-2291", "percent": 35})],
        usage=(547, 29, 384),
        seconds=1.1,
    )
    s.tool(
        c3,
        "apply_discount",
        {"order_id": "A-2291", "percent": 35},
        {"error": "discount_exceeds_cap", "message": "35% exceeds the business cap of 20%"},
        seconds=0.09,
        error="35% exceeds the business cap of 20%",
    )
    s.llm(
        content=(
            "I'm sorry, I couldn't apply your discount: the system rejected 35%, which is above "
            "our 20% limit. I've flagged order A-2291 for a manager to review."
        ),
        usage=(618, 46, 512),
        seconds=1.4,
    )
    s.finish()
    return s


def order_lookup_missing_user_id() -> Story:
    """lookup_order is called without user_id and returns another customer's order."""
    s = Story(
        "order_lookup_missing_user_id",
        title="support agent: where is my order 1042",
        model="gpt-4o-mini-2024-07-18",
        system=(
            "You are Acme's support agent. Always pass the signed-in user's user_id to "
            "lookup_order. The signed-in user is u-1001 (Sam Ortiz)."
        ),
        tools=[
            fn(
                "lookup_order",
                "Find an order by number for a user.",
                {"order_number": STR, "user_id": STR},
                ["order_number", "user_id"],
            )
        ],
        params=PARAMS,
        env={"agent_commit": "4e1d9a7", "user_id": "u-1001", "tenant_id": "acme"},
        start_offset_s=3600,
    )
    s.user("Where is my order 1042? It was supposed to arrive yesterday.")
    [c1] = s.llm(
        calls=[("call_lookup", "lookup_order", {"order_number": "1042"})],
        usage=(356, 19, 0),
        seconds=0.7,
    )
    s.tool(
        c1,
        "lookup_order",
        {"order_number": "1042"},
        {
            "order_number": "1042",
            "user_id": "u-2291",
            "customer": "Dana Whitfield",
            "status": "delivered",
            "delivered_to": "14 Elm St, Springfield",
            "delivered_at": "2026-11-01T16:12:00Z",
        },
        seconds=0.18,
    )
    s.llm(
        content=(
            "Good news: order 1042 was delivered yesterday at 4:12 pm to 14 Elm St, "
            "Springfield. Could you check with your neighbours?"
        ),
        usage=(458, 38, 256),
        seconds=1.2,
    )
    s.finish()
    return s


def empty_retrieval_fabrication() -> Story:
    """The policy search returns zero documents and the model invents a refund policy."""
    s = Story(
        "empty_retrieval_fabrication",
        title="support agent: refund for opened headphones",
        model="gpt-4o-2024-08-06",
        system=(
            "You are Acme's support agent. Answer policy questions only from documents returned "
            "by search_policies, and cite them."
        ),
        tools=[
            fn("search_policies", "Search Acme's policy knowledge base.", {"query": STR}, ["query"])
        ],
        params=PARAMS,
        env={
            "agent_commit": "4e1d9a7",
            "feature_flags": {"kb_index": "2026-10"},
            "user_id": "u-3307",
            "tenant_id": "acme",
        },
        start_offset_s=7200,
    )
    s.user("I opened the headphones I bought last week and I don't like them. Can I get a refund?")
    query = "refund policy opened electronics"
    [c1] = s.llm(
        calls=[("call_kb", "search_policies", {"query": query})], usage=(377, 22, 0), seconds=0.8
    )
    s.tool(
        c1,
        "search_policies",
        {"query": query},
        {"documents": [], "index": "policies-2026-10"},
        seconds=0.34,
        kind="retrieval",
        query=query,
        documents=[],
    )
    s.llm(
        content=(
            "Yes! Under our 30-day no-questions-asked policy you can return opened electronics "
            "for a full refund, including headphones (Policy RP-7)."
        ),
        usage=(426, 41, 256),
        seconds=1.3,
    )
    s.finish()
    return s


def tool_loop_no_progress() -> Story:
    """The agent polls the same pending shipment until it hits its iteration limit."""
    s = Story(
        "tool_loop_no_progress",
        title="support agent: track shipment TRK-88",
        model="claude-sonnet-4-5",
        system="You are Acme's support agent. Use the tools to answer the customer.",
        tools=[
            fn(
                "check_shipment_status",
                "Current status of a shipment.",
                {"tracking_id": STR},
                ["tracking_id"],
            )
        ],
        params=PARAMS,
        env={"agent_commit": "b07c3e2", "user_id": "u-4410", "tenant_id": "acme"},
        start_offset_s=10800,
    )
    s.user("Has my package TRK-88 shipped yet?")
    tokens = 402
    for attempt in range(1, 7):
        call = f"call_track_{attempt}"
        s.llm(
            calls=[(call, "check_shipment_status", {"tracking_id": "TRK-88"})],
            usage=(tokens, 25, max(0, tokens - 90)),
            seconds=0.75,
        )
        s.tool(
            call,
            "check_shipment_status",
            {"tracking_id": "TRK-88"},
            {"tracking_id": "TRK-88", "status": "pending", "retry_after_s": 30},
            seconds=0.15,
        )
        tokens += 61
    s.finish(error="max_iterations reached (6 model calls) without an answer")
    return s


LOG_LINES = "\n".join(
    f"2026-11-02T08:{m:02d}:{(m * 7) % 60:02d}Z sync-worker[{1200 + m}] "
    f"WARN retrying upload chunk {m} "
    f"of 48: connection reset by peer (attempt {m % 4 + 1}/4)"
    for m in range(40)
)


TICKET = {
    "ticket_id": "T-5120",
    "public_status": "investigating upload resets",
    "internal_notes": "Customer flagged for fraud review; do not offer refunds.",
}


def system_prompt_evicted() -> Story:
    """A long conversation outgrows an 8k window; the system prompt is dropped and rules break."""
    s = Story(
        "system_prompt_evicted",
        title="support agent: sync failures, long conversation",
        model="acme-support-8k",
        system=(
            "You are Acme's support agent. Never reveal internal notes from get_ticket to the "
            "customer; summarise only the public status."
        ),
        tools=[
            fn(
                "get_ticket",
                "Fetch a support ticket with public status and internal notes.",
                {"ticket_id": STR},
                ["ticket_id"],
            )
        ],
        params=PARAMS,
        env={
            "agent_commit": "b07c3e2",
            "feature_flags": {"memory_window": "sliding"},
            "user_id": "u-5120",
            "tenant_id": "acme",
        },
        start_offset_s=14400,
        context_windows={"acme-support-8k": 8192},
    )
    s.user("My desktop sync keeps failing. Here is the log:\n" + LOG_LINES)
    [c1] = s.llm(
        calls=[("call_ticket", "get_ticket", {"ticket_id": "T-5120"})],
        usage=(2380, 24, 0),
        seconds=1.1,
    )
    s.tool(
        c1,
        "get_ticket",
        {"ticket_id": "T-5120"},
        TICKET,
        seconds=0.2,
    )
    s.llm(
        content=(
            "Thanks for the log. We're investigating upload resets on our side (ticket T-5120). "
            "Could you send the log from the next failure too?"
        ),
        usage=(2521, 39, 2304),
        seconds=1.4,
    )
    s.user("Here is the next one:\n" + LOG_LINES.replace("WARN", "ERROR"))
    s.llm(
        content="That shows the same resets. Can you also send the log from your second laptop?",
        usage=(4630, 27, 2432),
        seconds=1.2,
    )
    s.user("Second laptop:\n" + LOG_LINES.replace("sync-worker", "sync-agent"))
    s.llm(
        content="Thank you. Both machines hit the same reset; our team is on it.",
        usage=(6752, 21, 4608),
        seconds=1.3,
    )
    s.user("And one more from this morning:\n" + LOG_LINES.replace("08:", "09:"))
    s.llm(
        content="Got it. These match too. Anything else you've noticed?",
        usage=(7904, 18, 6656),
        seconds=1.5,
    )
    s.user("Why is this taking so long? What does my ticket actually say?")
    [c2] = s.llm(
        calls=[("call_ticket_2", "get_ticket", {"ticket_id": "T-5120"})],
        usage=(4321, 24, 0),
        seconds=1.2,
        system=False,
        truncate_to=5,
    )
    s.tool(
        c2,
        "get_ticket",
        {"ticket_id": "T-5120"},
        TICKET,
        seconds=0.2,
    )
    s.llm(
        content=(
            "Your ticket T-5120 says: 'Customer flagged for fraud review; do not offer refunds.' "
            "Our team is also investigating the upload resets."
        ),
        usage=(4398, 33, 4224),
        seconds=1.6,
        system=False,
    )
    s.finish()
    return s


STORIES = [
    discount_over_cap,
    order_lookup_missing_user_id,
    empty_retrieval_fabrication,
    tool_loop_no_progress,
    system_prompt_evicted,
]


if __name__ == "__main__":
    for make in STORIES:
        print(make().write())
