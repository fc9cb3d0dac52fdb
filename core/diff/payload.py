"""JSON-aware payload diffs: which JSON pointers changed, were added or were removed.

Two steps that the alignment paired are compared as *step documents* (the span record's
fields: ``kind``, ``name``, ``status``, ``error``, ``span_id``, ``parent_id``, ``start_time``,
``end_time``, ``attributes``), so a pointer reads like a branch edit's path:
``/attributes/gen_ai.tool.call.result/discount_pct``. Before comparing, the fields a user chose
to ignore are pruned from both documents (:class:`IgnoreRules`): by default the ids and the
timestamps, which differ between any two runs, and trace-tui's own bookkeeping attributes
(``trace_tui.replay.*`` and the like), which are not the run's data.

Long strings (prompts, answers) also get a word-level diff: a line diff first, then words within
the lines that changed, so a 50 KB prompt with one edited sentence stays cheap. Lists, lines and
words are matched with :func:`~trace_tui.core.diff.align.sequence_opcodes`, the near-linear
alignment the steps use, so repeated items (blank lines, identical messages) never make a diff
quadratic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

import orjson

from trace_tui.core.diff.align import sequence_opcodes
from trace_tui.core.errors import BadValue
from trace_tui.core.model.run import Step
from trace_tui.core.text.canonical import canonical_json

#: Strings at least this long (or with a newline) get a word-level diff.
WORD_DIFF_MIN_CHARS = 60
#: Strings beyond this size are reported as changed without a word diff.
WORD_DIFF_MAX_CHARS = 1_000_000
#: Changed blocks of lines up to this size get words compared; bigger ones show as replaced.
WORD_DIFF_BLOCK_CHARS = 400_000
#: Lists longer than this are compared index by index instead of by sequence matching.
LIST_MATCH_LIMIT = 5_000

#: Named groups of ignore rules. ``latency`` is an alias of ``timestamps``: a step's latency is
#: derived from its start and end times.
IGNORE_GROUPS: dict[str, tuple[str, ...]] = {
    "ids": (
        "/span_id",
        "/parent_id",
        "/attributes/gen_ai.response.id",
        "/attributes/gen_ai.tool.call.id",
        "/attributes/gen_ai.input.messages/*/tool_call_id",
        "/attributes/gen_ai.input.messages/*/tool_calls/*/id",
        "/attributes/gen_ai.output.messages/*/tool_calls/*/id",
        "/run_id",
        "/session_id",
        "/trace_id",
    ),
    "timestamps": ("/start_time", "/end_time", "/started_at"),
    "latency": ("/start_time", "/end_time", "/started_at"),
    "tokens": ("/attributes/gen_ai.usage.*",),
    # trace-tui's own notes on a record: how replay answered a step (trace_tui.replay.*),
    # what an importer had to guess (trace_tui.import.*), the masking a branch was saved
    # with. They are never the user's data, so an unedited fork diffs equal to its parent.
    "bookkeeping": (
        "/attributes/trace_tui.replay.*",
        "/attributes/trace_tui.import.*",
        "/environment/trace_tui.redaction",
        "/environment/trace_tui.imported_from",
    ),
}
#: Groups ignored unless ``--strict``: they differ between any two runs of the same agent, or
#: are trace-tui's own bookkeeping rather than the run's data.
DEFAULT_IGNORE: tuple[str, ...] = ("ids", "timestamps", "bookkeeping")

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True, slots=True)
class TextPiece:
    """A run of words in a text diff: ``=`` in both, ``-`` only old, ``+`` only new."""

    op: str
    text: str


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One difference between two documents at a JSON pointer.

    ``op`` is ``changed``, ``added`` or ``removed``; ``old``/``new`` hold the values (``None``
    on the side where the field is absent). In lists the pointer uses the new document's index
    for ``changed`` and ``added`` and the old one's for ``removed``. ``words`` is the word-level
    diff when both values are long strings.
    """

    op: str
    pointer: str
    old: Any = None
    new: Any = None
    words: tuple[TextPiece, ...] | None = None


