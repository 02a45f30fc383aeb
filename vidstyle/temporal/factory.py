"""Build the temporal filter a stylization method needs: ``--method`` -> a TemporalFilter."""

from __future__ import annotations

from vidstyle.errors import UserInputError
from vidstyle.flow.base import FlowEstimator
from vidstyle.stylize.base import Stylizer
from vidstyle.temporal.base import TemporalFilter


def build_temporal(method: str, flow: FlowEstimator, stylizer: Stylizer, *, weight: float | None = None,
                   long_term: bool = False) -> TemporalFilter:
    """``feedforward``: blend each fresh frame with the warped previous output (FlowTemporalFilter);
    ``optimize``: put Ruder's temporal loss into the stylizer's own solve (RuderTemporalFilter).

    ``weight``: the temporal weight (None: the method's default); ``long_term``: also anchor on frames
    t-2 and t-4 (:data:`vidstyle.temporal.longterm.LONG_TERM_FRAMES`).
    """
    from vidstyle.temporal.longterm import LONG_TERM_FRAMES

    older = LONG_TERM_FRAMES if long_term else ()
    if method == "optimize":
        from vidstyle.stylize.optimize import OptimizeStylizer
        from vidstyle.temporal.ruder import RuderTemporalFilter

        if not isinstance(stylizer, OptimizeStylizer):
            raise UserInputError(f"--method optimize needs the optimisation stylizer, got {stylizer.name}")
        return RuderTemporalFilter(flow, stylizer, weight, long_term=older)
    if method == "feedforward":
        from vidstyle.temporal.consistency import FlowTemporalFilter, TemporalSettings

        extra: dict = {} if weight is None else {"weight": weight}
        return FlowTemporalFilter(flow, TemporalSettings(**extra, long_term=older))
    raise UserInputError(f"unknown method {method!r}")
