"""How a branch's step was answered, in one word: for the screen's tree rows and headers.

A replay marks each step it writes with ``trace_tui.replay.match`` (and ``…pending`` on the
step where it stopped); :func:`replay_answer` folds the many match names into the few a person
needs to tell a branch from its original: ``recorded`` (the recorded answer was reused, or the
step was copied as it stands), ``edited`` (the fork's edit), ``live`` (a responder or a live
tool answered), ``manual`` (typed by hand), ``position`` (a tool result taken by call position)
and ``pending`` (the replay stopped here, waiting for an answer). Steps before the fork carry
no replay attributes and get ``None``: they are the original's.
"""

from __future__ import annotations

from trace_tui.core.model.run import Step
from trace_tui.core.replay.fixtures import A_MATCH, A_PENDING, MATCH_POSITION

#: The answers, in the order a legend lists them.
ANSWERS: tuple[str, ...] = ("recorded", "edited", "live", "manual", "position", "pending")

#: What each answer means, for legends and the inspector.
ANSWER_WORDS: dict[str, str] = {
    "recorded": "answered from the recording",
    "edited": "the fork's edit",
    "live": "answered live",
    "manual": "answered by hand",
    "position": "tool result taken by call position",
    "pending": "waiting for an answer",
}

_BY_MATCH: dict[str, str] = {
    "recorded-response": "recorded",
    "exact-args": "recorded",
    "exact-args-repeat": "recorded",
    "recorded": "recorded",
    "recorded-unanswered": "recorded",
    MATCH_POSITION: "position",
    "edited": "edited",
    "live": "live",
    "manual": "manual",
}


def replay_answer(step: Step) -> str | None:
    """One of :data:`ANSWERS` for a replayed step, ``None`` for a step not replayed."""
    if step.attr(A_PENDING):
        return "pending"
    match = step.attr(A_MATCH)
    if not isinstance(match, str):
        return None
    if match == "none":
        return "pending"
    return _BY_MATCH.get(match, "recorded" if match.startswith(("recorded", "exact")) else None)


def is_waiting(step: Step) -> bool:
    """True for the step a stopped replay waits on (its answer is not there yet)."""
    return replay_answer(step) == "pending"
