"""Load what paints the frames: settings -> stylizer, flow, temporal filter, in a FrameProcessor.

Shared by ``vidstyle run`` (:mod:`vidstyle.job`), ``vidstyle webcam`` (:mod:`vidstyle.live`) and
``vidstyle image``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from vidstyle.device import default_max_side, resolve_device
from vidstyle.errors import UserInputError
from vidstyle.processor import FrameProcessor
from vidstyle.stylize.feedforward import NetworkStylizer
from vidstyle.stylize.registry import StyleRequest, build_stylizer


@dataclass(frozen=True)
class ProcessorSettings:
    """Everything that decides the painted pixels (shared by run and webcam)."""

    style: StyleRequest
    device: str = "auto"
    flow: str = "auto"
    flow_scale: float = 1.0
    raft_weights: Path | None = None
    temporal: bool = True
    temporal_weight: float | None = None
    long_term: bool = False
    max_side: int | None = None
    strength: float = 1.0
    keep_processing_size: bool = False
    compile: bool = False
    precision: str = "auto"
    build_kernels: bool = False  # compile even where this clip alone does not repay the build


@dataclass
class BuiltProcessor:
    processor: FrameProcessor
    device: torch.device
    flow_name: str
    method: str

    @property
    def compiled(self) -> bool:
        """Whether the network runs compiled (False again if compiling failed on the first frame)."""
        stylizer = self.processor.stylizer
        return isinstance(stylizer, NetworkStylizer) and stylizer.compiled

    @property
    def precision(self) -> str:
        stylizer = self.processor.stylizer
        return stylizer.precision if isinstance(stylizer, NetworkStylizer) else "fp32"


def build_processor(settings: ProcessorSettings) -> BuiltProcessor:
    """Load the stylizer, the flow estimator and the temporal filter for ``settings``."""
    device = resolve_device(settings.device)
    stylizer = build_stylizer(settings.style, device)
    if isinstance(stylizer, NetworkStylizer):
        stylizer.accelerate(compile=settings.compile, precision=settings.precision)
    elif settings.precision not in ("auto", "fp32"):
        raise UserInputError("--precision applies to the feed-forward networks, not to --method optimize")
    temporal = None
    flow_name = "none"
    if settings.temporal:
        from vidstyle.flow.factory import build_flow
        from vidstyle.temporal.factory import build_temporal

        flow = build_flow(settings.flow, device, raft_weights=settings.raft_weights, scale=settings.flow_scale)
        flow_name = getattr(flow, "name", settings.flow)
        temporal = build_temporal(settings.style.method, flow, stylizer, weight=settings.temporal_weight,
                                  long_term=settings.long_term)
    max_side = settings.max_side or default_max_side(device)
    processor = FrameProcessor(stylizer, temporal, max_side=max_side, strength=settings.strength,
                               keep_processing_size=settings.keep_processing_size)
    return BuiltProcessor(processor, device, flow_name, settings.style.method)