# --------------------------------------------------------------------------- documents
def step_document(step: Step) -> dict[str, Any]:
    """The fields of a step that a diff compares, shaped like its span record."""
    return {
        "kind": step.kind,
        "name": step.name,
        "status": step.status,
        "error": step.error,
        "span_id": step.span_id,
        "parent_id": step.parent_id,
        "start_time": step.start_time,
        "end_time": step.end_time,
        "attributes": step.attributes,
    }


def escape_token(token: str) -> str:
    """One reference token of a JSON pointer (RFC 6901: ``~`` → ``~0``, ``/`` → ``~1``)."""
    return token.replace("~", "~0").replace("/", "~1")


def split_pointer(pointer: str) -> tuple[str, ...]:
    """The unescaped tokens of a JSON pointer (``/a~1b/0`` → ``("a/b", "0")``)."""
    if not pointer.startswith("/"):
        raise BadValue(f"{pointer!r} is not a JSON pointer (it must start with '/')")
    return tuple(t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/"))


# --------------------------------------------------------------------------- ignore rules
@dataclass(slots=True)
class _PatternNode:
    """A trie of pointer patterns: literal tokens, glob tokens, and whether a pattern ends."""

    literal: dict[str, _PatternNode] = field(default_factory=dict)
    globs: dict[str, _PatternNode] = field(default_factory=dict)
    terminal: bool = False

    def add(self, tokens: tuple[str, ...]) -> None:
        """Add one pattern (a pointer's tokens, globs allowed)."""
        node = self
        for token in tokens:
            table = node.globs if _is_glob(token) else node.literal
            node = table.setdefault(token, _PatternNode())
        node.terminal = True

    def children(self, key: str) -> list[_PatternNode]:
        """The nodes a key (or a list index as text) leads to; usually none or one."""
        child = self.literal.get(key)
        found = [child] if child is not None else []
        for pattern, node in self.globs.items():
            if pattern == "*" or fnmatchcase(key, pattern):
                found.append(node)
        return found


def _is_glob(token: str) -> bool:
    return any(c in token for c in "*?[")


class _NeedsPruning(Exception):
    """Two patterns reach the same value: compare by pruning instead of walking."""


@dataclass(frozen=True, slots=True)
class IgnoreRules:
    """What to leave out of a comparison: pointer patterns and field names.

    A pointer pattern is a JSON pointer whose tokens may be globs (``*`` matches any key or
    index); a field name matches that key at any depth (globs allowed too). ``words`` are the
    user's words the rules came from, for reports.
    """

    words: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    _trie: _PatternNode = field(default_factory=_PatternNode, repr=False, compare=False)

    @classmethod
    def build(cls, ignore: Iterable[str] = (), *, strict: bool = False) -> IgnoreRules:
        """Rules from user words: group names, pointers (``/...``) or field names.

        Without ``strict`` the :data:`DEFAULT_IGNORE` groups come first. Raises
        :class:`ValueError` for an empty word.
        """
        words = [w.strip() for w in (*(() if strict else DEFAULT_IGNORE), *ignore)]
        trie = _PatternNode()
        fields: list[str] = []
        for word in words:
            if not word:
                raise BadValue("--ignore needs a group, a JSON pointer or a field name")
            if word in IGNORE_GROUPS:
                for pointer in IGNORE_GROUPS[word]:
                    trie.add(split_pointer(pointer))
            elif word.startswith("/"):
                trie.add(split_pointer(word))
            else:
                fields.append(word)
        return cls(tuple(dict.fromkeys(words)), tuple(dict.fromkeys(fields)), trie)

    def prune(self, doc: Any) -> Any:
        """``doc`` without the ignored parts; containers are copied only where cut."""
        doc = _prune(doc, self._trie)
        if self.fields:
            doc = _prune_fields(doc, self.fields)
        return doc

    def equal(self, a: Any, b: Any) -> bool:
        """Whether ``a`` and ``b`` are equal once pruned, without copying them when it can."""
        if self.fields:
            return same_json(self.prune(a), self.prune(b))
        try:
            return _equal_under(a, b, self._trie)
        except _NeedsPruning:
            return same_json(_prune(a, self._trie), _prune(b, self._trie))


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON: like ``==`` except that ``true`` is not ``1`` (``1`` and ``1.0`` are)."""
    if a != b:
        return False
    if type(a) is type(b):
        if type(a) is dict or type(a) is list:
            try:
                if orjson.dumps(a) == orjson.dumps(b):
                    return True
            except TypeError:
                pass
            return _deep_same(a, b)
        return True
    return not isinstance(a, bool) and not isinstance(b, bool)


def _deep_same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(v, b[k]) for k, v in a.items())
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return same_json(a, b)


def _equal_under(a: Any, b: Any, node: _PatternNode) -> bool:
    """``prune(a) == prune(b)`` for the patterns below ``node``, walking only where needed."""
    if same_json(a, b):
        return True  # equal values stay equal whatever is pruned from both
    if type(a) is dict and type(b) is dict:
        return _dicts_equal_under(a, b, node)
    if type(a) is list and type(b) is list:
        if node.literal or set(node.globs) - {"*"}:
            raise _NeedsPruning
        star = node.globs.get("*")
        if star is None:
            return False
        if star.terminal:
            return True
        if len(a) != len(b):
            return False
        return all(_equal_under(x, y, star) for x, y in zip(a, b, strict=True))
    return False


def _dicts_equal_under(a: dict[Any, Any], b: dict[Any, Any], node: _PatternNode) -> bool:
    literal_only = not node.globs
    for key, value in a.items():
        child = _only_child(node, key, literal_only)
        if child is not None and child.terminal:
            continue
        if key not in b:
            return False
        if child is None:
            if not same_json(value, b[key]):
                return False
        elif not _equal_under(value, b[key], child):
            return False
    for key in b:
        if key not in a:
            child = _only_child(node, key, literal_only)
            if child is None or not child.terminal:
                return False
    return True


def _only_child(node: _PatternNode, key: Any, literal_only: bool) -> _PatternNode | None:
    if literal_only:
        return node.literal.get(key)
    found = node.children(str(key))
    if len(found) > 1 and not any(c.terminal for c in found):
        raise _NeedsPruning
    return next((c for c in found if c.terminal), found[0] if found else None)


def _prune(value: Any, node: _PatternNode) -> Any:
    """``value`` with everything the pattern trie ``node`` reaches removed (copy on write)."""
    if isinstance(value, dict):
        if not node.globs:
            hits = [k for k in node.literal if k in value]
        else:
            hits = [k for k in value if node.children(str(k))]
        out: dict[Any, Any] | None = None
        for key in hits:
            out = out if out is not None else dict(value)
            _cut(out, key, value[key], node.children(str(key)))
        return value if out is None else out
    if isinstance(value, list) and (node.globs or node.literal):
        items = list(value)
        gone: set[int] = set()
        for n in range(len(value)):
            for child in node.children(str(n)):
                if child.terminal:
                    gone.add(n)
                else:
                    items[n] = _prune(items[n], child)
        if gone:
            items = [item for n, item in enumerate(items) if n not in gone]
        changed = gone or any(x is not y for x, y in zip(items, value, strict=True))
        return items if changed else value
    return value


def _cut(out: dict[Any, Any], key: Any, value: Any, children: list[_PatternNode]) -> None:
    for child in children:
        if child.terminal:
            out.pop(key, None)
            return
        value = _prune(value, child)
    out[key] = value


def _prune_fields(value: Any, fields: tuple[str, ...]) -> Any:
    """``value`` without keys matching ``fields`` at any depth (copy on write)."""
    if isinstance(value, dict):
        out = {
            k: _prune_fields(v, fields)
            for k, v in value.items()
            if not any(_field_matches(f, str(k)) for f in fields)
        }
        same = len(out) == len(value) and all(out[k] is value[k] for k in out)
        return value if same else out
    if isinstance(value, list):
        items = [_prune_fields(v, fields) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value


def _field_matches(pattern: str, key: str) -> bool:
    return fnmatchcase(key, pattern) if _is_glob(pattern) else pattern == key


# --------------------------------------------------------------------------- value diff
def diff_values(old: Any, new: Any, pointer: str = "") -> list[FieldChange]:
    """Every difference between two JSON values, as pointer-addressed changes."""
    return list(_diff(old, new, pointer))


def _diff(old: Any, new: Any, pointer: str) -> Iterator[FieldChange]:
    if same_json(old, new):
        return
    if isinstance(old, dict) and isinstance(new, dict):
        yield from _diff_dicts(old, new, pointer)
    elif isinstance(old, list) and isinstance(new, list):
        yield from _diff_lists(old, new, pointer)
    elif isinstance(old, str) and isinstance(new, str) and _wants_words(old, new):
        yield FieldChange(CHANGED, pointer, old, new, tuple(word_diff(old, new)))
    else:
        yield FieldChange(CHANGED, pointer, old, new)


def _diff_dicts(old: dict[str, Any], new: dict[str, Any], pointer: str) -> Iterator[FieldChange]:
    for key, value in old.items():
        here = f"{pointer}/{escape_token(str(key))}"
        if key not in new:
            yield FieldChange(REMOVED, here, value, None)
        else:
            yield from _diff(value, new[key], here)
    for key, value in new.items():
        if key not in old:
            yield FieldChange(ADDED, f"{pointer}/{escape_token(str(key))}", None, value)


def _diff_lists(old: list[Any], new: list[Any], pointer: str) -> Iterator[FieldChange]:
    if len(old) == len(new) or max(len(old), len(new)) > LIST_MATCH_LIMIT:
        for n in range(min(len(old), len(new))):
            yield from _diff(old[n], new[n], f"{pointer}/{n}")
        for n in range(len(new), len(old)):
            yield FieldChange(REMOVED, f"{pointer}/{n}", old[n], None)
        for n in range(len(old), len(new)):
            yield FieldChange(ADDED, f"{pointer}/{n}", None, new[n])
        return
    opcodes = sequence_opcodes([canonical_json(v) for v in old], [canonical_json(v) for v in new])
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            yield from _diff(old[i1 + k], new[j1 + k], f"{pointer}/{j1 + k}")
        for n in range(i1 + paired, i2):
            yield FieldChange(REMOVED, f"{pointer}/{n}", old[n], None)
        for n in range(j1 + paired, j2):
            yield FieldChange(ADDED, f"{pointer}/{n}", None, new[n])


# --------------------------------------------------------------------------- word diff
_WORD = re.compile(r"\s+|\w+|[^\w\s]")


def _wants_words(old: str, new: str) -> bool:
    longest = max(len(old), len(new))
    if longest > WORD_DIFF_MAX_CHARS:
        return False
    return longest >= WORD_DIFF_MIN_CHARS or "\n" in old or "\n" in new


def word_diff(old: str, new: str) -> list[TextPiece]:
    """Word-level diff of two texts: lines first, then words inside changed lines."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    pieces: list[TextPiece] = []
    for tag, i1, i2, j1, j2 in sequence_opcodes(old_lines, new_lines):
        a, b = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        if tag == "equal":
            pieces.append(TextPiece("=", a))
        elif tag == "replace" and len(a) + len(b) <= WORD_DIFF_BLOCK_CHARS:
            pieces.extend(_word_pieces(a, b))
        else:
            pieces.extend(p for p in (TextPiece("-", a), TextPiece("+", b)) if p.text)
    return _merge(pieces)


def _word_pieces(old: str, new: str) -> list[TextPiece]:
    a, b = _WORD.findall(old), _WORD.findall(new)
    out: list[TextPiece] = []
    for tag, i1, i2, j1, j2 in sequence_opcodes(a, b):
        if tag == "equal":
            out.append(TextPiece("=", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(TextPiece("-", "".join(a[i1:i2])))
        if j2 > j1:
            out.append(TextPiece("+", "".join(b[j1:j2])))
    return out


def _merge(pieces: list[TextPiece]) -> list[TextPiece]:
    """Join neighbouring pieces of the same kind, removed before added."""
    out: list[TextPiece] = []
    for piece in pieces:
        if out and out[-1].op == piece.op:
            out[-1] = TextPiece(piece.op, out[-1].text + piece.text)
        else:
            out.append(piece)
    return out
