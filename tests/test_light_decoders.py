"""Foreign formats' light decoders index exactly what their mappers do (issue 15).

Every format with a light decoder is indexed twice, through the decoder and through the full
mapper (``use_light=False``), on every real and handmade sample of that format and on files
cut, repeated and damaged anywhere (hypothesis); every index column, every problem and every
built step must be the same. A byte search over steps mapped from source lines finds exactly
what the per-step scan finds, words the importer writes itself included.
"""

from __future__ import annotations

import dataclasses
import math
import shlex
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from search_agrees import search_agrees

from bench.generate_foreign import write_otlp
from support import FOREIGN_FILES, ROOT
from trace_tui.core.formats import detect_format
from trace_tui.core.formats.base import TraceFormat
from trace_tui.core.index import indexer as index_module
from trace_tui.core.index.byte_search import ByteSearch
from trace_tui.core.index.columns import ORIGIN_SOURCE_LINE
from trace_tui.core.index.indexer import IndexedSource
from trace_tui.core.navigation.step_query import StepQuery, iter_matches, payload_text

FRAMEWORKS = ROOT / "tests" / "data" / "frameworks"


def _light_samples() -> list[Path]:
    paths = [*FOREIGN_FILES, *sorted(FRAMEWORKS.glob("*.jsonl"))]
    out = []
    for path in paths:
        try:
            fmt = detect_format(path)
        except Exception:
            continue
        if fmt.light is not None:
            out.append(path)
    return out


SAMPLES = _light_samples()


def _index(path: Path, fmt: TraceFormat, light: bool) -> IndexedSource:
    source = IndexedSource(path, fmt, use_light=light)
    while not source.update().complete:
        pass
    return source


def _time(value: float) -> float | None:
    return None if math.isnan(value) else value


def _columns(source: IndexedSource) -> dict[str, Any]:
    """Every fact of the index but where the records are kept (which differs on purpose)."""
    cols, count = source.run._cols, len(source.run)
    return {
        "count": count,
        "line": list(cols.line[:count]),
        "parent": list(cols.parent[:count]),
        "depth": list(cols.depth[: count + 1]),
        "kind": bytes(cols.kind[:count]),
        "status": bytes(cols.status[:count]),
        "flags": bytes(cols.flags[:count]),
        "name": [cols.name_of(i) for i in range(count)],
        "start": [_time(v) for v in cols.start[:count]],
        "end": [_time(v) for v in cols.end[:count]],
        "tokens": [[cols.tokens_of(i, c) for i in range(count)] for c in range(4)],
        "ends": [len(cols.end_offsets(i)) for i in range(count)],
        "problems": [(p.line, p.message, p.preview) for p in source.run.problems],
        "info": source.run.info,
    }


def _steps(source: IndexedSource) -> list[dict[str, Any]]:
    return [dataclasses.asdict(source.run.step(i)) for i in range(len(source.run))]


def _same_both_ways(path: Path) -> int:
    """Index ``path`` both ways, assert they agree; the number of steps the light path took."""
    fmt = detect_format(path)
    light, full = _index(path, fmt, True), _index(path, fmt, False)
    try:
        assert _columns(light) == _columns(full), path.name
        assert _steps(light) == _steps(full), path.name
        for index in range(len(light.run)):
            names = ("gen_ai.tool.name", "gen_ai.request.model", "gen_ai.operation.name")
            assert light.run.light_attributes(index, names) == full.run.light_attributes(
                index, names
            )
        return light.run._cols.origin.count(ORIGIN_SOURCE_LINE)
    finally:
        light.close()
        full.close()


def test_light_path_equals_the_mapper_on_every_sample() -> None:
    assert SAMPLES, "no sample of a format with a light decoder"
    taken = sum(_same_both_ways(path) for path in SAMPLES)
    assert taken > 20  # the light path really ran (most spans of these samples are plain)


