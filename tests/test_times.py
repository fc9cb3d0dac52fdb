"""Times are parsed and written by one module (core/model/times.py)."""

from __future__ import annotations

import re

from support import ROOT
from trace_tui.core.model.times import epoch_of, iso_of, iso_utc, parse_iso

MOMENT = epoch_of("2026-11-02T09:30:00.123Z")


def test_precisions() -> None:
    assert MOMENT is not None
    assert iso_utc(MOMENT, "milli") == "2026-11-02T09:30:00.123Z"
    assert iso_utc(MOMENT, "micro") == "2026-11-02T09:30:00.123000Z"
    assert iso_utc(MOMENT, "auto") == "2026-11-02T09:30:00.123Z"
    assert iso_utc(MOMENT + 0.00025, "auto") == "2026-11-02T09:30:00.123250Z"


def test_parsing() -> None:
    assert epoch_of("2026-11-02T10:30:00.123+01:00") == MOMENT
    assert epoch_of(12.5) == 12.5 and epoch_of(True) is None and epoch_of("soon") is None
    moment = parse_iso("2026-11-02T09:30:00")
    assert moment is not None and iso_of(moment, "milli") == "2026-11-02T09:30:00.000Z"


def test_no_other_module_formats_or_parses_iso_times() -> None:
    pattern = re.compile(r"fromisoformat\(|isoformat\(timespec|strptime\(")
    found = [
        str(path.relative_to(ROOT))
        for folder in ("core", "tui", "cli")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if pattern.search(path.read_text("utf-8"))
    ]
    assert found == ["core/io/log_file.py", "core/model/times.py"]
