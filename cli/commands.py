"""The ``trace-tui`` command line: one small handler per command, and :func:`main`.

Handlers print through :mod:`trace_tui.core.text.sanitize` (trace text is hostile), report bad input
as one line on stderr with exit code 2, and import the Textual app only for commands that
open the screen, so ``show`` and ``validate`` start fast and work without a terminal.

Every command that prints or writes trace content masks secrets (:mod:`trace_tui.core.text.redact`)
unless given ``--no-redact``. :func:`main` loads the redactor once (built-in rules plus the
user's ``redact.json``) into ``args.redactor``, so a broken config is one line and exit 2
before anything is read; the screen commands find it there too.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from trace_tui.cli.exit_codes import (
    EXIT_BUG,
    EXIT_DIFFERENT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
)
from trace_tui.cli.parser import Handler
from trace_tui.cli.parser import build_parser as parser_for
from trace_tui.core.errors import BadInput

if TYPE_CHECKING:
    from trace_tui.core.policy.model import Policy
    from trace_tui.core.text.redact import Redactor

log = logging.getLogger("trace_tui")


class CommandError(BadInput):
    """A command cannot go on; the message is shown as one line and the exit code is 2."""


def redactor_of(args: argparse.Namespace) -> Redactor:
    """The redactor :func:`main` loaded for this command (or one made from ``--no-redact``)."""
    from trace_tui.cli.fork_command import redactor_for

    return redactor_for(args)


# --------------------------------------------------------------------------- handlers
def cmd_show(args: argparse.Namespace) -> int:
    """Print the steps of a trace as a text table, or as normalised JSON with ``--json``.

    What could be read is printed; every problem (corrupt line, schema break) is one line on
    stderr naming the file and line, and makes the exit code 2.
    """
    from trace_tui.cli.show_report import print_json, print_table
    from trace_tui.core.reading.reader import open_run
    from trace_tui.core.text.sanitize import one_line

    redactor = redactor_of(args)
    run = open_run(Path(args.file), args.format)
    if args.json:
        print_json(run, sys.stdout, redactor)
    else:
        print_table(run, sys.stdout, redactor, fold=not args.all)
    sys.stdout.flush()
    if run.format_name == "native":
        from trace_tui.core.export.validate import validate_file

        problems = [f"{args.file}:{p}" for p in validate_file(Path(args.file))]
    else:
        problems = [
            f"{args.file}{f':{p.line}' if p.line else ''}: {p.message}" for p in run.problems
        ]
    for problem in problems:
        print(one_line(redactor.text(problem), 300), file=sys.stderr)
    return EXIT_USAGE if problems else EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a native trace against the schema; list every problem with its line."""
    from trace_tui.core.export.validate import foreign_reason, validate_file
    from trace_tui.core.text.sanitize import one_line

    redactor = redactor_of(args)
    foreign = foreign_reason(Path(args.file))
    if foreign is not None:
        print(one_line(redactor.text(f"{args.file}: {foreign}"), 400), file=sys.stderr)
        return EXIT_USAGE
    problems = validate_file(Path(args.file))
    for problem in problems:
        print(redactor.text(f"{args.file}:{problem}"), file=sys.stderr)
    if problems:
        print(f"{args.file}: {len(problems)} problem(s)", file=sys.stderr)
        return EXIT_USAGE
    print(f"{args.file}: valid trace-tui v1 trace")
    return EXIT_OK


def cmd_formats(args: argparse.Namespace) -> int:
    """List the supported formats in detection order."""
    from trace_tui.core.formats import FORMATS

    width = max(len(f.name) for f in FORMATS)
    for fmt in FORMATS:
        tail = "tail" if fmt.line_oriented else "    "
        print(f"{fmt.name:<{width}}  {tail}  {fmt.title}")
    return EXIT_OK


def cmd_open(args: argparse.Namespace) -> int:
    """Open the debugger screen on a finished trace."""
    from trace_tui.tui.launch import run_app

    return run_app(args, follow=False)


def cmd_tail(args: argparse.Namespace) -> int:
    """Follow a trace as it is written (screen, or ``--plain`` / ``--json`` lines).

    ``otlp://HOST:PORT`` instead of a file starts an OTLP/HTTP receiver there and shows what
    it receives (see :mod:`trace_tui.cli.receive`).
    """
    from trace_tui.cli.receive import otlp_tail_address, run_receive

    address = otlp_tail_address(args.file)
    if address is not None:
        if args.plain or args.json:
            raise CommandError("tail otlp://… shows the screen; for files without a screen run "
                               "'trace-tui receive' and 'trace-tui tail --plain' on its file")
        return run_receive(args, listen=address, live=True)
    if args.plain or args.json:
        if getattr(args, "policy", None):
            raise CommandError("--policy marks verdicts on the screen; without a screen run "
                               "'trace-tui check FILE --policy POLICY'")
        from trace_tui.cli.plain_tail import tail_plain

        return tail_plain(args)
    from trace_tui.tui.launch import run_app

    return run_app(args, follow=True)


