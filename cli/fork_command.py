"""``trace-tui fork`` and ``trace-tui replay``: arguments and handlers (no screen involved).

``fork TRACE --at STEP --set /pointer=VALUE ...`` plans the fork, replays it forward with the
chosen sources (recorded fixtures by default), saves the branch and prints where replay got
to. ``replay BRANCH`` replays an existing branch again, reusing the answers it already got,
typically with a source or an ``--answer`` that lets it go past the step where it stopped.

Exit codes: 0 the replay completed; 3 it stopped (needs an answer, a source failed, the step
limit); 2 the fork was refused or the input is unusable. Trace text is printed sanitised.

Secrets: the replay runs on the original values, but the branch file, the report and the
``--json`` summary are masked (``--no-redact`` keeps them; see
:mod:`trace_tui.core.replay.redaction`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trace_tui.cli.exit_codes import EXIT_OK, EXIT_STOPPED
from trace_tui.core.io.standard_json import dumps
from trace_tui.core.text.sanitize import one_line

if TYPE_CHECKING:  # the handlers import the engine lazily: building the parser stays cheap
    from trace_tui.core.replay.branches import BranchNode
    from trace_tui.core.replay.engine import Replay
    from trace_tui.core.replay.fixtures import AnswerFixtures
    from trace_tui.core.replay.values import Sources
    from trace_tui.core.text.redact import Redactor



# --------------------------------------------------------------------------- arguments
def add_fork_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``trace-tui fork``."""
    p.add_argument("file", metavar="TRACE", help="the trace to fork (never written to)")
    p.add_argument("--format", metavar="NAME", help="skip format detection")
    p.add_argument("--at", metavar="STEP", help="step number (1-based) or span id to fork at")
    edits = p.add_argument_group("edits (JSON pointers into the step's native span record)")
    edits.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="/POINTER=JSON",
        help="set a value; VALUE is JSON, or plain text if it does not look like JSON",
    )
    edits.add_argument(
        "--set-string",
        action="append",
        default=[],
        metavar="/POINTER=TEXT",
        help="set a value to exactly TEXT (a string)",
    )
    edits.add_argument(
        "--remove", action="append", default=[], metavar="/POINTER", help="remove a value"
    )
    edits.add_argument(
        "--edit",
        action="append",
        default=[],
        metavar="PATCH",
        help='a JSON Patch operation (or list), e.g. \'{"op":"add","path":...,"value":...}\'',
    )
    where = p.add_argument_group("where the branch goes")
    where.add_argument("--name", help="branch name (default: step<N>-<hash of the edits>)")
    where.add_argument(
        "-o", "--output", metavar="BRANCH.jsonl", help="write the branch here instead"
    )
    where.add_argument(
        "--branches-dir", metavar="DIR", help="branches folder (default: .trace-tui/ beside TRACE)"
    )
    where.add_argument(
        "--force",
        action="store_true",
        help="replace a branch already saved under that name (without it: with the default "
        "name a new name NAME-2... is chosen; with --name or -o the fork is refused)",
    )
    p.add_argument("--list", action="store_true", help="list the branches of TRACE and exit")
    add_source_arguments(p)


