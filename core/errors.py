"""The project's own error types: what the command line reports as bad input.

Every error a user can cause (a missing file, an unknown format, a bad ``--set`` edit, a
broken ``redact.json``...) is a :class:`BadInput`; the command line prints its message as one
line and exits 2 (:mod:`trace_tui.cli.exit_codes`). Anything else that escapes a command is a
bug: its traceback goes to the log file and the user sees one line naming that file, exit 1.

Errors that callers have always been able to catch as ``ValueError`` keep that base too
(:class:`BadValue`), so ``except ValueError`` in existing code still sees them.
"""

from __future__ import annotations


class TraceTuiError(Exception):
    """Base of every error trace-tui raises on purpose."""


class BadInput(TraceTuiError):
    """The user's input cannot be used; the message is one line saying why (exit 2)."""


class BadValue(BadInput, ValueError):
    """Bad input that is also a ``ValueError`` (a value given by the user does not parse)."""
