"""Long-term temporal terms (Ruder, Dosovitskiy & Brox 2016): besides frame t-1, older frames (t-2, t-4)
anchor frame t where the nearer ones cannot, e.g. where a passing object hid the scene for a frame.

Used by both temporal filters (feed-forward and ``--method optimize``) through :class:`History`
and :func:`add_anchors`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch

from vidstyle.flow.warp import backward_warp

# --long-term: frames t-2 and t-4 besides t-1, as in Ruder et al.
LONG_TERM_FRAMES = (2, 4)


@dataclass
class Past:
    """An older frame: its input and output (1, 3, H, W) in 0..1, how many frames back it is, and the
    flow (1, 2, H, W) from the current frame to it (composed frame by frame; None if not tracked)."""

    age: int
    content: torch.Tensor
    output: torch.Tensor
    flow: torch.Tensor | None = None


def compose_flow(to_previous: torch.Tensor, previous_to_older: torch.Tensor) -> torch.Tensor:
    """Flow t -> t-k from t -> t-1 and t-1 -> t-k: w(x) + w'(x + w(x)); all (B, 2, H, W) pixels."""
    return to_previous + backward_warp(previous_to_older, to_previous)


def add_anchors(anchor: torch.Tensor, covered: torch.Tensor,
                others: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Fold older anchors into one: each (warped output, reliability) pair, nearest first, gets the weight
    max(reliability - weight already given, 0) (Ruder et al.'s long-term weights), so a pixel is anchored
    by the nearest frame that shows it. Since Σ_k c_k |O - W_k|² = (Σ c_k) |O - mean_c W|² + const, the
    weighted mean anchor with the summed weight as its mask gives the same solution as separate terms.

    Convention: anchors (1, C, H, W); masks (1, 1, H, W) in 0..1. Returns (anchor, summed mask in 0..1).
    """
    others = list(others)
    if not others:  # the default (no --long-term): nothing to fold, no work in the per-frame path
        return anchor, covered
    weighted = covered * anchor
    for warped, reliability in others:
        weight = (reliability - covered).clamp_min(0.0)
        weighted = weighted + weight * warped
        covered = covered + weight
    return torch.where(covered > 1e-6, weighted / covered.clamp_min(1e-6), anchor), covered


class History:
    """The older input and output frames a filter keeps for the terms at ``ages`` (each ≥ 2)."""

    def __init__(self, ages: tuple[int, ...]) -> None:
        self.ages = ages
        self.frames: list[Past] = []

    def advance(self, content: torch.Tensor, output: torch.Tensor, flow: torch.Tensor | None = None) -> None:
        """Frame t begins; ``content``/``output`` are frame t-1's. With ``flow`` (t -> t-1) the flows to
        the older frames are composed through it; without, none are kept."""
        if not self.ages:
            return
        oldest = max(self.ages)
        aged = [Past(p.age + 1, p.content, p.output,
                     None if flow is None or p.flow is None else compose_flow(flow, p.flow))
                for p in self.frames if p.age < oldest]  # frames about to age out get no flow composed
        self.frames = [Past(1, content, output, flow), *aged]

    def anchors(self) -> list[Past]:
        """The kept frames at the long-term ages, nearest first."""
        return [p for p in self.frames if p.age in self.ages]

    def clear(self) -> None:
        self.frames = []

    def state_dict(self) -> dict[str, torch.Tensor]:
        state: dict[str, torch.Tensor] = {}
        for i, p in enumerate(self.frames):
            state |= {f"older{i}_age": torch.tensor(p.age), f"older{i}_content": p.content,
                      f"older{i}_output": p.output}
            if p.flow is not None:
                state[f"older{i}_flow"] = p.flow
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.frames = []
        i = 0
        while f"older{i}_age" in state:
            self.frames.append(Past(int(state[f"older{i}_age"]), state[f"older{i}_content"],
                                    state[f"older{i}_output"], state.get(f"older{i}_flow")))
            i += 1
