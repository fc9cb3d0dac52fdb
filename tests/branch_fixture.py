"""A branch of ``discount_over_cap`` whose replayed steps show every way a replay answers a
step (recorded, edited, live, manual, by position) and that stopped waiting for an answer.

It starts from a real replay (an unedited fork at step 3, saved by the screen's
:class:`~trace_tui.tui.session.branch_session.ForkSession`), then sets each replayed step's
``trace_tui.replay.match`` the way a replay with those sources writes it, and turns the last
model call into the step a stopped replay waits on (``trace_tui.replay.pending``, no answer).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from support import SAMPLES
from trace_tui.core.text.redact import Redactor
from trace_tui.tui.session.branch_session import ForkSession

#: Step number → the match a replay writes for it (steps 1-2 come before the fork).
MATCHES = {3: "edited", 4: "live", 5: "position", 6: "manual", 7: "exact-args"}
PENDING_STEP = 8


def every_answer_branch(folder: Path) -> Path:
    """Write the sample and the branch into ``folder``; the branch's path."""
    trace = folder / "discount_over_cap.jsonl"
    shutil.copyfile(SAMPLES / "discount_over_cap.jsonl", trace)
    session = ForkSession(trace, "native", Redactor())
    outcome = session.start(session.plan(3, []))
    assert outcome.path is not None and outcome.complete
    records = [json.loads(text) for text in outcome.path.read_text("utf-8").splitlines()]
    spans = [r for r in records if r.get("type") == "span"]
    for number, match in MATCHES.items():
        attrs = spans[number - 1]["attributes"]
        attrs["trace_tui.replay.match"] = match
        attrs["trace_tui.replay.source"] = match
    waiting = spans[PENDING_STEP - 1]
    waiting["status"] = "unset"
    waiting["attributes"] = {k: v for k, v in waiting["attributes"].items()
                             if not k.startswith(("gen_ai.output", "gen_ai.usage",
                                                  "gen_ai.response"))}
    waiting["attributes"].update({"trace_tui.replay.match": "none",
                                  "trace_tui.replay.source": "none",
                                  "trace_tui.replay.pending": "model_response"})
    for record in records:
        if record.get("type") == "branch":
            record["status"] = "needs_model_response"
            record["note"] = ("needs a model response at step 8: the request is new (the "
                              "branch diverged) and nothing recorded matches it; diverged "
                              "from the recording at step 4")
    path = outcome.path.with_name("discount_over_cap--every-answer.jsonl")
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    outcome.path.unlink()
    return path
