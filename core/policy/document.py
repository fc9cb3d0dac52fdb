"""Read a policy file (YAML or JSON) into plain data plus the line of every key and item.

YAML is read with ruamel.yaml (YAML 1.2: ``no``/``on`` stay strings, so a tool named ``no``
is not the boolean false; duplicate keys are an error, not a silent override; and every mapping
key and list item carries its line and column). JSON is YAML 1.2 too, so JSON policies go
through the same reader and get the same line numbers; a JSON file ruamel refuses (tabs inside a
flow collection, say) is read by :mod:`json` and reported with :mod:`json`'s line and column.

Every error is a :class:`PolicyError` naming the file, the line and what is wrong.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trace_tui.core.errors import BadValue
from trace_tui.core.policy.model import Where
from trace_tui.core.text.sanitize import one_line

#: A policy larger than this is refused (a policy is rules, not data).
MAX_POLICY_BYTES = 16 * 1024 * 1024

PathKey = tuple[str | int, ...]


class PolicyError(BadValue):
    """A policy file cannot be used; ``str()`` is one line: ``FILE:LINE:COL: what is wrong``."""

    def __init__(self, where: Where, message: str) -> None:
        super().__init__(one_line(f"{where}: {message}", 400))
        self.where = where
        self.message = message


@dataclass(slots=True)
class PolicyDocument:
    """The plain data of a policy file and where each key and list item was written."""

    path: str
    data: Any
    lines: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def where(self, key: PathKey) -> Where:
        """The location of ``key`` or, failing that, of its nearest located ancestor."""
        probe = key
        while True:
            found = self.lines.get(probe)
            if found is not None:
                return Where(self.path, found[0], found[1])
            if not probe:
                return Where(self.path)
            probe = probe[:-1]

    def error(self, key: PathKey, message: str) -> PolicyError:
        """A :class:`PolicyError` located at ``key``."""
        return PolicyError(self.where(key), message)


def read_policy_document(path: str | os.PathLike[str]) -> PolicyDocument:
    """Read and parse a policy file; raises :class:`PolicyError` on any problem."""
    shown = str(path)
    where = Where(shown)
    try:
        with open(path, "rb") as stream:
            raw = stream.read(MAX_POLICY_BYTES + 1)
    except FileNotFoundError:
        raise PolicyError(where, "no such policy file") from None
    except IsADirectoryError:
        raise PolicyError(where, "is a directory, not a policy file") from None
    except OSError as exc:
        raise PolicyError(where, f"cannot read ({exc.strerror or exc})") from None
    if len(raw) > MAX_POLICY_BYTES:
        raise PolicyError(where, f"larger than {MAX_POLICY_BYTES // (1024 * 1024)} MB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PolicyError(Where(shown, line), "not UTF-8 text") from None
    if not text.strip():
        raise PolicyError(where, "empty policy file")
    return parse_policy_text(text, shown)


def parse_policy_text(text: str, path: str = "<policy>") -> PolicyDocument:
    """Parse policy text (YAML or JSON) into a :class:`PolicyDocument`."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    if Path(path).suffix.lower() == ".json":
        try:
            json.loads(text)  # JSON's own rules first (YAML would take a trailing comma)
        except json.JSONDecodeError as exc:
            raise PolicyError(Where(path, exc.lineno, exc.colno), exc.msg) from None
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        loaded = yaml.load(text)
    except MarkedYAMLError as exc:
        json_doc = _json_fallback(text, path, Path(path).suffix.lower() == ".json")
        if json_doc is not None:
            return json_doc
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p) or "invalid YAML"
        if exc.context_mark is not None and exc.context_mark is not mark:
            problem += f" (opened at line {exc.context_mark.line + 1})"
        where = Where(path, mark.line + 1, mark.column + 1) if mark else Where(path)
        raise PolicyError(where, _one_line(problem)) from None
    except YAMLError as exc:
        raise PolicyError(Where(path), _one_line(str(exc))) from None
    doc = PolicyDocument(path, None)
    doc.data = _plain(loaded, (), doc.lines)
    return doc


def _json_fallback(text: str, path: str, is_json: bool) -> PolicyDocument | None:
    """Read text ruamel refused as JSON (no line map); ``None`` when it is not JSON either."""
    if not (is_json or text.lstrip().startswith("{")):
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if is_json:
            raise PolicyError(Where(path, exc.lineno, exc.colno), exc.msg) from None
        return None
    return PolicyDocument(path, data)


def _plain(value: Any, key: PathKey, lines: dict[PathKey, tuple[int, int]]) -> Any:
    """ruamel's round-trip objects as plain dicts, lists, str, int, float, bool and None."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, CommentedMap):
        lines.setdefault(key, (value.lc.line + 1, value.lc.col + 1))
        out: dict[str, Any] = {}
        for k, v in value.items():
            name = k if isinstance(k, str) else str(_plain(k, key, {}))
            try:
                line, col = value.lc.key(k)
                lines[key + (name,)] = (line + 1, col + 1)
            except (KeyError, TypeError):
                pass
            out[str(name)] = _plain(v, key + (name,), lines)
        return out
    if isinstance(value, CommentedSeq):
        lines.setdefault(key, (value.lc.line + 1, value.lc.col + 1))
        items: list[Any] = []
        for i, v in enumerate(value):
            try:
                line, col = value.lc.item(i)
                lines[key + (i,)] = (line + 1, col + 1)
            except (KeyError, TypeError):
                pass
            items.append(_plain(v, key + (i,), lines))
        return items
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return str(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())