def test_light_path_equals_the_mapper_on_a_generated_otlp_file(tmp_path: Path) -> None:
    path = tmp_path / "otlp.jsonl"
    write_otlp(path, 400, rare="Zebra")
    assert _same_both_ways(path) == 400  # all but the first line, which holds the run record


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    pick=st.integers(0, 1000),
    cut=st.floats(0.0, 1.0),
    repeat=st.lists(st.integers(0, 1000), max_size=3),
    junk=st.lists(st.tuples(st.integers(0, 1000), st.sampled_from(
        [b"", b"{", b"[1]", b'{"resourceLogs": []}', b'{"x": 1}', b'  {"resourceSpans": []}',
         b'{"resourceSpans": null}', b'{"resourceSpans": [{"scopeSpans": [{"spans": [{}]}]}]}']
    )), max_size=3),
)
def test_light_path_equals_the_mapper_on_damaged_files(
    tmp_path: Path, pick: int, cut: float, repeat: list[int], junk: list[tuple[int, bytes]]
) -> None:
    source = SAMPLES[pick % len(SAMPLES)]
    lines = source.read_bytes().splitlines()
    for at in repeat:  # a line written twice: its span ids repeat
        lines.insert(at % (len(lines) + 1), lines[at % len(lines)])
    for at, text in junk:
        lines.insert(at % (len(lines) + 1), text)
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / "cut.jsonl"
    path.write_bytes(data[: max(1, int(len(data) * cut))])
    try:
        detect_format(path)
    except Exception:
        return  # cut before the first record: not this format any more
    _same_both_ways(path)


def _words(source: IndexedSource) -> set[str]:
    words: set[str] = set()
    for index in range(len(source.run)):
        text = payload_text(source.run.step(index)).replace("\n", " ")
        words.update(w for w in text.split(" ")[::3] if len(w) > 2)
    return words


