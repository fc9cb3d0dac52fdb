"""Check a run against a policy, one step at a time: verdicts for every tool call (and for model
calls when a rule looks at them), with the evidence range of every finding.

:class:`PolicyEvaluator` is incremental: :meth:`~PolicyEvaluator.advance` checks the steps a
growing run has gained since the last call (a live tail), and :meth:`~PolicyEvaluator.finish`
adds the findings that only a finished run can give (a required tool never called). It reads
any :class:`~trace_tui.core.model.run.RunView`: kinds come from the cheap ``row``, tool names
from one decoded field of the record (below); a step's payload is parsed only when a rule
needs it (a schema or constraint on that tool, a
result schema, two identical-looking calls in a row for ``no_progress``, or a model call for
``require_system_prompt``), so a million-step run is checked from the index's light fields.

A tool call's name is its ``gen_ai.tool.name`` (on an indexed run read by
:meth:`~trace_tui.core.index.run_view.IndexedRun.light_attributes` without building the step,
as are the arguments and a model call's system prompt), else
its step's label (an OpenTelemetry ``execute_tool NAME`` label is read as ``NAME``). Tool calls
are steps of kind ``tool`` and ``retrieval``.
"""

from __future__ import annotations

from typing import Any

from trace_tui.core.index.columns import KIND_CODES
from trace_tui.core.model.run import (
    A_RETRIEVAL_DOCUMENTS,
    A_SYSTEM,
    A_TOOL_ARGUMENTS,
    A_TOOL_NAME,
    A_TOOL_RESULT,
    STEP_KINDS,
    RunView,
    Step,
)
from trace_tui.core.policy.arguments import constraint_reasons, parsed_arguments, schema_reason
from trace_tui.core.policy.model import Finding, Policy, Report, StepVerdict
from trace_tui.core.policy.patterns import compile_pattern
from trace_tui.core.policy.sequence import SequenceChecker

CALL_KINDS = ("tool", "retrieval")
CALL_CODES = {KIND_CODES[k] for k in CALL_KINDS}
#: "not recorded" (``None`` is a recorded JSON null).
ABSENT: Any = object()
NAME_ONLY = (A_TOOL_NAME,)
NAME_AND_ARGS = (A_TOOL_NAME, A_TOOL_ARGUMENTS)
#: Steps whose kinds are read from the index's column at a time.
WALK_CHUNK = 65_536
OTEL_TOOL_PREFIX = "execute_tool "


def call_name(label: str) -> str:
    """The tool name of a tool step from its label (see the module doc)."""
    return label[len(OTEL_TOOL_PREFIX) :] if label.startswith(OTEL_TOOL_PREFIX) else label


