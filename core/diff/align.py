"""Align the steps of two runs by what they are, not by where they are.

Comparing step 7 with step 7 falls apart as soon as one run makes one extra tool call: every
later step is "changed". Instead each step gets three signatures, from strict to loose, built
from what the step *is* and where it sits in the tree (never from ids or times):

* ``weak``: kind, a label (tool name, operation, agent name) and its tree position (depth and
  the parent's kind and label);
* ``mid``: ``weak`` plus the span name (``chat gpt-4o`` vs ``chat gpt-4o-mini``);
* ``strong``: ``mid`` plus the content that identifies the step: a tool's arguments, a model
  call's answer (tool-call ids stripped), a retrieval's query, as canonical sorted-key JSON.

The alignment is patience-diff style, so it stays near-linear on huge runs:

1. trim the common prefix and suffix of equal strong signatures;
2. anchor on signatures that occur exactly once on each side (strong first, then mid), keep
   the longest increasing run of those anchors, and recurse into the gaps between them;
3. a gap with no unique anchors is aligned by a weighted LCS (strong > mid > weak matches)
   when it is small, and by a greedy walk with a short look-ahead when it is huge, so no input
   makes the whole thing quadratic.

Matched pairs are later classified ``same`` or ``changed`` by comparing payloads
(:mod:`trace_tui.core.diff.compare`); unmatched steps are removals (left only) or insertions (right
only). This module knows nothing about payload diffs or the UI.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from trace_tui.core.model.run import (
    A_AGENT_NAME,
    A_OPERATION,
    A_OUTPUT_MESSAGES,
    A_RETRIEVAL_QUERY,
    A_TOOL_ARGUMENTS,
    A_TOOL_NAME,
    Run,
    RunView,
    Step,
)
from trace_tui.core.text.canonical import canonical_json

log = logging.getLogger(__name__)

#: Gaps with at most this many cells (left length x right length) get the exact weighted LCS.
DP_CELL_LIMIT = 40_000
#: How far the greedy walk over a huge unanchored gap looks ahead for a matching step.
LOOKAHEAD = 16

#: Levels of anchoring: strong signatures, mid signatures, runs of GRAM strong signatures.
_STRONG, _MID, _GRAMS = 0, 1, 2
#: Weights of a strong, mid and weak match in the small-gap LCS.
_W_STRONG, _W_MID, _W_WEAK = 4, 2, 1
#: Length of the runs of consecutive steps used as anchors when single steps repeat.
GRAM = 4

#: A ``difflib``-style edit: tag, left ``[i1, i2)``, right ``[j1, j2)``.
Opcode = tuple[str, int, int, int, int]
#: A range still to align: left ``[alo, ahi)``, right ``[blo, bhi)``, signature level to try.
_Gap = tuple[int, int, int, int, int]


class AlignedPair(NamedTuple):
    """One row of an alignment: a left step index, a right one, or both when they match."""

    left: int | None
    right: int | None


@dataclass(slots=True)
class Signatures:
    """The three signature hashes of every step of one run, in step order."""

    strong: list[int] = field(default_factory=list)
    mid: list[int] = field(default_factory=list)
    weak: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.strong)

    def level(self, level: int) -> list[int]:
        """The hashes of one level: 0 strong, 1 mid, 2 weak."""
        return (self.strong, self.mid, self.weak)[level]


@dataclass(slots=True)
class Alignment:
    """The aligned rows of two runs, in display order, and how they were found.

    Row ``r`` pairs left step ``left[r]`` with right step ``right[r]``; ``-1`` means that side
    has no step in the row (a removal when right is ``-1``, an insertion when left is).
    """

    left: list[int]
    right: list[int]
    left_count: int
    right_count: int
    stats: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.left)

    def pair(self, row: int) -> AlignedPair:
        """Row ``row`` as a pair of optional step indices."""
        i, j = self.left[row], self.right[row]
        return AlignedPair(i if i >= 0 else None, j if j >= 0 else None)

    def pairs(self) -> list[AlignedPair]:
        """Every row as a pair of optional step indices."""
        return [self.pair(r) for r in range(len(self.left))]

    @property
    def matched(self) -> int:
        """How many rows pair a left step with a right step."""
        return sum(1 for i, j in zip(self.left, self.right, strict=True) if i >= 0 and j >= 0)


# --------------------------------------------------------------------------- signatures
#: What a step without a payload signature (agent, other) has instead; canonical JSON is never "".
_NO_CONTENT = object()


def answer_key(messages: Any) -> Any:
    """A model's answer without tool-call ids (they differ between otherwise equal runs):
    per message its role, content and the ``(name, arguments)`` of each tool call."""
    if type(messages) is not list:
        return messages
    out: list[Any] = []
    for m in messages:
        if type(m) is dict:
            calls = m.get("tool_calls")
            if type(calls) is list:
                calls = [
                    (c.get("name"), c.get("arguments")) if type(c) is dict else c for c in calls
                ]
            out.append((m.get("role"), m.get("content"), calls))
        else:
            out.append(m)
    return out


def step_label(step: Step) -> str:
    """What a step is within its kind: tool name, operation, agent name, else its name."""
    attrs = step.attributes
    kind = step.kind
    if kind == "tool":
        return str(attrs.get(A_TOOL_NAME) or step.name)
    if kind == "llm":
        return str(attrs.get(A_OPERATION) or "chat")
    if kind == "agent":
        return str(attrs.get(A_AGENT_NAME) or step.name)
    return step.name


def step_content(step: Step) -> str:
    """The content that identifies a step of its kind, as canonical JSON (may be empty)."""
    kind = step.kind
    if kind == "tool":
        return canonical_json(step.attributes.get(A_TOOL_ARGUMENTS))
    if kind == "llm":
        return canonical_json(answer_key(step.attributes.get(A_OUTPUT_MESSAGES)))
    if kind == "retrieval":
        return canonical_json(step.attributes.get(A_RETRIEVAL_QUERY))
    return ""


def signatures(run: RunView, *, across_formats: bool = False) -> Signatures:
    """Signatures of every step of ``run`` (see the module docstring for what they hold).

    A step's parent counts only when it appeared earlier in the file, as in the run's tree.
    This loop runs once per step of both runs, so it is written for speed: the label and
    content rules of :func:`step_label` and :func:`step_content` are inlined.
    """
    sigs = Signatures()
    weak_out, mid_out, strong_out = sigs.weak, sigs.mid, sigs.strong
    index_of: dict[str, int] = {}
    idents: list[tuple[str, str]] = []
    depths: list[int] = []
    steps = run.steps if isinstance(run, Run) else (run.step(i) for i in range(len(run)))
    for i, step in enumerate(steps):
        kind, attrs = step.kind, step.attributes
        content: Any = _NO_CONTENT
        if kind == "tool":
            label = attrs.get(A_TOOL_NAME) or step.name
            content = attrs.get(A_TOOL_ARGUMENTS)
        elif kind == "llm":
            label = attrs.get(A_OPERATION) or "chat"
            content = answer_key(attrs.get(A_OUTPUT_MESSAGES))
        elif kind == "agent":
            label = attrs.get(A_AGENT_NAME) or step.name
        else:
            label = step.name
            if kind == "retrieval":
                content = attrs.get(A_RETRIEVAL_QUERY)
        content = "" if content is _NO_CONTENT else canonical_json(content)
        ident = (kind, label if type(label) is str else str(label))
        parent = index_of.get(step.parent_id) if step.parent_id is not None else None
        if across_formats:
            # two agents recording one incident: names, tree shapes and tool names differ,
            # so pair by kind; tool name and arguments still make the strongest pairs
            depths.append(0 if parent is None else depths[parent] + 1)
            weak = hash((kind, 0, None))
            mid = hash((weak, label if kind == "tool" else ""))
            weak_out.append(weak)
            mid_out.append(mid)
            strong_out.append(hash((mid, content)))
            idents.append(ident)
            index_of.setdefault(step.span_id, i)
            continue
        if parent is None:
            depths.append(0)
            weak = hash((ident, 0, None))
        else:
            depths.append(depths[parent] + 1)
            weak = hash((ident, depths[parent] + 1, idents[parent]))
        mid = hash((weak, step.name))
        weak_out.append(weak)
        mid_out.append(mid)
        strong_out.append(hash((mid, content)))
        idents.append(ident)
        if step.span_id not in index_of:
            index_of[step.span_id] = i
    return sigs


# --------------------------------------------------------------------------- alignment
def align_runs(left: RunView, right: RunView) -> Alignment:
    """Align the steps of two runs (see the module docstring).

    Runs recorded by two different formats (Claude Code and Codex on the same incident) are
    paired by kind: the agent turn with the agent turn, model calls with model calls, tool
    calls with tool calls (same tool and arguments first, then in order).
    """
    across = getattr(left, "format_name", None) != getattr(right, "format_name", None)
    return align_signatures(
        signatures(left, across_formats=across), signatures(right, across_formats=across)
    )


def align_signatures(left: Signatures, right: Signatures) -> Alignment:
    """Align two signature lists; the rows come out in order, removals before insertions."""
    aligner = _Aligner(left, right)
    aligner.run()
    rows_left, rows_right = _rows(aligner.match, len(right))
    return Alignment(rows_left, rows_right, len(left), len(right), dict(aligner.stats))


def sequence_opcodes(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[Opcode]:
    """``difflib``-style opcodes (``equal``/``replace``/``delete``/``insert``, ``i1, i2, j1,
    j2``) turning ``a`` into ``b``, found by the same near-linear alignment as steps.

    Unlike :class:`difflib.SequenceMatcher` without autojunk, repeated items (blank lines,
    common words, identical messages) never make it quadratic.
    """
    keys_a, keys_b = [hash(x) for x in a], [hash(x) for x in b]
    aligner = _Aligner(Signatures(keys_a, keys_a, keys_a), Signatures(keys_b, keys_b, keys_b))
    aligner.run()
    opcodes: list[Opcode] = []
    i_next = j_next = 0
    for i, j in enumerate([*aligner.match, len(b)]):
        if j < 0:
            continue
        if i > i_next or j > j_next:
            tag = "replace" if i > i_next and j > j_next else "delete" if i > i_next else "insert"
            opcodes.append((tag, i_next, i, j_next, j))
        if i < len(a):
            last = opcodes[-1] if opcodes else None
            if last is not None and last[0] == "equal" and last[2] == i and last[4] == j:
                opcodes[-1] = ("equal", last[1], i + 1, last[3], j + 1)
            else:
                opcodes.append(("equal", i, i + 1, j, j + 1))
        i_next, j_next = i + 1, j + 1
    return opcodes


def _rows(match: list[int], n_right: int) -> tuple[list[int], list[int]]:
    """Interleave matched pairs with the unmatched steps between them (``-1``: no step)."""
    left: list[int] = []
    right: list[int] = []
    i_next = j_next = 0
    for i, j in enumerate(match):
        if j < 0:
            continue
        if i > i_next:
            left.extend(range(i_next, i))
            right.extend([-1] * (i - i_next))
        if j > j_next:
            left.extend([-1] * (j - j_next))
            right.extend(range(j_next, j))
        left.append(i)
        right.append(j)
        i_next, j_next = i + 1, j + 1
    left.extend(range(i_next, len(match)))
    right.extend([-1] * (len(match) - i_next))
    left.extend([-1] * (n_right - j_next))
    right.extend(range(j_next, n_right))
    return left, right


class _Aligner:
    """The work of one alignment: a stack of gaps to align, and the matches found so far
    (``match[i]`` is the right index paired with left step ``i``, or ``-1``)."""

    def __init__(self, left: Signatures, right: Signatures) -> None:
        self.a = left
        self.b = right
        self.match = [-1] * len(left)
        self.stats: Counter[str] = Counter()

    def run(self) -> None:
        """Align everything into :attr:`match`."""
        stack: list[_Gap] = [(0, len(self.a), 0, len(self.b), _STRONG)]
        while stack:
            stack.extend(self._gap(*stack.pop()))

    def _gap(self, alo: int, ahi: int, blo: int, bhi: int, level: int) -> list[_Gap]:
        """Align one gap; returns the smaller gaps still to do."""
        alo, ahi, blo, bhi = self._trim(alo, ahi, blo, bhi)
        if alo == ahi or blo == bhi:
            return []
        cells = (ahi - alo) * (bhi - blo)
        if level <= _GRAMS and cells > 16:
            anchors = self._unique_anchors(alo, ahi, blo, bhi, level)
            if anchors:
                self.stats["anchors"] += len(anchors)
                for i, j in anchors:
                    self.match[i] = j
                return _gaps_between(anchors, alo, ahi, blo, bhi)
            return [(alo, ahi, blo, bhi, level + 1)]
        if cells <= DP_CELL_LIMIT:
            self._weighted_lcs(alo, ahi, blo, bhi)
        else:
            self.stats["greedy_gaps"] += 1
            self._greedy(alo, ahi, blo, bhi)
        return []

    def _trim(self, alo: int, ahi: int, blo: int, bhi: int) -> tuple[int, int, int, int]:
        """Match the common prefix and suffix of equal strong signatures."""
        a, b, match = self.a.strong, self.b.strong, self.match
        while alo < ahi and blo < bhi and a[alo] == b[blo]:
            match[alo] = blo
            alo, blo = alo + 1, blo + 1
        while alo < ahi and blo < bhi and a[ahi - 1] == b[bhi - 1]:
            ahi, bhi = ahi - 1, bhi - 1
            match[ahi] = bhi
        return alo, ahi, blo, bhi

    def _unique_anchors(
        self, alo: int, ahi: int, blo: int, bhi: int, level: int
    ) -> list[tuple[int, int]]:
        """Pairs of signatures unique on both sides, longest increasing subsequence of them."""
        if level == _GRAMS:
            seg_a, seg_b = _grams(self.a.strong, alo, ahi), _grams(self.b.strong, blo, bhi)
        else:
            seg_a, seg_b = self.a.level(level)[alo:ahi], self.b.level(level)[blo:bhi]
        count_a, count_b = Counter(seg_a), Counter(seg_b)
        # Counter keeps first-seen order, so the unique keys come in left-position order.
        unique = [k for k, n in count_a.items() if n == 1 and count_b.get(k) == 1]
        if not unique:
            return []
        where_a = dict(zip(seg_a, range(alo, ahi), strict=False))
        where_b = dict(zip(seg_b, range(blo, bhi), strict=False))
        return longest_increasing([(where_a[k], where_b[k]) for k in unique])

    def _weighted_lcs(self, alo: int, ahi: int, blo: int, bhi: int) -> None:
        """Exact alignment of a small gap: most strong, then mid, then weak matches."""
        self.stats["dp_gaps"] += 1
        n, m = ahi - alo, bhi - blo
        weight = [[_weight(self.a, self.b, alo + i, blo + j) for j in range(m)] for i in range(n)]
        score = [[0] * (m + 1) for _ in range(n + 1)]
        for i in range(n - 1, -1, -1):
            row, below, w_row = score[i], score[i + 1], weight[i]
            for j in range(m - 1, -1, -1):
                best = below[j] if below[j] > row[j + 1] else row[j + 1]
                w = w_row[j]
                if w and below[j + 1] + w > best:
                    best = below[j + 1] + w
                row[j] = best
        i = j = 0
        while i < n and j < m:
            w = weight[i][j]
            if w and score[i][j] == score[i + 1][j + 1] + w:
                self.match[alo + i] = blo + j
                i, j = i + 1, j + 1
            elif score[i + 1][j] >= score[i][j + 1]:
                i += 1
            else:
                j += 1

    def _greedy(self, alo: int, ahi: int, blo: int, bhi: int) -> None:
        """Linear alignment of a huge unanchored gap: pair equal weak signatures, looking a
        few steps ahead on either side to skip an insertion or a removal."""
        a, b, match = self.a.weak, self.b.weak, self.match
        i, j = alo, blo
        while i < ahi and j < bhi:
            if a[i] == b[j]:
                match[i] = j
                i, j = i + 1, j + 1
                continue
            skip_b = _find(b, a[i], j + 1, min(bhi, j + LOOKAHEAD))
            skip_a = _find(a, b[j], i + 1, min(ahi, i + LOOKAHEAD))
            if skip_b is not None and (skip_a is None or skip_b - j <= skip_a - i):
                j = skip_b
            elif skip_a is not None:
                i = skip_a
            else:
                i, j = i + 1, j + 1


def _weight(a: Signatures, b: Signatures, i: int, j: int) -> int:
    if a.weak[i] != b.weak[j]:
        return 0
    if a.strong[i] == b.strong[j]:
        return _W_STRONG
    return _W_MID if a.mid[i] == b.mid[j] else _W_WEAK


def _grams(values: list[int], lo: int, hi: int) -> list[int]:
    """Hashes of the runs of :data:`GRAM` consecutive values starting at ``lo .. hi-GRAM``."""
    shifted = [values[lo + k : hi] for k in range(GRAM)]
    return [hash(t) for t in zip(*shifted, strict=False)]


def _find(values: Sequence[int], wanted: int, lo: int, hi: int) -> int | None:
    for k in range(lo, hi):
        if values[k] == wanted:
            return k
    return None


def _gaps_between(
    anchors: list[tuple[int, int]], alo: int, ahi: int, blo: int, bhi: int
) -> list[_Gap]:
    """The ranges left between consecutive anchors (and the range's ends), to align from the
    strong level again: a signature repeated in the whole range may be unique in a gap."""
    gaps: list[_Gap] = []
    prev_a, prev_b = alo, blo
    for i, j in [*anchors, (ahi, bhi)]:
        if i > prev_a or j > prev_b:
            gaps.append((prev_a, i, prev_b, j, _STRONG))
        prev_a, prev_b = i + 1, j + 1
    return gaps


def longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of ``pairs`` (sorted by first item) increasing in the second.

    Patience sorting, ``O(k log k)``; ``O(k)`` when the pairs already increase (no step
    moved), which is the usual case.
    """
    if all(p[1] < q[1] for p, q in zip(pairs, pairs[1:], strict=False)):
        return pairs
    tails: list[int] = []
    tail_at: list[int] = []
    back: list[int] = []
    for k, (_, j) in enumerate(pairs):
        pos = bisect_left(tails, j)
        if pos == len(tails):
            tails.append(j)
            tail_at.append(k)
        else:
            tails[pos] = j
            tail_at[pos] = k
        back.append(tail_at[pos - 1] if pos else -1)
    out: list[tuple[int, int]] = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        out.append(pairs[k])
        k = back[k]
    out.reverse()
    return out