def cmd_triage(args: argparse.Namespace) -> int:
    """Group many runs by how they failed (exit 1 when any failed)."""
    from trace_tui.cli.triage import run_triage

    return run_triage(args)


def cmd_receive(args: argparse.Namespace) -> int:
    """Receive OTLP/HTTP trace exports into OTLP JSON-lines files (``--open``: live view)."""
    from trace_tui.cli.receive import run_receive

    return run_receive(args)


def cmd_diff(args: argparse.Namespace) -> int:
    """Compare two runs (or a branch and its parent): screen, ``--plain`` or ``--json``.

    Exit code 0 when the runs are equivalent, 1 when they differ, 2 on bad input.
    """
    from trace_tui.cli.diff_report import report_diff, write_json, write_plain
    from trace_tui.core.diff.compare import DiffOptions
    from trace_tui.core.reading.reader import open_run

    left_path, right_path = _diff_paths(args)
    options = DiffOptions(tuple(args.ignore), args.strict)
    options.rules()  # a bad --ignore word is bad input: exit 2 before reading anything
    policy = _diff_policy(args)
    redactor = redactor_of(args)
    left, right = open_run(left_path, args.format), open_run(right_path, args.format)
    for tag, path, run in (("A", left_path, left), ("B", right_path, right)):
        if run.problems:
            print(
                f"trace-tui: {tag} {path}: {len(run.problems)} problem(s) while reading "
                "(see 'trace-tui validate')",
                file=sys.stderr,
            )
    screen = policy is None  # verdict changes are a report: --policy prints the plain one
    if screen and not (args.plain or args.json) and sys.stdout.isatty() and sys.stdin.isatty():
        from trace_tui.cli.show_report import redacted_run
        from trace_tui.tui.diff.app import run_diff_app
        from trace_tui.tui.display.safe_text import configure_redaction

        configure_redaction(redactor)
        left, right = redacted_run(left, redactor), redacted_run(right, redactor)
        return run_diff_app(left, right, str(left_path), str(right_path), options, args.theme)
    result = report_diff(left, right, options, redactor)
    verdicts = None
    if policy is not None:
        from trace_tui.cli.check import changes_json, policy_changes, write_changes_plain

        verdicts = policy_changes(policy, left, right, [(r.left, r.right) for r in result.rows])
    if args.json:
        extra = changes_json(policy, verdicts) if policy and verdicts else None
        write_json(result, sys.stdout, str(left_path), str(right_path), redactor, extra)
    else:
        write_plain(result, sys.stdout, str(left_path), str(right_path), redactor)
        if policy is not None and verdicts is not None:
            write_changes_plain(policy, verdicts, sys.stdout, redactor)
    return EXIT_OK if result.equivalent else EXIT_DIFFERENT


def _diff_policy(args: argparse.Namespace) -> Policy | None:
    """The ``--policy`` of ``diff`` (loaded first: a bad policy is bad input, exit 2)."""
    from trace_tui.core.policy.loader import load_policy

    return load_policy(args.policy) if args.policy else None


def _diff_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """A and B; with only A, A must be a branch file and B is A, A its parent run."""
    from trace_tui.core.reading.reader import open_run

    if args.right is not None:
        return Path(args.left), Path(args.right)
    branch_path = Path(args.left)
    branch = open_run(branch_path, args.format).branch
    if branch is None or not branch.parent_path:
        raise CommandError(
            f"{branch_path}: not a branch file with a parent_path; give two runs: diff A B"
        )
    # normpath: ".trace-tui/../run.jsonl" reads as "run.jsonl" (the same file; no symlinks
    # are resolved, so it is the path the branch names)
    return Path(os.path.normpath(branch_path.parent / branch.parent_path)), branch_path


def cmd_demo(args: argparse.Namespace) -> int:
    """Play a sample into a new file a line at a time, and follow it (screen or plain lines)."""
    from trace_tui.core.export.demo import DemoWriter, demo_target, sample_path

    source = sample_path(args.sample)
    target = demo_target(args.output, args.sample)
    writer = DemoWriter(source, target, args.speed)
    writer.start()
    follow = argparse.Namespace(**vars(args))
    follow.file, follow.format, follow.from_start, follow.json = str(target), None, True, False
    try:
        if args.plain:
            from trace_tui.cli.plain_tail import tail_plain

            return tail_plain(follow, stop=writer.finished)
        from trace_tui.tui.launch import run_app

        return run_app(follow, follow=True)
    finally:
        writer.stop_event.set()
        writer.join(timeout=2)
        print(f"trace-tui: the demo trace is in {target}", file=sys.stderr)


def cmd_check(args: argparse.Namespace) -> int:
    """Check a trace against a policy (exit 0 allowed, 1 blocked, 2 bad input)."""
    from trace_tui.cli.check import run_check

    return run_check(args, redactor_of(args))


