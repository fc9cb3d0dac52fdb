"""The ``trace-tui`` argument parser: every command, its arguments and its help text.

The functions that run the commands live in :mod:`trace_tui.cli.commands`, which passes them
in (``handlers``), so this module knows arguments only.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping

from trace_tui import __version__

Handler = Callable[[argparse.Namespace], int]


def build_parser(handlers: Mapping[str, Handler]) -> argparse.ArgumentParser:
    """The argument parser for every command; ``handlers`` maps a command's name to the
    function that runs it (:data:`trace_tui.cli.commands.HANDLERS`)."""
    from trace_tui.cli.receive import add_receive_options, add_receive_parser
    from trace_tui.cli.triage import add_triage_parser

    parser = argparse.ArgumentParser(
        prog="trace-tui",
        description="A terminal time-travel debugger for AI-agent runs.",
    )
    parser.add_argument("--version", action="version", version=f"trace-tui {__version__}")
    parser.add_argument("--debug", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def redact_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--no-redact",
            action="store_true",
            help="show and write secrets (API keys, tokens, passwords...) as they are; "
            "by default they are masked as «redacted:KIND#HASH»",
        )

    def trace_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("file", metavar="FILE", help="trace file (any supported format)")
        p.add_argument("--format", metavar="NAME", help="skip detection (see 'trace-tui formats')")

    def screen_args(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--context-window",
            metavar="MODEL=TOKENS",
            action="append",
            default=[],
            help="context-window size for a model the built-in table lacks (repeatable)",
        )
        p.add_argument("--theme", metavar="NAME", help="colour theme (dark, light, high-contrast)")
        p.add_argument("--policy", metavar="POLICY", help="mark each step's policy verdict "
                       "(blocked, warned) from an Assay-compatible policy (docs/policy.md)")
        redact_arg(p)

    p = sub.add_parser("open", help="open a finished trace in the debugger screen")
    trace_arg(p)
    screen_args(p)
    p.set_defaults(handler=handlers["open"])

    p = sub.add_parser("tail", help="follow a trace while it is being written")
    trace_arg(p)
    screen_args(p)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--plain", action="store_true", help="print one line per new step")
    mode.add_argument("--json", action="store_true", help="print normalised records as JSON lines")
    p.add_argument(
        "--from-start",
        action="store_true",
        help="with --plain/--json: print the steps already in the file first",
    )
    p.set_defaults(handler=handlers["tail"])

    add_receive_options(p)

    p = add_triage_parser(sub)
    redact_arg(p)
    p.set_defaults(handler=handlers["triage"])

    p = add_receive_parser(sub)
    screen_args(p)
    p.set_defaults(handler=handlers["receive"])

    p = sub.add_parser("show", help="print a trace's steps as a table (no screen)")
    trace_arg(p)
    p.add_argument("--json", action="store_true", help="print the normalised model as JSON")
    p.add_argument(
        "--all", action="store_true", help="list bookkeeping records too (folded by default)"
    )
    redact_arg(p)
    p.set_defaults(handler=handlers["show"])

    p = sub.add_parser("validate", help="check a native trace against the format's schema")
    p.add_argument("file", metavar="FILE")
    redact_arg(p)
    p.set_defaults(handler=handlers["validate"])

    p = sub.add_parser("formats", help="list the trace formats trace-tui reads")
    p.set_defaults(handler=handlers["formats"])

    p = sub.add_parser("demo", help="replay a sample run live, a line at a time, and follow it")
    p.add_argument(
        "--sample",
        default="discount_over_cap",
        metavar="NAME",
        help="which built-in sample to play (default: discount_over_cap)",
    )
    p.add_argument("--speed", type=float, default=1.0, help="pace multiplier (2 = twice as fast)")
    p.add_argument("--plain", action="store_true", help="print steps instead of opening the screen")
    p.add_argument("-o", "--output", metavar="FILE", help="where to write the live trace")
    screen_args(p)
    p.set_defaults(handler=handlers["demo"])

    p = sub.add_parser(
        "diff",
        help="compare two runs or two branches (exit 0 equivalent, 1 different, 2 bad input)",
        description="Align the steps of two runs by what they are and show what changed. "
        "Without --plain/--json, opens the side-by-side screen (prints the plain report when "
        "output is not a terminal). Ids, timestamps and trace-tui's own bookkeeping "
        "(trace_tui.replay.*) are ignored unless --strict.",
        epilog="exit status: 0 the runs are equivalent, 1 they differ, 2 bad input "
        "(like diff(1)); differences in the run records alone do not count.",
    )
    p.add_argument(
        "left", metavar="A", help="the run before (alone: a branch file, diffed with its parent)"
    )
    p.add_argument("right", metavar="B", nargs="?", help="the run after")
    p.add_argument("--format", metavar="NAME", help="skip detection for both files")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--plain", action="store_true", help="print a readable report")
    mode.add_argument("--json", action="store_true", help="print a machine-readable report")
    p.add_argument(
        "--ignore",
        metavar="WHAT",
        action="append",
        default=[],
        help="also ignore: a JSON pointer into the step record (globs allowed: "
        "/attributes/gen_ai.usage.*), a field name at any depth (gen_ai.response.id), "
        "or a group: ids, timestamps, latency, tokens, bookkeeping (repeatable)",
    )
    p.add_argument(
        "--strict", action="store_true", help="compare ids, timestamps and bookkeeping too"
    )
    p.add_argument("--policy", metavar="POLICY", help="with --plain/--json: also list the "
                   "steps whose policy verdict changed (blocked → allowed ...)")
    p.add_argument("--theme", metavar="NAME", help="colour theme of the screen")
    redact_arg(p)
    p.set_defaults(handler=handlers["diff"])

    from trace_tui.cli.check import add_check_arguments
    from trace_tui.cli.fork_command import add_fork_arguments, add_replay_arguments

    p = sub.add_parser(
        "check",
        help="check a trace against a policy (exit 0 allowed, 1 blocked, 2 bad input)",
        description="Give every tool call of TRACE a verdict (allowed, warned, blocked) under "
        "an Assay-compatible POLICY (YAML or JSON; docs/policy.md), with rule, reason and "
        "evidence steps, like 'assay explain'.",
        epilog="exit status: 0 nothing blocked, 1 a step is blocked, 2 bad input or an "
        "invalid policy (the message names the file, line and column).",
    )
    add_check_arguments(p)
    redact_arg(p)
    p.set_defaults(handler=handlers["check"])

    p = sub.add_parser(
        "fork",
        help="fork a trace at a step with edited inputs and replay forward (docs/replay.md)",
        description="Fork TRACE at a step with edits (JSON pointers into the step's native "
        "record), replay forward against the recorded fixtures, and save the branch in "
        ".trace-tui/ beside TRACE. Exit 0: replay complete; 3: it stopped and needs an answer.",
    )
    add_fork_arguments(p)
    redact_arg(p)
    p.set_defaults(handler=handlers["fork"])

    p = sub.add_parser(
        "replay",
        help="replay a saved branch again (answer where it stopped, or add a source)",
        description="Replay BRANCH from its parent with its edits, reusing the answers it got "
        "before; save it in place. Exit 0: complete; 3: stopped and needs an answer.",
    )
    add_replay_arguments(p)
    redact_arg(p)
    p.set_defaults(handler=handlers["replay"])

    p = sub.add_parser(
        "convert",
        help="write any supported trace as a native trace",
        description="Read IN (any format 'trace-tui formats' lists) and write it to OUT as a "
        "native trace-tui trace, checked against the schema and written atomically. "
        "Each step keeps the record it came from under 'source'.",
    )
    p.add_argument("file", metavar="IN", help="trace file (any supported format)")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUT.jsonl",
        required=True,
        help="native trace to write (- for standard output)",
    )
    p.add_argument("--format", metavar="NAME", help="skip detection (see 'trace-tui formats')")
    p.add_argument(
        "--no-source", action="store_true", help="leave out the original foreign records"
    )
    redact_arg(p)
    p.set_defaults(handler=handlers["convert"])
    return parser