def test_byte_search_over_light_steps_equals_the_per_step_scan(tmp_path: Path) -> None:
    generated = tmp_path / "otlp.jsonl"
    write_otlp(generated, 300, rare="Zebra-Éclair")
    checked = 0
    for path in [*SAMPLES, generated]:
        fmt = detect_format(path)
        source = _index(path, fmt, True)
        try:
            run = source.run
            words = sorted(_words(source))[:60]
            # words only the importer writes, and digits it may add up
            words += ["chat", "execute_tool", "client", "internal", "otel.span.kind",
                      "service.name", "18", "160", "zebra-éclair", "nowhere-at-all"]
            for word in words:
                query = StepQuery.parse(shlex.quote(word))
                expected = list(iter_matches(run, query, range(len(run))))
                search = ByteSearch(run, query)
                if search.usable:
                    assert search.all_matches() == expected, (path.name, word)
                    if checked % 10 == 0:
                        search_agrees(run, query, (0, len(run) // 3, len(run) - 1), path.name)
                    checked += 1
        finally:
            source.close()
    assert checked > 200


def test_spans_of_one_request_come_parents_first_both_ways(tmp_path: Path) -> None:
    def kv(key: str, value: Any) -> dict[str, Any]:
        kind = "intValue" if isinstance(value, int) else "stringValue"
        return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}

    def request(n: int) -> dict[str, Any]:
        # file order: grandchild, child, parent; start times: child, grandchild, parent
        spans = [
            {"spanId": f"{n:08x}000000c2", "parentSpanId": f"{n:08x}000000c1", "name": "tool",
             "startTimeUnixNano": str(3_000_000_000 + n), "endTimeUnixNano": "4000000000",
             "attributes": [kv("gen_ai.tool.name", "lookup")]},
            {"spanId": f"{n:08x}000000c1", "parentSpanId": f"{n:08x}000000a0", "name": "chat",
             "startTimeUnixNano": str(2_000_000_000 + n), "endTimeUnixNano": "5000000000",
             "attributes": [kv("gen_ai.operation.name", "chat"),
                            kv("gen_ai.usage.input_tokens", 10 + n)]},
            {"spanId": f"{n:08x}000000a0", "name": "agent", "status": {"code": 2},
             "startTimeUnixNano": str(9_000_000_000 + n), "endTimeUnixNano": "9500000000",
             "attributes": [kv("gen_ai.operation.name", "invoke_agent")]},
        ]
        return {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}

    import orjson

    path = tmp_path / "batches.jsonl"
    path.write_bytes(b"".join(orjson.dumps(request(n)) + b"\n" for n in range(1, 30)))
    assert _same_both_ways(path) == 28 * 3


def test_search_in_run_order_uses_the_file_scan_and_finds_what_the_step_scan_finds(
    tmp_path: Path,
) -> None:
    """An OTLP file writes its root span last, so the screen shows it in run order (an
    ``OrderedRun``); search there scans the file and maps hits to shown positions."""
    from trace_tui.core.index import search as search_module
    from trace_tui.core.index.search import find_matches, find_next
    from trace_tui.core.navigation.run_order import OrderedRun, RunOrdering

    path = tmp_path / "otlp.jsonl"
    write_otlp(path, 300, rare="Zebra-Éclair")
    source = _index(path, detect_format(path), True)
    try:
        view, _ = RunOrdering().update(source.run)
        assert isinstance(view, OrderedRun)
        count = len(view)
        for word in ["zebra-éclair", "lookup_order", "chat", "52250", "nowhere-at-all"]:
            query = StepQuery.parse(shlex.quote(word))
            assert search_module._ordered_index(view, query) is view  # the file scan serves it
            expected = list(iter_matches(view, query, range(count)))
            found = sorted(i for batch in find_matches(view, query, 0, count) for i in batch)
            assert found == expected, word
            for start, direction in ((0, 1), (count // 2, 1), (count - 1, -1), (5, -1)):
                order = [(start + direction * k) % count for k in range(1, count + 1)]
                want = next(iter_matches(view, query, order), None)
                assert find_next(view, query, order, start, direction, count) == want, word
    finally:
        source.close()


# ----------------------------------------------------------------- odd values, in bulk
_TOKEN_VALUES: list[Any] = [
    {"intValue": "12"},
    {"intValue": 12},
    {"intValue": "0"},
    {"intValue": "-3"},
    {"stringValue": "7"},
    {"intValue": "x"},
    None,
    {"intValue": "5", "stringValue": "q"},
    {"doubleValue": 3.0},
    {"intValue": "5", "extra": 1},
    {"intValue": 3000000000},
    {},
]
_KIND_VALUES: list[Any] = [
    {"stringValue": "chat"},
    {"stringValue": "execute_tool"},
    {"stringValue": "invoke_agent"},
    {"stringValue": "embeddings"},
    {"intValue": "2"},
    {"arrayValue": {"values": []}},
    None,
]
_STATUSES: list[Any] = [
    None,
    {},
    {"code": 2, "message": "m"},
    {"code": "STATUS_CODE_OK"},
    {"code": 1},
    {"code": True},
    {"code": [1]},
    {"code": 2.0},
    {"code": "ERROR"},
    {"message": "x"},
    {"code": None},
]
_NAMES: list[Any] = ["chat gpt", "execute_tool t", "", None, 5, "ai.toolCall x", "g.doStream"]
_TIMES: list[Any] = [
    "1793613600500000000",
    "1793613600500000001",
    "5",
    "123456.7",
    "1.5e18",
    17936136005e8,
    1793613600500000000,
    "nan",
    "x",
    None,
    "0",
    "1e20",
    "99999999999999999999",
]
_OPTIONAL_KEYS = [
    "gen_ai.system",
    "gen_ai.provider.name",
    "gen_ai.request.model",
    "gen_ai.tool.name",
    "gen_ai.tool.call.id",
    "gen_ai.input.messages",
    "gen_ai.response.finish_reasons",
    "server.port",
    "custom.key",
    "gen_ai.usage.cache_read.input_tokens",
    "llm.request.type",
]


def _odd_span(rng: Any, n: int, odd: float) -> dict[str, Any]:
    def pick(usual: Any, values: list[Any]) -> Any:
        return rng.choice(values) if rng.random() < odd else usual

    operation = rng.choice(["chat", "execute_tool"])
    attrs: list[dict[str, Any]] = [
        {"key": "gen_ai.operation.name", "value": pick({"stringValue": operation}, _KIND_VALUES)}
    ]
    if operation == "chat" or rng.random() < odd:
        attrs += [
            {"key": "gen_ai.usage.input_tokens", "value": pick({"intValue": "40"}, _TOKEN_VALUES)},
            {"key": "gen_ai.usage.output_tokens", "value": pick({"intValue": 7}, _TOKEN_VALUES)},
        ]
    for key in _OPTIONAL_KEYS:
        if rng.random() < odd / 3:
            value = rng.choice(
                [
                    {"stringValue": "anthropic"},
                    {"intValue": "9"},
                    {"stringValue": "v"},
                    {"arrayValue": {"values": [{"stringValue": "stop"}]}},
                ]
            )
            attrs.insert(rng.randrange(len(attrs) + 1), {"key": key, "value": value})
    span: dict[str, Any] = {
        "spanId": f"{n + 1:016x}" if rng.random() >= odd / 4 else f"{n + 1:016X}",
        "parentSpanId": pick("0000000000000001", [None, "", f"{rng.randrange(1, n + 2):016x}"]),
        "name": pick("chat gpt", _NAMES),
        "startTimeUnixNano": pick("1793613600500000000", _TIMES),
        "endTimeUnixNano": pick(str(1793613600900000000 + n), _TIMES),
        "status": pick({}, _STATUSES),
        "attributes": attrs,
    }
    return {k: v for k, v in span.items() if v is not None or rng.random() < 0.5}


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(
    seed=st.integers(0, 10**6),
    odd=st.sampled_from([0.0, 0.02, 0.1, 0.5]),
    batch=st.sampled_from([1, 1, 3]),
)
def test_light_path_equals_the_mapper_on_odd_values(
    tmp_path: Path, seed: int, odd: float, batch: int
) -> None:
    """Spans with every kind of odd value the bulk passes must notice (token counts that are
    not plain ints, status codes of any type, odd names and times, cache counts, many
    attribute key lists): both ways give the same index."""
    import random

    import orjson

    rng = random.Random(seed)
    lines = []
    for line in range(1, 120):
        spans = [_odd_span(rng, line * 3 + k, odd) for k in range(rng.randint(1, batch))]
        lines.append(orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}))
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    batch_lines = index_module.BATCH_LINES
    index_module.BATCH_LINES = 1  # a declined piece is halved down to its odd line
    try:
        taken = _same_both_ways(path)
    finally:
        index_module.BATCH_LINES = batch_lines
    # the light path took every line of plain spans, many of a few odd ones, some otherwise
    # (a span in two being odd declines most lines: the mapper takes them)
    assert taken >= {0.0: 118, 0.02: 20, 0.1: 20, 0.5: 1}[odd]


def test_spans_the_index_took_from_light_lines_are_known_to_the_mapper(tmp_path: Path) -> None:
    """The mapper keeps no id of a light span: it asks the index. A repeated id is renamed,
    log content for a light span becomes its ``span_end`` with the span's status, and a step
    the mapper made itself (a log record's ``otlp-log-2``) is not a light span."""
    import orjson

    def span(span_id: str, status: int = 0) -> bytes:
        raw = {"spanId": span_id, "name": "chat", "status": {"code": status},
               "startTimeUnixNano": "1793613600500000000",
               "attributes": [{"key": "gen_ai.operation.name",
                               "value": {"stringValue": "chat"}}]}  # fmt: skip
        return orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [raw]}]}]})

    def log(span_id: str | None) -> bytes:
        record: dict[str, Any] = {
            "timeUnixNano": "1793613600600000000",
            "eventName": "gen_ai.client.inference.operation.details",
            "attributes": [{"key": "gen_ai.output.messages", "value": {"stringValue": (
                '[{"role": "assistant", "parts": [{"type": "text", "content": "Done."}]}]')}}],
        }  # fmt: skip
        if span_id:
            record["spanId"] = span_id
        return orjson.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": [record]}]}]})

    lines = [
        span("00000000000000f0"),
        span("00000000000000a1"),
        span("00000000000000b2", 2),
        span("00000000000000c3", 1),
        log("00000000000000b2"),
        log("00000000000000c3"),
        span("00000000000000a1"),
        log(None),
        span("otlp-log-2"),
        span("00000000000000d4"),
    ]
    path = tmp_path / "known.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    batch_lines = index_module.BATCH_LINES
    index_module.BATCH_LINES = 1  # declined pieces halved down to their line
    try:
        assert _same_both_ways(path) == 4  # a1, b2, c3 and d4
        source = _index(path, detect_format(path), True)
    finally:
        index_module.BATCH_LINES = batch_lines
    try:
        ids = [source.run.step(i).span_id for i in range(len(source.run))]
        assert "00000000000000a1" in ids and any(i.startswith("otlp-7-") for i in ids), ids
        assert "otlp-log-2" in ids and not any(i.startswith("otlp-9-") for i in ids), ids
        statuses = {s.span_id: s.status for s in map(source.run.step, range(len(ids)))}
        assert statuses["00000000000000b2"] == "error" and statuses["00000000000000c3"] == "ok"
        light = {"00000000000000b2", "00000000000000c3", "00000000000000d4"}
        assert not light & source._mapper._seen.keys()  # type: ignore[union-attr]
    finally:
        source.close()


