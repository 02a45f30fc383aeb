"""Re-learn the painting presets for the CIN-26 network, one after another (the shipped .npz files).

For each public-domain painting of ``scripts/make_presets.py`` that has no learned ``.npz`` yet (or all
with ``--force``): learn its norm parameters on frames of the bundled sample and Big Buck Bunny, then
measure the learned style and the Magenta preset on frames with large flat areas (style ratio, as
``vsmeasure.py style``) and name in the TOML the network that paints it closer (``family``). Commits
nothing; run it at low priority, e.g.

    OMP_NUM_THREADS=1 nice -n 15 python scripts/learn_presets.py --steps 30 --size 192 --batch 1
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np
import torch

from make_presets import PAINTINGS
from vidstyle.config import load_toml
from vidstyle.io.reader import open_source, read_image
from vidstyle.learn.checkpoint import load_style_params
from vidstyle.learn.measure import StyleMeter
from vidstyle.learn.preset import learn_preset
from vidstyle.learn.settings import LearnSettings
from vidstyle.stylize.feedforward import Cin26Stylizer, MagentaStylizer
from vidstyle.stylize.styles import CIN26, MAGENTA, write_preset

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "configs" / "styles"


def judge_frames(data: Path) -> list[np.ndarray]:
    """Frames of Big Buck Bunny (flat sky) and of the sample, (H, W, 3) uint8 RGB."""
    picks = []
    for path, indices in ((data / "videos" / "cutBunny.mp4", {60}), (ROOT / "samples" / "sample.mp4", {48})):
        picks += [f.image for f in open_source(path, max_frames=max(indices) + 1).frames() if f.index in indices]
    return picks


def style_ratio(stylizer, frames: list[np.ndarray], meter: StyleMeter) -> float:
    ratios = []
    with torch.no_grad():
        for frame in frames:
            x = torch.from_numpy(frame).permute(2, 0, 1).unsqueeze(0).float() / 255.0
            out = stylizer.stylize(x)[0].permute(1, 2, 0).numpy()
            ratios.append(meter.measure(out, frame)[0])
    return float(np.mean(ratios))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / ".." / "shared" / "data")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--size", type=int, default=192)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--temporal-weight", type=float, default=0.0)
    parser.add_argument("--style-weight", type=float, default=LearnSettings.style_weight)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("names", nargs="*", help="Only these presets (default: all).")
    args = parser.parse_args()
    command = "OMP_NUM_THREADS=1 nice -n 15 python " + shlex.join(["scripts/learn_presets.py", *sys.argv[1:]])
    frames = judge_frames(args.data)
    content = [ROOT / "samples" / "sample.mp4", args.data / "videos" / "cutBunny.mp4"]
    for name, (file, *_rest) in PAINTINGS.items():
        if args.names and name not in args.names or (OUT / f"{name}.npz").is_file() and not args.force:
            continue
        painting = args.data / "styles" / file
        toml = OUT / f"{name}.toml"
        fields = {k: v for k, v in load_toml(toml).items() if k not in ("params", "learned", "family", "measured")}
        result = learn_preset(name, painting, OUT, content=content, fields=fields,
                              settings=LearnSettings(steps=args.steps, size=args.size, batch=args.batch,
                                                     learning_rate=args.lr, temporal_weight=args.temporal_weight,
                                                     style_weight=args.style_weight))
        meter = StyleMeter(read_image(painting))
        learned = style_ratio(Cin26Stylizer(load_style_params(OUT / f"{name}.npz")), frames, meter)
        magenta = style_ratio(MagentaStylizer(torch.tensor(fields["vector"])), frames, meter)
        family = CIN26 if learned <= magenta else MAGENTA
        data = load_toml(toml)
        data.update(family=family, measured=f"style ratio on 2 frames (cutBunny 60, sample 48): "
                    f"learned cin26 {learned:.3f}, magenta {magenta:.3f}")
        write_preset(toml, data, f"Painting: ../shared/data/styles/{file} (see its SOURCES.md); metadata by "
                     f"scripts/make_presets.py.\nLearned from {result.start} by: {command}")
        print(f"{name}: {result.seconds:.0f} s, loss {result.loss_first:.4g} -> {result.loss_last:.4g}, "
              f"style ratio learned {learned:.3f} vs magenta {magenta:.3f} -> {family}", flush=True)


if __name__ == "__main__":
    main()
