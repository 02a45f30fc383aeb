"""Build the temporal filter a stylization method needs: ``--method`` -> a TemporalFilter."""

from __future__ import annotations

from collections.abc import Callable

from vidstyle.errors import UserInputError
from vidstyle.flow.base import FlowEstimator
from vidstyle.stylize.base import Stylizer
from vidstyle.temporal.base import TemporalFilter


def _flow_filter(flow: FlowEstimator, stylizer: Stylizer, weight: float | None,
                 older: tuple[int, ...]) -> TemporalFilter:
    """Feed-forward networks: blend each fresh frame with the warped previous output."""
    from vidstyle.temporal.consistency import FlowTemporalFilter, settings_for

    extra: dict = {} if weight is None else {"weight": weight}
    return FlowTemporalFilter(flow, settings_for(stylizer.name, **extra, long_term=older))


def _ruder_filter(flow: FlowEstimator, stylizer: Stylizer, weight: float | None,
                  older: tuple[int, ...]) -> TemporalFilter:
    """Optimisation: Ruder's temporal loss inside the stylizer's own solve (it is the TemporalSolver)."""
    from vidstyle.stylize.optimize import OptimizeStylizer
    from vidstyle.temporal.ruder import RuderTemporalFilter

    if not isinstance(stylizer, OptimizeStylizer):
        raise UserInputError(f"--method optimize needs the optimisation stylizer, got {stylizer.name}")
    return RuderTemporalFilter(flow, stylizer, weight, long_term=older)


FILTERS: dict[str, Callable[[FlowEstimator, Stylizer, float | None, tuple[int, ...]], TemporalFilter]] = {
    "feedforward": _flow_filter,
    "optimize": _ruder_filter,
}


def build_temporal(method: str, flow: FlowEstimator, stylizer: Stylizer, *, weight: float | None = None,
                   long_term: bool = False) -> TemporalFilter:
    """The filter of ``method`` (a key of :data:`FILTERS`) on ``flow``.

    ``weight``: the temporal weight (None: the method's default); ``long_term``: also anchor on frames
    t-2 and t-4 (:data:`vidstyle.temporal.longterm.LONG_TERM_FRAMES`).
    """
    from vidstyle.temporal.longterm import LONG_TERM_FRAMES

    if method not in FILTERS:
        raise UserInputError(f"unknown method {method!r}: one of {', '.join(FILTERS)}")
    return FILTERS[method](flow, stylizer, weight, LONG_TERM_FRAMES if long_term else ())
