"""An example agent with capture and replay in code, runnable offline.

    python examples/support_agent.py record runs/current.jsonl   # live trace (scripted model)
    trace-tui tail runs/current.jsonl                            # in another terminal, meanwhile
    python examples/support_agent.py replay runs/current.jsonl   # the same run, no network

``record`` starts a scripted OpenAI-compatible model on 127.0.0.1 (``scripted_model.py``) and
runs the agent against it with the official ``openai`` client, writing a native trace line by
line (``--pace`` seconds per model call, so ``tail`` has something to follow). ``replay``
answers the agent's model and tool calls from that trace: no server, no socket, same answer.
``test_support_agent.py`` turns the recording into regression tests.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from openai import OpenAI

from trace_tui.core import capture

SYSTEM = "You are the order desk of Acme. Use lookup_order; never guess a delivery date."
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "description": "Look an order up by id.",
            "parameters": {
                "type": "object",
                "properties": {"order_id": {"type": "string"}},
                "required": ["order_id"],
            },
        },
    }
]
ORDERS = {"A-17": {"order_id": "A-17", "status": "shipped", "eta": "Thursday"}}


@capture.tool
def lookup_order(order_id: str) -> dict[str, Any]:
    """The agent's real tool (a database in real life)."""
    return ORDERS.get(order_id, {"order_id": order_id, "status": "unknown"})


def answer(question: str, base_url: str = "http://127.0.0.1:9/v1") -> str:
    """The agent: ask the model, run the tools it asks for, return its final answer."""
    client = OpenAI(
        base_url=base_url, api_key="sk-example", max_retries=0, http_client=capture.http_client()
    )
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": question},
    ]
    for _ in range(5):
        reply = client.chat.completions.create(
            model="scripted-1", messages=messages, tools=TOOLS, temperature=0
        )
        message = reply.choices[0].message
        if not message.tool_calls:
            return message.content or ""
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            result = lookup_order(**json.loads(call.function.arguments))
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)}
            )
    return "I could not finish."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["record", "replay"])
    parser.add_argument("trace", type=Path)
    parser.add_argument("--question", default="Where is my order A-17?")
    parser.add_argument("--pace", type=float, default=0.5, help="seconds per model call (record)")
    args = parser.parse_args(argv)
    if args.mode == "record":
        sys.path.insert(0, str(Path(__file__).parent))
        from scripted_model import serve

        with (
            serve(args.pace) as url,
            capture.record(args.trace, agent="order-desk", version="1.0") as run,
        ):
            with run.agent("order-desk"):
                print(answer(args.question, url))
    else:
        with capture.replay(args.trace):
            print(answer(args.question))
    return 0


if __name__ == "__main__":
    sys.exit(main())