def cmd_fork(args: argparse.Namespace) -> int:
    """Fork a trace at a step with edits, replay forward, save the branch (docs/replay.md)."""
    from trace_tui.cli.fork_command import run_fork

    return run_fork(args)


def cmd_replay(args: argparse.Namespace) -> int:
    """Replay a saved branch again, e.g. with an answer or a source for where it stopped."""
    from trace_tui.cli.fork_command import run_replay

    return run_replay(args)


def cmd_convert(args: argparse.Namespace) -> int:
    """Write any supported trace as a native trace (validated, atomic, never over the input)."""
    from trace_tui.core.export.convert import ConvertError, convert_file
    from trace_tui.core.text.sanitize import one_line

    redactor = redactor_of(args)
    to_stdout = args.output == "-"
    try:
        result = convert_file(
            Path(args.file),
            Path(args.output),
            format_name=args.format,
            include_source=not args.no_source,
            redactor=redactor,
            stream=sys.stdout if to_stdout else None,
        )
    except ConvertError as exc:
        raise CommandError(str(exc)) from None
    for problem in result.input_problems:
        where = f":{problem.line}" if problem.line else ""
        line = redactor.text(f"{args.file}{where}: skipped: {problem.message}")
        print(one_line(line, 300), file=sys.stderr)
    skipped = (
        f", {len(result.input_problems)} problem(s) in the input skipped"
        if result.input_problems
        else ""
    )
    where = "standard output" if to_stdout else args.output
    print(
        f"{where}: {result.steps} steps from {result.format_name}{skipped}",
        file=sys.stderr if to_stdout else sys.stdout,
    )
    return EXIT_OK


# --------------------------------------------------------------------------- parser
HANDLERS: dict[str, Handler] = {
    "open": cmd_open,
    "tail": cmd_tail,
    "triage": cmd_triage,
    "receive": cmd_receive,
    "show": cmd_show,
    "validate": cmd_validate,
    "formats": cmd_formats,
    "demo": cmd_demo,
    "diff": cmd_diff,
    "check": cmd_check,
    "fork": cmd_fork,
    "replay": cmd_replay,
    "convert": cmd_convert,
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every command (see :mod:`trace_tui.cli.parser`)."""
    return parser_for(HANDLERS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code.

    Bad input (any :class:`~trace_tui.core.errors.BadInput`) is one line on stderr, exit 2.
    Anything else is a bug: its traceback goes to the log file, one line names it, exit 1
    (with ``--debug`` the traceback is printed too).
    """
    from trace_tui.cli.terminal import safe_output

    with safe_output():  # every byte printed goes through the sanitiser
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _log_to_stderr(args.debug)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if hasattr(args, "no_redact"):
            from trace_tui.core.text.redact import load_redactor

            args.redactor = load_redactor(enabled=not args.no_redact)
        return int(handler(args))
    except BadInput as exc:
        from trace_tui.core.text.sanitize import one_line

        print(f"trace-tui: {one_line(_masked_message(args, exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our output went away (| head): not an error of ours.
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # a bug: traceback to the log, one line to the user
        return _report_bug(args, exc)


def _log_to_stderr(debug: bool) -> None:
    """Log lines on stderr (``--debug``: everything; else warnings), sanitised: the handler
    writes to ``sys.stderr`` as :func:`~trace_tui.cli.terminal.safe_output` set it."""
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="trace-tui: %(levelname)s %(name)s: %(message)s",
    )


def _report_bug(args: argparse.Namespace, exc: Exception) -> int:
    """Log ``exc`` with its traceback and print one line naming the log file."""
    import traceback

    from trace_tui.core.io.log_file import record_exception
    from trace_tui.core.text.sanitize import one_line, sanitize_text

    if args.debug:
        text = "".join(traceback.format_exception(exc))
        print(sanitize_text(_masked_text(args, text)), end="", file=sys.stderr)
    where = record_exception(exc, f"trace-tui {args.command}", clean=sanitize_text)
    kind = type(exc).__name__
    detail = one_line(_masked_message(args, exc), 200)
    place = f"the traceback is in {one_line(str(where), 300)}" if where else "no log file"
    print(
        f"trace-tui: unexpected error ({kind}: {detail}); this is a bug, {place}",
        file=sys.stderr,
    )
    return EXIT_BUG


def _masked_message(args: argparse.Namespace, exc: Exception) -> str:
    """An error line with any trace value it quotes masked (built-in rules if none loaded)."""
    return _masked_text(args, str(exc))


def _masked_text(args: argparse.Namespace, text: str) -> str:
    from trace_tui.core.text.redact import Redactor

    redactor = getattr(args, "redactor", None)
    if not isinstance(redactor, Redactor):
        redactor = Redactor(enabled=not getattr(args, "no_redact", False))
    return redactor.text(text)
