"""The exit codes of every ``trace-tui`` command, defined once.

``diff`` follows diff(1): 0 equivalent, 1 different, 2 trouble. ``fork``/``replay`` add 3 for
a replay that stopped and needs an answer. 1 also means an unexpected error (a bug: the
traceback is in the log file); Ctrl-C is 130 as in every shell.
"""

from __future__ import annotations

#: The command did what was asked (``diff``: the runs are equivalent).
EXIT_OK = 0
#: ``diff``: the runs differ.
EXIT_DIFFERENT = 1
#: ``check``: at least one step is blocked by the policy.
EXIT_BLOCKED = 1
#: An unexpected error, i.e. a bug in trace-tui; the traceback is in the log file.
EXIT_BUG = 1
#: Bad input (missing file, unknown format, bad argument): one line on stderr.
EXIT_USAGE = 2
#: ``fork``/``replay``: the replay stopped and needs an answer or a source.
EXIT_STOPPED = 3
#: Interrupted with Ctrl-C.
EXIT_INTERRUPTED = 130
