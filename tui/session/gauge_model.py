"""What the context gauge shows for a cursor position: :class:`GaugeModel`, and how it is built.

:class:`~trace_tui.tui.widgets.gauge.ContextGauge` only lays a :class:`GaugeModel` out.

The latest model call at or before the cursor is measured
(:func:`trace_tui.core.navigation.gauge.breakdown`)
against its window (step attribute, run record, user overrides, built-in table, in that
order), compared with the call before it for truncation, and the peaks come from
:class:`~trace_tui.core.navigation.run_facts.RunFacts`. Only those few steps are loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from trace_tui.core.model.context_windows import ContextWindow, ContextWindowTable
from trace_tui.core.model.run import RunView, Step
from trace_tui.core.navigation.gauge import (
    ContextBreakdown,
    ContextNote,
    breakdown,
    truncation_notes,
)
from trace_tui.core.navigation.run_facts import Peak, RunFacts
from trace_tui.core.navigation.state import context_window_for


@dataclass(frozen=True)
class PeakInfo:
    """A peak prompt and its share of that call's window (``None`` if the window is unknown)."""

    peak: Peak
    fraction: float | None


@dataclass(frozen=True)
class GaugeModel:
    """Everything the gauge shows for one cursor position."""

    cursor_number: int
    breakdown: ContextBreakdown | None
    notes: tuple[ContextNote, ...] = ()
    peak_so_far: PeakInfo | None = None
    run_peak: PeakInfo | None = None
    extra: tuple[str, ...] = field(default=())
    #: The model call at the cursor is still running (its 1-based number); the breakdown is
    #: then the latest finished call's.
    running_step: int | None = None


def window_of(run: RunView, step: Step, table: ContextWindowTable) -> ContextWindow | None:
    """The context window of ``step``'s model (``None`` when no source knows it)."""
    return context_window_for(run, step, table)


def gauge_model(run: RunView, facts: RunFacts, table: ContextWindowTable, index: int,
                load: Callable[[int], Step]) -> GaugeModel:
    """The gauge for the cursor on step ``index``; ``load`` fetches (cached) steps."""
    llm_index = facts.llm_at_or_before(index)
    if llm_index is None:
        return GaugeModel(cursor_number=index + 1, breakdown=None)
    llm = load(llm_index)
    running: int | None = None
    if llm.status == "running":
        # a call still running (tail mode) has no answer and often no request details yet:
        # measure the latest finished call instead and say so, rather than "window unknown"
        running = llm_index + 1
        earlier = facts.llm_before(llm_index)
        if earlier is None:
            return GaugeModel(cursor_number=index + 1, breakdown=None, running_step=running)
        llm_index, llm = earlier, load(earlier)
    window = window_of(run, llm, table)
    previous = facts.llm_before(llm_index)
    notes = truncation_notes(llm, load(previous) if previous is not None else None)
    extra: tuple[str, ...] = ()
    if running is not None:
        extra = (f"(the model call at step {running} is still running; shown: step "
                 f"{llm_index + 1}, the latest finished one)",)
    elif llm_index != index:
        extra = (f"(latest model call at or before step {index + 1})",)
    return GaugeModel(
        cursor_number=index + 1,
        breakdown=breakdown(llm, window),
        notes=tuple(notes),
        peak_so_far=_peak_info(run, facts.peak_until(index), table, load),
        run_peak=_peak_info(run, facts.run_peak(), table, load),
        extra=extra,
        running_step=running,
    )


def _peak_info(run: RunView, peak: Peak | None, table: ContextWindowTable,
               load: Callable[[int], Step]) -> PeakInfo | None:
    if peak is None:
        return None
    step = load(peak.index)
    window = window_of(run, step, table)
    # the same measure as the headline (input + output over the window), so a peak at the
    # cursor reads the same percentage as the headline
    return PeakInfo(peak, breakdown(step, window).fraction if window else None)