def test_a_growing_otlp_file_followed_line_by_line_indexes_as_the_mapper_does(
    tmp_path: Path,
) -> None:
    """Tail: lines arrive in pieces (a line cut mid-way, several at once); the light path
    takes them as they complete and ends with the same index as the mapper on the whole."""
    whole = tmp_path / "whole.jsonl"
    write_otlp(whole, 120, rare="Zebra")
    data = whole.read_bytes()
    path = tmp_path / "live.jsonl"
    path.write_bytes(b"")
    live = IndexedSource(path, detect_format(whole), follow=True)
    try:
        cuts = sorted({0, len(data), *range(17, len(data), len(data) // 23)})
        for a, b in zip(cuts, cuts[1:], strict=False):
            with open(path, "ab") as out:
                out.write(data[a:b])
            live.update()
        while not live.update().complete:
            pass
        full = _index(whole, detect_format(whole), False)
        try:
            assert _columns(live) == _columns(full)
            assert _steps(live) == _steps(full)
            assert live.run._cols.origin.count(ORIGIN_SOURCE_LINE) > 60
        finally:
            full.close()
    finally:
        live.close()


def test_light_path_in_small_pieces_equals_the_mapper(tmp_path: Path) -> None:
    """A chunk is decoded a piece at a time; an id repeated in another piece of the same
    chunk is still the mapper's to rename."""
    from trace_tui.core.formats.importers import otlp_light

    path = tmp_path / "otlp.jsonl"
    write_otlp(path, 300)
    lines = path.read_bytes().splitlines()
    lines.insert(250, lines[20])  # the same span again, pieces later
    path.write_bytes(b"\n".join(lines) + b"\n")
    piece = otlp_light.PIECE_BYTES
    otlp_light.PIECE_BYTES = 5000  # a few lines per piece
    try:
        assert _same_both_ways(path) > 200
    finally:
        otlp_light.PIECE_BYTES = piece
