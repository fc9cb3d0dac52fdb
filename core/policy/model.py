"""The policy model: rules as loaded from a policy file, and the verdicts they give.

A :class:`Policy` is what :mod:`trace_tui.core.policy.loader` builds from an Assay-compatible
YAML or JSON file: tool allow/deny lists, per-tool argument checks (JSON Schemas and legacy
``constraints``), result schemas, and sequence rules. Evaluating it over a run
(:mod:`trace_tui.core.policy.evaluate`) gives one :class:`StepVerdict` per checked step, each
with the :class:`Finding` s that explain it; every finding names the steps it spans (its
*evidence* range), so a screen can mark them.

Step indices here are 0-based like :class:`~trace_tui.core.model.run.Step.index`; users see
``index + 1``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Verdicts from best to worst.
ALLOWED = "allowed"
WARNED = "warned"
BLOCKED = "blocked"
VERDICTS: tuple[str, ...] = (ALLOWED, WARNED, BLOCKED)

#: What a violated rule does: block the step (default) or only warn.
ACTIONS: tuple[str, ...] = ("block", "warn")

#: Sequence rule types as Assay names them, plus trace-tui's own (documented in docs/policy.md).
ASSAY_SEQUENCE_TYPES: tuple[str, ...] = (
    "require",
    "eventually",
    "max_calls",
    "before",
    "after",
    "never_after",
    "sequence",
    "blocklist",
)
EXTRA_SEQUENCE_TYPES: tuple[str, ...] = ("no_progress", "require_system_prompt")
SEQUENCE_TYPES: tuple[str, ...] = ASSAY_SEQUENCE_TYPES + EXTRA_SEQUENCE_TYPES


@dataclass(frozen=True, slots=True)
class Where:
    """Where something was written in the policy file (1-based line and column, if known)."""

    path: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.path
        if self.column is None:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class ParamConstraint:
    """One legacy ``constraints`` check on one argument (``percent: {max: 30}``)."""

    param: str
    max: float | None = None
    min: float | None = None
    regex: str | None = None
    enum: tuple[Any, ...] | None = None
    required: bool = False


@dataclass(frozen=True, slots=True)
class ToolConstraints:
    """The legacy ``constraints`` entry of one tool."""

    tool: str
    params: tuple[ParamConstraint, ...]
    where: Where


@dataclass(slots=True)
class SequenceRule:
    """One sequence rule (``type`` is one of :data:`SEQUENCE_TYPES`).

    Fields not used by a type stay at their defaults; the loader checks each type's required
    fields. ``within`` and ``max`` count tool calls, as Assay does.
    """

    type: str
    rule_id: str
    where: Where
    action: str = "block"
    tool: str | None = None
    first: str | None = None
    then: str | None = None
    trigger: str | None = None
    forbidden: str | None = None
    pattern: str | None = None
    tools: tuple[str, ...] = ()
    strict: bool = False
    within: int | None = None
    max: int | None = None


@dataclass(slots=True)
class Policy:
    """A loaded policy. ``schemas`` and ``results`` hold compiled validators by tool name."""

    path: str
    version: str
    name: str
    allow: tuple[str, ...] | None
    deny: tuple[str, ...]
    schemas: dict[str, Any]
    constraints: dict[str, ToolConstraints]
    results: dict[str, Any]
    unconstrained: str | None
    sequences: list[SequenceRule]
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    max_tool_calls: int | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def rule_count(self) -> int:
        """How many rules the policy holds (each list entry, schema and sequence rule)."""
        return (
            len(self.allow or ())
            + len(self.deny)
            + len(self.schemas)
            + len(self.constraints)
            + len(self.results)
            + len(self.sequences)
            + (1 if self.max_tool_calls is not None else 0)
        )


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's word on one step: why it blocks or warns, and the steps it rests on."""

    rule_id: str
    rule_type: str
    action: str  # "block" or "warn"
    reason: str
    first: int
    last: int
    code: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON object with 1-based step numbers for the evidence range."""
        out: dict[str, Any] = {
            "rule_id": self.rule_id,
            "rule_type": self.rule_type,
            "action": self.action,
            "reason": self.reason,
            "evidence": {"first_step": self.first + 1, "last_step": self.last + 1},
        }
        if self.code:
            out["code"] = self.code
        return out


@dataclass(slots=True)
class StepVerdict:
    """The verdict on one step: allowed, warned or blocked, with the findings behind it."""

    index: int
    name: str
    kind: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """``blocked`` if any finding blocks, else ``warned`` if any warns, else ``allowed``."""
        if any(f.action == "block" for f in self.findings):
            return BLOCKED
        return WARNED if self.findings else ALLOWED

    @property
    def reason(self) -> str:
        """The first blocking (else warning) finding's reason, or ``""``."""
        top = self.top_finding
        return top.reason if top is not None else ""

    @property
    def top_finding(self) -> Finding | None:
        """The finding that decides the verdict (first blocking, else first warning)."""
        for finding in self.findings:
            if finding.action == "block":
                return finding
        return self.findings[0] if self.findings else None

    def to_json(self) -> dict[str, Any]:
        """A JSON object for ``check --format json`` (step numbers 1-based)."""
        return {
            "step": self.index + 1,
            "kind": self.kind,
            "tool": self.name,
            "verdict": self.verdict,
            "findings": [f.to_json() for f in self.findings],
        }


@dataclass(slots=True)
class Report:
    """Every checked step's verdict, in step order, and the run-level summary."""

    policy_name: str
    policy_version: str
    steps: list[StepVerdict]
    total_steps: int
    complete: bool = True
    #: Lines of the trace that could not be used (corrupt records...), as the reader counted.
    problems: int = 0

    def by_index(self) -> dict[int, StepVerdict]:
        """Verdicts keyed by 0-based step index."""
        return {v.index: v for v in self.steps}

    def count(self, verdict: str) -> int:
        """How many checked steps have this verdict."""
        return sum(1 for v in self.steps if v.verdict == verdict)

    @property
    def blocked(self) -> list[StepVerdict]:
        """The blocked steps, in order."""
        return [v for v in self.steps if v.verdict == BLOCKED]

    @property
    def blocking_rules(self) -> list[str]:
        """Rule ids that blocked some step, in order of first appearance."""
        seen: dict[str, None] = {}
        for verdict in self.steps:
            for finding in verdict.findings:
                if finding.action == "block":
                    seen.setdefault(finding.rule_id, None)
        return list(seen)