class PolicyEvaluator:
    """Checks a run's steps in order against one policy; see the module doc."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.verdicts: dict[int, StepVerdict] = {}
        self.next_index = 0
        self.finished = False
        self._checker = SequenceChecker(policy.sequences, policy.aliases)
        self._deny = [(p, compile_pattern(p)) for p in policy.deny]
        self._allow = (
            None if policy.allow is None else [(p, compile_pattern(p)) for p in policy.allow]
        )
        self._alias_members = {m for members in policy.aliases.values() for m in members}
        self._static: dict[str, list[Finding]] = {}
        self._system_rules = [r for r in policy.sequences if r.type == "require_system_prompt"]
        self._last_system: int | None = None
        self._calls = 0
        self._wait_running = bool(policy.results)
        self._args_wanted = bool(policy.schemas or policy.constraints) or any(
            r.type == "no_progress" for r in policy.sequences
        )

    # ----------------------------------------------------------------- driving
    def advance(self, view: RunView, *, final: bool = False) -> list[int]:
        """Check the steps added since the last call; returns the indices given a verdict.

        Without ``final`` a tool step that is still running stops the walk when a result
        schema may need its result (it is checked once it ends, keeping call order).
        """
        changed: list[int] = []
        total = len(view)
        columns = getattr(view, "fact_columns", None)  # an index: kinds as a byte column
        wanted = CALL_CODES | ({KIND_CODES["llm"]} if self._system_rules else set())
        while self.next_index < total:
            start = self.next_index
            stop = min(total, start + WALK_CHUNK)
            kinds = columns(start, stop).kinds if columns is not None else None
            for index in range(start, stop):
                if kinds is not None:
                    if kinds[index - start] not in wanted:
                        continue
                    kind = STEP_KINDS[kinds[index - start]]
                else:
                    kind = view.row(index).kind
                if kind in CALL_KINDS:
                    if self._wait_running and not final and view.row(index).status == "running":
                        self.next_index = index
                        return changed
                    self._call(view, index, kind)
                    changed.append(index)
                elif kind == "llm" and self._system_rules:
                    if self._model_call(view, index, view.row(index).name):
                        changed.append(index)
            self.next_index = stop
        return changed

    def finish(self, view: RunView) -> list[int]:
        """Check what is left and add the end-of-run findings; returns the changed indices."""
        changed = self.advance(view, final=True)
        if self.finished:
            return changed
        self.finished = True
        for step, finding in self._checker.finish():
            verdict = self.verdicts.get(step)
            if verdict is not None:
                verdict.findings.append(finding)
                changed.append(step)
        return changed

    def report(self, total_steps: int) -> Report:
        """The verdicts so far as a :class:`Report` (``complete`` once :meth:`finish` ran)."""
        return Report(
            policy_name=self.policy.name,
            policy_version=self.policy.version,
            steps=[self.verdicts[i] for i in sorted(self.verdicts)],
            total_steps=total_steps,
            complete=self.finished,
        )

    # ----------------------------------------------------------------- one call
    def _call(self, view: RunView, index: int, kind: str) -> None:
        policy = self.policy
        loaded: list[Step] = []
        reader = getattr(view, "light_attributes", None)  # an index: fields without the step
        raw_args: list[Any] = []

        def step() -> Step:
            if not loaded:
                loaded.append(view.step(index))
            return loaded[0]

        def recorded_args() -> Any:
            """The arguments as recorded, or ABSENT."""
            if not raw_args:
                if reader is not None:
                    raw_args.append(
                        reader(index, (A_TOOL_ARGUMENTS,)).get(A_TOOL_ARGUMENTS, ABSENT)
                    )
                else:
                    raw_args.append(step().attributes.get(A_TOOL_ARGUMENTS, ABSENT))
            return raw_args[0]

        def args_of() -> Any:
            value = recorded_args()
            return None if value is ABSENT else parsed_arguments(value)

        if reader is not None:
            # one read for name and arguments when rules will likely want both
            light = reader(index, NAME_AND_ARGS if self._args_wanted else NAME_ONLY)
            name = light.get(A_TOOL_NAME)
            name = str(name) if name is not None else None
            if self._args_wanted:
                raw_args.append(light.get(A_TOOL_ARGUMENTS, ABSENT))
        else:
            name = step().tool_name
        name = name or call_name(view.row(index).name)
        findings = list(self._static_findings(name, index))
        blocked_by_list = any(f.rule_type in ("deny", "allow") for f in findings)

        if not blocked_by_list:
            findings.extend(self._argument_findings(name, index, kind, recorded_args, args_of))
        if name in policy.results:
            status = view.row(index).status
            findings.extend(self._result_findings(name, index, kind, status, step()))
        self._calls += 1
        if policy.max_tool_calls is not None and self._calls > policy.max_tool_calls:
            findings.append(
                Finding(
                    "max_tool_calls_total",
                    "limit",
                    "block",
                    f"tool call {self._calls} exceeds limits.max_tool_calls_total "
                    f"({policy.max_tool_calls})",
                    index,
                    index,
                    "E_RATE_LIMIT",
                )
            )
        findings.extend(self._checker.on_call(index, name, args_of))
        self.verdicts[index] = StepVerdict(index, name, kind, findings)

    def _static_findings(self, name: str, index: int) -> list[Finding]:
        """allow/deny list findings, worked out once per tool name."""
        cached = self._static.get(name)
        if cached is None:
            cached = []
            hit = next((p for p, match in self._deny if match(name)), None)
            if hit is not None:
                how = "" if hit == name else f" (pattern '{hit}')"
                cached.append(
                    Finding(
                        "deny_list",
                        "deny",
                        "block",
                        f"Tool '{name}' is in deny list{how}",
                        0,
                        0,
                        "E_TOOL_DENIED",
                    )
                )
            elif (
                self._allow is not None
                and not any(match(name) for _, match in self._allow)
                and name not in self._alias_members
            ):
                cached.append(
                    Finding(
                        "allow_list",
                        "allow",
                        "block",
                        f"Tool '{name}' is not in allow list",
                        0,
                        0,
                        "E_TOOL_NOT_ALLOWED",
                    )
                )
            self._static[name] = cached
        return [_at(f, index) for f in cached]

    def _argument_findings(
        self, name: str, index: int, kind: str, recorded_args: Any, args_of: Any
    ) -> list[Finding]:
        policy = self.policy
        validator = policy.schemas.get(name)
        constraints = policy.constraints.get(name)
        if validator is None and constraints is None:
            if policy.unconstrained in ("warn", "deny"):
                action = "warn" if policy.unconstrained == "warn" else "block"
                return [
                    Finding(
                        "unconstrained_tools",
                        "enforcement",
                        action,
                        f"Tool '{name}' has no argument schema",
                        index,
                        index,
                        "E_TOOL_UNCONSTRAINED",
                    )
                ]
            return []
        if kind == "tool" and recorded_args() is ABSENT:
            return [
                Finding(
                    f"schema_{name}",
                    "schema",
                    "warn",
                    f"{name}: arguments not recorded; schema not checked",
                    index,
                    index,
                    "E_ARG_SCHEMA",
                )
            ]
        args = args_of()
        if validator is not None:
            reason = schema_reason(name, validator, args)
            if reason is None:
                return []
            return [
                Finding(f"schema_{name}", "schema", "block", reason, index, index, "E_ARG_SCHEMA")
            ]
        assert constraints is not None
        return [
            Finding(
                f"constraints_{name}", "constraint", "block", reason, index, index, "E_ARG_SCHEMA"
            )
            for reason in constraint_reasons(constraints, args)
        ]

    def _result_findings(
        self, name: str, index: int, kind: str, status: str, step: Step
    ) -> list[Finding]:
        attrs = step.attributes
        key = (
            A_RETRIEVAL_DOCUMENTS
            if kind == "retrieval" and A_RETRIEVAL_DOCUMENTS in attrs
            else A_TOOL_RESULT
        )
        rule_id = f"results_{name}"
        if key not in attrs:
            if status == "running":
                return []
            return [
                Finding(
                    rule_id,
                    "result_schema",
                    "warn",
                    f"{name}: result not recorded; result schema not checked",
                    index,
                    index,
                )
            ]
        reason = schema_reason(
            name, self.policy.results[name], parsed_arguments(attrs[key]), "result"
        )
        if reason is None:
            return []
        return [Finding(rule_id, "result_schema", "block", reason, index, index)]

    # ----------------------------------------------------------------- model calls
    def _model_call(self, view: RunView, index: int, label: str) -> bool:
        reader = getattr(view, "light_attributes", None)
        if reader is not None:
            attrs = reader(index, (A_SYSTEM,))
            prompt = Step(index, "", None, "llm", label, attributes=attrs).system_prompt
        else:
            prompt = view.step(index).system_prompt
        if prompt:
            self._last_system = index
            self.verdicts[index] = StepVerdict(index, label, "llm", [])
            return True
        if self._last_system is None:
            return False  # never sent in this run: not recorded is not the same as dropped
        findings = [
            Finding(
                rule.rule_id,
                rule.type,
                rule.action,
                f"model call without the system prompt (last sent at step {self._last_system + 1})",
                self._last_system,
                index,
            )
            for rule in self._system_rules
        ]
        self.verdicts[index] = StepVerdict(index, label, "llm", findings)
        return True


def _at(finding: Finding, index: int) -> Finding:
    return Finding(
        finding.rule_id,
        finding.rule_type,
        finding.action,
        finding.reason,
        index,
        index,
        finding.code,
    )


def check_run(view: RunView, policy: Policy) -> Report:
    """Check a whole (finished) run: every step, then the end-of-run rules."""
    evaluator = PolicyEvaluator(policy)
    evaluator.finish(view)
    return evaluator.report(len(view))
