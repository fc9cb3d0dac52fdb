"""Deciding search candidates cheaply gives the per-step scan's answers (issue 15).

:class:`~trace_tui.core.index.search_confirm.Confirmer` decides a step mapped from one foreign
line from its record (or, when the light decoder vouches for the words, from the parsed line):
on every sample of a format with a light decoder and on generated OTLP files it must decide
exactly as :func:`iter_matches` does, for words of the payload, words the importer writes
itself, digits, escaped and non-ASCII text, words in ids, several terms at once. The OTLP
decoder's ``shown`` must never vouch for a word the mapped span does not hold: spans are built
with every key the mapping modules name, under each kind hint, with plain and JSON-looking
values, and checked against their mapping.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import orjson
import pytest

from bench.generate_foreign import write_otlp
from support import FOREIGN_FILES
from trace_tui.core.formats import detect_format
from trace_tui.core.formats.importers.otlp_light import _MAPPING_MODULES, OtlpLight
from trace_tui.core.formats.shared.vocabulary import invented_words
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.index.search_confirm import Confirmer
from trace_tui.core.model.builder import RunBuilder
from trace_tui.core.model.run import Run
from trace_tui.core.navigation.step_query import StepQuery, fold, iter_matches, payload_text


def _index(path: Path) -> IndexedSource:
    source = IndexedSource(path, detect_format(path), use_light=True)
    while not source.update().complete:
        pass
    return source


def _light_samples() -> list[Path]:
    out = []
    for path in FOREIGN_FILES:
        try:
            fmt = detect_format(path)
        except Exception:
            continue
        if fmt.light is not None:
            out.append(path)
    return out


QUERIES = [
    "chat", "execute_tool", "otel.span.kind", "service.name", "support-bot", "gpt-4o",
    "lookup_order", "text:lookup_order", "name:chat text:refund", "kind:tool refund",
    "is:error", "is:ok order", "zebra-éclair", "Éclair", "日本語", "18", "160", "2024",
    "0000000000000002", "text:\"role\"", "text:'\"content\": \"'", "c:\\\\tmp", "nowhere-at-all",
    "gen_ai.request.model", "text:gen_ai.tool.name", "INTERNAL", "opentelemetry",
]


@pytest.mark.parametrize("rare", ["Zebra-Éclair \\u65e5 \"q\" \\\\ C:\\tmp"])
def test_the_confirmer_decides_as_the_per_step_scan(tmp_path: Path, rare: str) -> None:
    generated = tmp_path / "otlp.jsonl"
    write_otlp(generated, 400, rare=rare)
    checked = 0
    for path in [*_light_samples(), generated]:
        source = _index(path)
        try:
            run = source.run
            words = {w for i in range(0, len(run), 7)
                     for w in payload_text(run.step(i)).replace("\n", " ").split(" ")[::5]
                     if len(w) > 2}
            for text in [*QUERIES, *(shlex.quote(w) for w in sorted(words)[:30])]:
                query = StepQuery.parse(text)
                expected = list(iter_matches(run, query, range(len(run))))
                run._loader.clear()
                assert Confirmer(run, query).matching(range(len(run))) == expected, (
                    path.name, text)
                first = Confirmer(run, query).matching(range(len(run)), first=True)
                assert first == expected[:1], (path.name, text)
                checked += 1
        finally:
            source.close()
    assert checked > 300


def _span(key: str, value: str, hint: tuple[str, str] | None) -> dict[str, Any]:
    attributes = [{"key": key, "value": {"stringValue": value}}]
    if hint is not None:
        attributes.insert(0, {"key": hint[0], "value": {"stringValue": hint[1]}})
    return {"traceId": "ab" * 16, "spanId": "00000000000000a1", "name": "span",
            "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000001000000000",
            "attributes": attributes}


HINTS = [None, ("gen_ai.operation.name", "chat"), ("gen_ai.operation.name", "execute_tool"),
         ("gen_ai.operation.name", "invoke_agent"), ("gen_ai.operation.name", "retrieval"),
         ("openinference.span.kind", "LLM"), ("openinference.span.kind", "TOOL"),
         ("openinference.span.kind", "RETRIEVER"), ("openinference.span.kind", "AGENT"),
         ("gen_ai.request.model", "m")]
VALUES = ["Zqmark here", '{"a": "Zqmark"}', '[{"role": "user", "content": "Zqmark"}]',
          '"Zqmark"', "Zq\\nmark Zqmark"]


def test_shown_never_vouches_for_a_word_the_mapped_span_lacks() -> None:
    decoder = OtlpLight()
    keys = sorted(w for w in invented_words(*_MAPPING_MODULES) if 1 < len(w) < 80)
    keys += ["tool_arguments", "tool_response", "input.value", "output.value", "x.raw",
             "gen_ai.request.model.raw", "plain.key"]
    vouched = 0
    for key in keys:
        for hint in HINTS:
            for value in VALUES:
                spans = [_span(key, value, hint)]
                line = {"resourceSpans": [{
                    "resource": {"attributes": [
                        {"key": "service.name", "value": {"stringValue": "Svc-Zqname"}}]},
                    "scopeSpans": [{"scope": {"name": "scope-Zqscope"}, "spans": spans}]}]}
                value_of = orjson.loads(orjson.dumps(line))
                record = decoder.remap(value_of, 0)
                assert record is not None
                step = RunBuilder(Run()).add(record)
                text = payload_text(step) if step is not None else ""
                for word in ("zqmark", fold(key), "svc-zqname", "scope-zqscope", "zq\\nmark"):
                    if decoder.shown(value_of, 0, lambda t, word=word: word in fold(t)):
                        vouched += 1
                        assert word in text, (key, hint, value, word)
    assert vouched > 1000
