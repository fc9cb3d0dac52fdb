"""The app's garbage collection schedule: small young collections, full ones only when idle."""

from __future__ import annotations

import gc

from trace_tui.tui.gc_policy import YOUNG_LIMIT, IdleCollector


def test_young_collections_run_by_themselves_and_full_ones_wait_for_idle_time() -> None:
    now = [100.0]
    before = (gc.isenabled(), gc.get_threshold())
    collector = IdleCollector(clock=lambda: now[0])
    gc.disable()  # whatever the state before, the collector turns young collections on
    collector.start()
    try:
        assert gc.isenabled()
        young, rounds, old = gc.get_threshold()
        assert young == YOUNG_LIMIT and rounds > 0
        assert old >= 1 << 30  # a full collection never starts by itself

        # the user presses keys: no full collection, however long since the last one
        now[0] += 60.0
        collector.note_input()
        now[0] += 0.5
        runs = gc.get_stats()[2]["collections"]
        collector.tick()
        assert gc.get_stats()[2]["collections"] == runs

        # idle for a while: one full collection, and the survivors are frozen
        now[0] += 5.0
        collector.tick()
        assert gc.get_stats()[2]["collections"] == runs + 1
        assert gc.get_freeze_count() > 0
        collector.tick()  # not again right away
        assert gc.get_stats()[2]["collections"] == runs + 1
    finally:
        collector.stop()
    assert gc.get_freeze_count() == 0
    assert not gc.isenabled()  # the state at start() comes back
    assert gc.get_threshold() == before[1]
    if before[0]:
        gc.enable()