def add_replay_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``trace-tui replay``."""
    p.add_argument("file", metavar="BRANCH", help="a branch file written by 'trace-tui fork'")
    p.add_argument(
        "-o", "--output", metavar="FILE", help="write the result here (default: BRANCH itself)"
    )
    p.add_argument(
        "--fresh",
        action="store_true",
        help="ignore answers the branch already got (manual or live) and ask again",
    )
    p.add_argument(
        "--force", action="store_true", help="with -o: replace another branch saved there"
    )
    add_source_arguments(p)


def add_source_arguments(p: argparse.ArgumentParser) -> None:
    """Where answers come from when the recording has none (opt-in; fixtures always first)."""
    g = p.add_argument_group("sources (asked only when no recorded answer matches)")
    model = g.add_mutually_exclusive_group()
    model.add_argument(
        "--model",
        metavar="openai-compatible:URL",
        help="ask an OpenAI-compatible chat-completions endpoint",
    )
    model.add_argument(
        "--responder",
        metavar="python:MODULE:FUNCTION",
        help="ask a Python function (module name or path/to/file.py)",
    )
    g.add_argument(
        "--model-name",
        metavar="NAME",
        help="model name sent to --model (default: the recorded one)",
    )
    g.add_argument(
        "--api-key-env",
        metavar="NAME",
        default="OPENAI_API_KEY",
        help="environment variable holding the API key for --model (default: OPENAI_API_KEY)",
    )
    g.add_argument(
        "--timeout", type=float, default=120.0, metavar="SECONDS", help="--model timeout"
    )
    g.add_argument("--tools", metavar="python:MODULE", help="live tool functions, by tool name")
    g.add_argument(
        "--tool-match",
        choices=("args", "position"),
        default="args",
        help="'position': a call with new arguments may take the recorded result at the "
        "same call position for that tool (default: exact arguments only)",
    )
    g.add_argument(
        "--answer",
        action="append",
        default=[],
        metavar="VALUE",
        help="answer the next stop by hand (model: text or message JSON; tool: result JSON); "
        "repeatable, used in order",
    )
    g.add_argument(
        "--max-steps", type=int, default=200, metavar="N", help="stop after N replayed steps"
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary instead of text")


def sources_from_args(args: argparse.Namespace, reuse: AnswerFixtures | None = None) -> Sources:
    """The :class:`Sources` the arguments name (``SourceError`` when one cannot be loaded)."""
    from trace_tui.core.replay.responders import (
        SourceError,
        model_source_from_spec,
        tool_source_from_spec,
    )
    from trace_tui.core.replay.values import Sources

    model = None
    if args.model:
        if not args.model.startswith("openai-compatible:"):
            raise SourceError("--model takes openai-compatible:URL (use --responder for python:)")
        model = model_source_from_spec(
            args.model,
            api_key_env=args.api_key_env,
            model_name=args.model_name,
            timeout=args.timeout,
        )
    elif args.responder:
        if not args.responder.startswith("python:"):
            raise SourceError("--responder takes python:module:function")
        model = model_source_from_spec(args.responder)
    tools = tool_source_from_spec(args.tools) if args.tools else None
    return Sources(model, tools, reuse, position_fallback=args.tool_match == "position")


# --------------------------------------------------------------------------- handlers
def run_fork(args: argparse.Namespace) -> int:
    """``trace-tui fork``: plan, replay, save, report."""
    from trace_tui.core.reading.reader import check_trace_path, open_run
    from trace_tui.core.replay.branches import branch_path, branch_tree, save_branch
    from trace_tui.core.replay.engine import Replay
    from trace_tui.core.replay.fork import ForkError, cli_edits, find_step, plan_fork, step_record

    trace = Path(args.file)
    redactor = redactor_for(args)
    if args.list:
        check_trace_path(trace)  # a missing trace is bad input, not "no branches"
        return _print_tree(branch_tree(trace, args.branches_dir), redactor)
    if not args.at:
        raise ForkError("--at STEP is required (a 1-based step number or a span id)")
    parent = open_run(trace, args.format)
    index = find_step(parent, args.at)
    edits = cli_edits(
        step_record(parent.step(index)),
        sets=args.set,
        set_strings=args.set_string,
        removes=args.remove,
        patches=args.edit,
    )
    plan = plan_fork(parent, index + 1, edits, name=args.name)
    for warning in plan.warnings:
        print(f"trace-tui: warning: {one_line(redactor.text(warning), 300)}", file=sys.stderr)
    replay = Replay(plan, _sources(args), max_steps=args.max_steps)
    _run_with_answers(replay, args.answer)
    try:
        path = save_branch(
            replay,
            trace,
            output=args.output,
            branches_dir=args.branches_dir,
            force=args.force,
            redactor=redactor,
            new_name_if_taken=args.name is None and args.output is None,
        )
    except OSError as exc:
        raise ForkError(f"cannot save the branch: {_os_error(exc)}") from exc
    if args.output is None:
        default = branch_path(trace, replay.plan.name, args.branches_dir)
        if path != default:
            print(
                f"trace-tui: note: {one_line(str(default))} holds another branch (kept as it "
                f"is); this one is saved as {one_line(path.name)}",
                file=sys.stderr,
            )
    return _report(replay, path, args.json, redactor)


def run_replay(args: argparse.Namespace) -> int:
    """``trace-tui replay``: replay a saved branch again and save it."""
    from trace_tui.core.replay.branches import load_branch, save_branch
    from trace_tui.core.replay.engine import Replay
    from trace_tui.core.replay.fork import ForkError

    redactor = redactor_for(args)
    loaded = load_branch(args.file)
    reuse = None if args.fresh else loaded.earlier_answers(redactor)
    replay = Replay(loaded.plan(), _sources(args, reuse), max_steps=args.max_steps)
    _run_with_answers(replay, args.answer)
    output = Path(args.output) if args.output else loaded.path
    try:
        path = save_branch(
            replay,
            loaded.parent_path,
            output=output,
            redactor=redactor,
            own=loaded.path,
            force=args.force,
        )
    except OSError as exc:
        raise ForkError(f"cannot save the branch: {_os_error(exc)}") from exc
    return _report(replay, path, args.json, redactor)


def _os_error(exc: OSError) -> str:
    """``reason (file)``, without a ``(None)`` when the error names no file."""
    reason = exc.strerror or str(exc)
    return f"{reason} ({exc.filename})" if exc.filename else reason


def redactor_for(args: argparse.Namespace) -> Redactor:
    """The redactor the CLI loaded (``args.redactor``), or one from ``--no-redact`` and config."""
    from trace_tui.core.text.redact import Redactor, load_redactor

    loaded = getattr(args, "redactor", None)
    if isinstance(loaded, Redactor):
        return loaded
    return load_redactor(enabled=not getattr(args, "no_redact", False))


def _sources(args: argparse.Namespace, reuse: AnswerFixtures | None = None) -> Sources:
    from trace_tui.core.replay.fork import ForkError
    from trace_tui.core.replay.responders import SourceError

    try:
        return sources_from_args(args, reuse)
    except SourceError as exc:
        raise ForkError(str(exc)) from exc


def _run_with_answers(replay: Replay, answers: list[str]) -> None:
    from trace_tui.core.replay.fork import parse_cli_value

    queue = list(answers)
    replay.run()
    while queue and replay.pending is not None:
        replay.answer(parse_cli_value(queue.pop(0)))
        replay.run()
    if queue:
        print(
            f"trace-tui: warning: {len(queue)} --answer value(s) were not needed", file=sys.stderr
        )


def _report(replay: Replay, path: Path, as_json: bool, redactor: Redactor) -> int:
    from trace_tui.core.replay.engine import COMPLETE

    code = EXIT_OK if replay.status == COMPLETE else EXIT_STOPPED
    if as_json:
        report = summary(replay, path, redactor)
        print(dumps(report, indent=2, ensure_ascii=True))  # ASCII: safe on any terminal
        return code
    mask = redactor.text
    plan = replay.plan
    print(f"branch: {one_line(str(path))}")
    print(
        f"forked step {plan.fork_step} with {len(plan.edits)} edit(s); "
        f"replayed {len(replay.replayed)} step(s)"
    )
    for record in replay.replayed:
        attrs = record.get("attributes", {})
        match = attrs.get("trace_tui.replay.match", "")
        kind, name = (
            one_line(mask(str(record.get("kind", "")))),
            one_line(mask(str(record.get("name", ""))), 40),
        )
        print(f"  {kind:<9} {name:<40} {one_line(mask(str(match)))}")
    print(f"status: {replay.status}")
    if replay.note:
        print(f"note: {one_line(mask(replay.note), 400)}")
    if replay.pending is not None:
        print(
            f"next: trace-tui replay {one_line(str(path))} --answer VALUE "
            "(or --responder python:MODULE:FUNC, --model openai-compatible:URL, "
            "--tools python:MODULE)"
        )
    return code


def summary(replay: Replay, path: Path, redactor: Redactor | None = None) -> dict[str, Any]:
    """The JSON summary ``--json`` prints, trace values masked (``None``: built-in rules)."""
    pending = replay.pending
    report = {
        "branch": str(path),
        "fork_step": replay.plan.fork_step,
        "edits": list(replay.plan.edits),
        "status": replay.status,
        "note": replay.note,
        "pending": None
        if pending is None
        else {"needs": pending.needs, "step": pending.step_number},
        "steps": [
            {
                "number": number,
                "kind": r.get("kind"),
                "name": r.get("name"),
                "match": r.get("attributes", {}).get("trace_tui.replay.match"),
                "source": r.get("attributes", {}).get("trace_tui.replay.source"),
            }
            for number, r in enumerate(replay.replayed, start=replay.plan.fork_step)
        ],
    }
    if redactor is None:
        from trace_tui.core.text.redact import Redactor

        redactor = Redactor()
    masked: dict[str, Any] = redactor.value(report)
    masked["redaction"] = redactor.export_metadata()
    return masked


def _print_tree(root: BranchNode, redactor: Redactor) -> int:
    from trace_tui.core.replay.branches import branches_dir_for

    folder = branches_dir_for(root.path)
    if not root.children:
        print(f"{one_line(str(root.path))}: no branches in {one_line(str(folder))}")
        return EXIT_OK
    for node, depth in root.walk():
        entry = node.entry
        if entry is None:
            print(one_line(str(node.path)))
            continue
        name = entry.name or node.path.stem
        status = entry.status or "status unknown (no status in its branch record: damaged?)"
        label = f"{name} @ step {entry.fork_step}, {len(entry.edits)} edit(s): {status}"
        label = one_line(redactor.text(label), 120)
        print(f"{'  ' * depth}└ {label}  ({one_line(node.path.name)})")
    return EXIT_OK
