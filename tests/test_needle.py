""":class:`~trace_tui.core.index.needle.LineFinder` finds exactly the lines whose lower-cased
bytes hold a form, whichever way it looks (raw anchor or lowered block)."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from trace_tui.core.index.needle import LineFinder, needle_forms

# bytes that make near misses likely: the needle's letters in both cases, its caseless
# bytes, the bytes re or lower() could fold wrongly (Latin-1 letters, the Kelvin sign's
# UTF-8, 0xC0-0xFF), escapes and line ends
BYTES = st.sampled_from(
    [*b"abcABC7-_\\u0e9E\n\n \"", 0xC3, 0x89, 0xA9, 0xC9, 0xE9, 0xE2, 0x84, 0xAA, 0xFF, 0x80]
)
FORMS = st.sampled_from([b"a", b"ab", b"aba", b"abab", b"7", b"a7", b"7a", b"-7a", b"b-a",
                         b"\\u00e9", b"\xc3\xa9", b"caf\xc3\xa9", b"\\u00c9a", b"a_b", b"aa7",
                         b"e9", b"\xe2\x84\xaa", b"a7a7", b"ab-ab-"])


def _expected(block: bytes, forms: tuple[bytes, ...]) -> set[int]:
    starts, at = set(), 0
    for line in block.split(b"\n"):
        if any(form in line.lower() for form in forms):
            starts.add(at)
        at += len(line) + 1
    return starts


@settings(max_examples=400, deadline=None)
@given(
    block=st.lists(BYTES, max_size=60).map(bytes),
    forms=st.lists(FORMS, min_size=1, max_size=2, unique=True).map(tuple),
    sample=st.lists(BYTES, max_size=30).map(bytes),
    way=st.sampled_from([None, "memchr", "re", "lower"]),
    tail=st.none() | st.lists(BYTES.filter(lambda b: b != 10), max_size=8).map(bytes),
)
# a candidate that fails its check overlaps the real form: the scan must not skip past it
@example(block=b"b7A7a7", forms=(b"a7a7",), sample=b"", way="re", tail=None)
@example(block=b"77A", forms=(b"7a",), sample=b"", way="memchr", tail=None)
def test_lines_are_exactly_those_holding_a_form(
    block: bytes, forms: tuple[bytes, ...], sample: bytes, way: str | None,
    tail: bytes | None,
) -> None:
    finder = LineFinder(forms, sample or block, way)
    if tail is None:  # the whole block
        found = list(finder.lines(block))
    else:  # whole lines, then the start of a line that is not to be looked at
        found = list(finder.lines(block + b"\n" + tail, len(block) + 1))
    for start, end in found:
        assert start == 0 or block[start - 1] == 10
        assert end == len(block) or block[end] == 10
    assert {start for start, _ in found} == _expected(block, forms)


def test_raw_is_chosen_for_a_rare_caseless_byte() -> None:
    sample = b"abcdefghij" * 1000 + b"-" * 50 + b"7" * 5
    finder = LineFinder((b"clair-7q",), sample)
    assert finder.forms[0].way == "re" and finder.forms[0].before == b"clair-"
    assert not finder.lowers
    big = b"-" * 50 + b"7" + b"abcdefghij" * 100_000  # '7' once in 1 MB: memchr finds it
    assert LineFinder((b"clair-7q",), big).forms[0].way == "memchr"
    assert not LineFinder((b"refund",), sample).forms[0].raw  # letters only: lowered
    assert not LineFinder((b"ab-",), b"-" * 1000 + b"ab").forms[0].raw  # '-' too common
    block = b'{"x": "CLAIR-7Q"}\n{"x": "clair-7"}\n{"x": "Clair-7q!"}'
    assert [block[s:e] for s, e in finder.lines(block)] == [
        b'{"x": "CLAIR-7Q"}', b'{"x": "Clair-7q!"}']


def test_forms_of_non_ascii_words_find_raw_and_escaped_text() -> None:
    forms = needle_forms("日本")
    block = '{"a": "日本"}\n{"a": "\\u65E5\\u672C"}\n{"a": "日"}\n'.encode()
    for way in (None, "memchr", "re", "lower"):
        lines = [block[s:e] for s, e in LineFinder(forms, block, way).lines(block)]
        assert sorted(lines) == sorted(block.split(b"\n")[:2]), way
