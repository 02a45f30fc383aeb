"""Learn a CIN-26 style from a painting by fitting only the norm parameters (Dumoulin et al. 2017).

The network's convolutions stay frozen; the trainable style is one (1, CIN_PARAM_DIM) tensor of
per-channel scales and shifts, started from a built-in style (or another learned one). Loss per step on
a batch of random content crops x (B, 3, S, S) in 0..1 and the stylized y = net(x, params):
``content_weight · mean‖relu4_2(y) − relu4_2(x)‖² + style_weight · Σ_l ‖G_l(y) − G_l(painting)‖²``
(``vidstyle.stylize.losses`` units; the painting at ``style_side`` long side, as the style distance of
CONTRACT.md measures it), plus, with ``temporal_weight`` > 0, ReCoNet's output term on the next frame:
mean of mask · (y_{t+1} − warp(y_t))² with DIS flow and Ruder's consistency mask.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from vidstyle.errors import UserInputError
from vidstyle.flow.occlusion import consistency_mask
from vidstyle.flow.opencv import DisFlow
from vidstyle.flow.warp import backward_warp
from vidstyle.io.convert import resize
from vidstyle.learn.checkpoint import load_checkpoint, save_checkpoint
from vidstyle.learn.data import CropSampler
from vidstyle.learn.settings import LearnSettings, StepCallback
from vidstyle.stylize.losses import CONTENT_LAYER, STYLE_LAYERS, content_loss, gram_matrix, style_loss, temporal_loss
from vidstyle.stylize.nets import NUM_CIN_STYLES, CinTransformer26
from vidstyle.stylize.vgg import load_vgg19

def painting_grams(painting: np.ndarray, side: int, device: torch.device) -> dict[str, torch.Tensor]:
    """(H, W, 3) uint8 RGB painting, resized to ``side`` long side -> its VGG Grams, (1, C, C) per layer."""
    image = torch.from_numpy(painting).permute(2, 0, 1).unsqueeze(0).float().div(255.0)
    h, w = image.shape[-2:]
    factor = side / max(h, w)
    image = resize(image, (max(16, round(w * factor)), max(16, round(h * factor))))
    with torch.no_grad():
        return {k: gram_matrix(f) for k, f in load_vgg19(device)(image.to(device), STYLE_LAYERS).items()}


class StyleLearner:
    """Fits one style's norm parameters; ``run`` checkpoints after every step, so nothing is lost."""

    def __init__(self, net: CinTransformer26, painting: np.ndarray, sampler: CropSampler, init: torch.Tensor,
                 settings: LearnSettings, device: torch.device) -> None:
        self.net, self.sampler, self.settings, self.device = net, sampler, settings, device
        self.vgg = load_vgg19(device)
        self.grams = painting_grams(painting, settings.style_side, device)
        self.params = init.detach().to(device).reshape(1, -1).clone().requires_grad_(True)
        self.optimizer = torch.optim.Adam([self.params], lr=settings.learning_rate)
        self.step_done = 0
        self.losses: list[float] = []
        self._flow = DisFlow() if settings.temporal_weight > 0 else None

    def loss(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """Total loss on crops of frames t and t+1, each (B, 3, S, S) in 0..1."""
        s = self.settings
        out = self.net(first, self.params)
        feats = self.vgg(self.judged(out), (*STYLE_LAYERS, CONTENT_LAYER))
        with torch.no_grad():
            target = self.vgg(self.judged(first), (CONTENT_LAYER,))[CONTENT_LAYER]
        total = s.content_weight * content_loss(feats[CONTENT_LAYER], target)
        total = total + s.style_weight * style_loss(feats, self.grams, dict.fromkeys(STYLE_LAYERS, 1.0))
        if self._flow is not None:
            back = self._flow(second, first)  # per pixel of frame t+1: where it was in frame t
            mask = consistency_mask(self._flow(first, second), back)
            warped = backward_warp(out, back)
            total = total + s.temporal_weight * temporal_loss(self.net(second, self.params), warped, mask)
        return total

    def closest_builtin(self, crops: torch.Tensor) -> int:
        """Index of the built-in style whose output on ``crops`` (B, 3, S, S) 0..1 is nearest the painting's
        Grams: the default starting point (it converges several times faster than style 0)."""
        weights = dict.fromkeys(STYLE_LAYERS, 1.0)
        with torch.no_grad():
            losses = [float(style_loss(self.vgg(self.judged(self.net(crops, onehot)), STYLE_LAYERS), self.grams,
                                       weights)) for onehot in torch.eye(NUM_CIN_STYLES, device=crops.device)]
        return int(np.argmin(losses))

    def start_from(self, params: torch.Tensor) -> None:
        """Set the style to ``params`` (CIN_PARAM_DIM,) before the first step."""
        with torch.no_grad():
            self.params.copy_(params.to(self.device).reshape(1, -1))

    def judged(self, image: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) -> (B, 3, s, s) at ``vgg_scale`` (area), the size the style distance is measured at."""
        side = max(16, round(image.shape[-1] * self.settings.vgg_scale))
        return resize(image, (side, side))

    def step(self) -> float:
        first, second = (x.to(self.device) for x in self.sampler.sample(self.settings.batch))
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss(first, second)
        loss.backward()
        self.optimizer.step()
        self.step_done += 1
        self.losses.append(float(loss.detach()))
        return self.losses[-1]

    def state(self) -> dict:
        return {"params": self.params.detach().cpu(), "optimizer": self.optimizer.state_dict(),
                "step": self.step_done, "losses": list(self.losses), "rng": self.sampler.generator.get_state(),
                "settings": {k: v for k, v in asdict(self.settings).items() if k != "steps"}}

    def restore(self, state: dict) -> None:
        """Continue from :meth:`state`; the settings (other than steps) must be the same."""
        saved = state.get("settings", {})
        mine = {k: v for k, v in asdict(self.settings).items() if k != "steps"}
        if saved != mine:
            changed = sorted(k for k in mine if saved.get(k) != mine[k])
            raise UserInputError(f"cannot resume: the checkpoint was made with other settings ({', '.join(changed)})")
        with torch.no_grad():
            self.params.copy_(state["params"].to(self.device))
        self.optimizer.load_state_dict(state["optimizer"])
        self.step_done, self.losses = int(state["step"]), list(state["losses"])
        self.sampler.generator.set_state(state["rng"])

    def run(self, checkpoint: Path | None = None, on_step: StepCallback | None = None) -> torch.Tensor:
        """Step until ``settings.steps``, saving ``checkpoint`` after each step; returns (CIN_PARAM_DIM,)."""
        while self.step_done < self.settings.steps:
            loss = self.step()
            if checkpoint is not None:
                save_checkpoint(checkpoint, self.state())
            if on_step is not None:
                on_step(self.step_done, self.settings.steps, loss)
        return self.params.detach().cpu().reshape(-1)


def resume_or_start(learner: StyleLearner, checkpoint: Path, resume: bool) -> bool:
    """With ``resume`` and a checkpoint on disk, continue from it (True); otherwise start at step 0."""
    if resume and checkpoint.is_file():
        learner.restore(load_checkpoint(checkpoint))
        return True
    return False
