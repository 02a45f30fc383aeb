"""Optical-flow benchmark: accuracy, speed and occlusion masks of the CPU estimators.

Run from the repository root:  python -m benchmarks.flow [--repeats N]

Pairs (``$VIDSTYLE_SHARED_DATA/flow``, default ``<repo>/../shared/data/flow``): MPI-Sintel alley_1 and
cave_2, clean and final, frames 2 -> 3; FlyingChairs 0000000 and 0000001, img0 -> img1. For each
estimator (DIS ultrafast/fast/medium, Farneback; flow scale 1 and 0.5; and medium with the 2 refinement
iterations a scale that ``run`` uses):

- EPE: mean endpoint error against the ground-truth forward flow at the native size (Sintel: 1024x436,
  FlyingChairs: 512x384), valid pixels only;
- ms: wall time of one ``estimator(source, target)`` call at 640x360 (frames resized) after a warm-up:
  the fastest of ``--repeats`` calls (estimators interleaved), averaged over the pairs; CPU ms: the
  same for the process's CPU time (all threads), which stays comparable on a busy machine;
- mask precision/recall: the Ruder et al. forward-backward mask (``consistency_mask``) on frame 2 from
  the estimator's two flows, against Sintel's ``gt/occlusions`` (255 = occluded in frame 3), pooled
  over the four Sintel pairs; "flagged" is the fraction of pixels the mask marks unreliable.

Prints a markdown table and writes ``benchmarks/results/flow.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

from benchmarks.common import REPO, SHARED_DATA, cpu_name
from benchmarks.common import RESULTS as RESULTS_DIR
from vidstyle.flow.base import FlowEstimator
from vidstyle.flow.flo import read_flo
from vidstyle.flow.factory import DIS_REFINEMENT_ITERATIONS
from vidstyle.flow.occlusion import consistency_mask
from vidstyle.flow.opencv import DisFlow, FarnebackFlow
from vidstyle.io.convert import to_tensor

RESULTS = RESULTS_DIR / "flow.json"
TIMING_SIZE = (640, 360)  # (width, height)
INVALID_FLOW = 1e9  # Middlebury/Sintel mark unknown flow with magnitudes at least this large


@dataclass(frozen=True)
class Pair:
    name: str
    source: torch.Tensor  # (1, 3, H, W) float RGB 0..1
    target: torch.Tensor
    gt: torch.Tensor  # (1, 2, H, W) forward flow source -> target
    valid: torch.Tensor  # (1, 1, H, W) bool
    occluded: torch.Tensor | None  # (1, 1, H, W) bool: source pixels hidden in target


def _read_rgb(path: Path) -> torch.Tensor:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"cannot read {path}")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    return to_tensor(rgb)


def _read_mask(path: Path) -> torch.Tensor:
    return torch.from_numpy(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) > 127)[None, None]


def load_pairs(root: Path) -> list[Pair]:
    pairs = []
    for scene in ("alley_1", "cave_2"):
        folder = root / f"sintel_{scene}"
        gt = read_flo(folder / "gt" / "frame_0002.flo")
        invalid = _read_mask(folder / "gt" / "invalid" / "frame_0002.png")
        valid = ~invalid & (gt.abs() < INVALID_FLOW).all(dim=1, keepdim=True)
        occluded = _read_mask(folder / "gt" / "occlusions" / "frame_0002.png")
        for pass_ in ("clean", "final"):
            pairs.append(
                Pair(
                    f"sintel_{scene}_{pass_}",
                    _read_rgb(folder / pass_ / "frame_0002.png"),
                    _read_rgb(folder / pass_ / "frame_0003.png"),
                    gt,
                    valid,
                    occluded,
                )
            )
    for flo in sorted((root / "flyingchairs").glob("*-gt.flo")):
        stem = flo.name.removesuffix("-gt.flo")
        gt = read_flo(flo)
        pairs.append(
            Pair(
                f"chairs_{stem}",
                _read_rgb(flo.with_name(f"{stem}-img0.ppm")),
                _read_rgb(flo.with_name(f"{stem}-img1.ppm")),
                gt,
                (gt.abs() < INVALID_FLOW).all(dim=1, keepdim=True),
                None,
            )
        )
    return pairs


def estimators() -> dict[str, FlowEstimator]:
    out: dict[str, FlowEstimator] = {}
    for scale in (1.0, 0.5):
        for preset in ("ultrafast", "fast", "medium"):
            out[f"dis-{preset} @{scale:g}"] = DisFlow(preset, scale=scale)
        out[f"farneback @{scale:g}"] = FarnebackFlow(scale=scale)
    # what ``run`` uses: medium with 2 variational refinement iterations a scale (vidstyle.flow.factory)
    out["dis-medium, 2 refinements (run) @1"] = DisFlow("medium", refinement_iterations=DIS_REFINEMENT_ITERATIONS)
    return out


def _resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    array = image[0].permute(1, 2, 0).numpy()
    small = cv2.resize(array, size, interpolation=cv2.INTER_AREA)
    return torch.from_numpy(small).permute(2, 0, 1).unsqueeze(0).contiguous()


def time_ms(
    named: dict[str, FlowEstimator], pairs: list[Pair], repeats: int
) -> dict[str, tuple[float, float]]:
    """Per estimator: (wall ms, CPU ms) of one call at TIMING_SIZE, mean over pairs of the fastest call.

    Estimators take turns call by call, so load from other processes spreads over all of them, and the
    minimum discards the calls it slowed down most. CPU ms (``time.process_time``, all threads) is the
    work done, which waiting for a core on a busy machine does not inflate. CPU only: nothing to sync.
    """
    resized = [(_resize(p.source, TIMING_SIZE), _resize(p.target, TIMING_SIZE)) for p in pairs]
    for estimator in named.values():
        estimator(*resized[0])  # warm-up: OpenCV thread pool, first allocations
    wall = {name: [float("inf")] * len(resized) for name in named}
    cpu = {name: [float("inf")] * len(resized) for name in named}
    for _ in range(repeats):
        for i, (source, target) in enumerate(resized):
            for name, estimator in named.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                estimator(source, target)
                wall[name][i] = min(wall[name][i], time.perf_counter() - start)
                cpu[name][i] = min(cpu[name][i], time.process_time() - start_cpu)
    return {
        name: (1000.0 * statistics.mean(wall[name]), 1000.0 * statistics.mean(cpu[name])) for name in named
    }


def _group(pair_name: str) -> str:
    """"sintel_clean", "sintel_final" or "chairs"."""
    if pair_name.startswith("chairs_"):
        return "chairs"
    return "sintel_" + pair_name.rsplit("_", 1)[1]


def evaluate(estimator: FlowEstimator, pairs: list[Pair]) -> dict:
    per_pair = {}
    hits = flagged = occluded_total = considered = 0
    for p in pairs:
        forward = estimator(p.source, p.target)
        epe = (forward - torch.where(p.valid, p.gt, 0.0)).norm(dim=1, keepdim=True)[p.valid].mean().item()
        row = {"epe": epe}
        if p.occluded is not None:
            backward = estimator(p.target, p.source)
            # mask on the source frame ("cur"); "prev" is the target frame: 0 = not visible there
            mask = consistency_mask(flow_prev_to_cur=backward, flow_cur_to_prev=forward)
            unreliable = (mask < 0.5) & p.valid
            occluded = p.occluded & p.valid
            row["mask_precision"] = (unreliable & occluded).sum().item() / max(unreliable.sum().item(), 1)
            row["mask_recall"] = (unreliable & occluded).sum().item() / max(occluded.sum().item(), 1)
            hits += (unreliable & occluded).sum().item()
            flagged += unreliable.sum().item()
            occluded_total += occluded.sum().item()
            considered += p.valid.sum().item()
        per_pair[p.name] = row

    def mean_epe(group: str) -> float:
        return statistics.mean(v["epe"] for k, v in per_pair.items() if _group(k) == group)

    return {
        "epe_sintel_clean": mean_epe("sintel_clean"),
        "epe_sintel_final": mean_epe("sintel_final"),
        "epe_chairs": mean_epe("chairs"),
        "mask_precision": hits / max(flagged, 1),
        "mask_recall": hits / max(occluded_total, 1),
        "mask_flagged": flagged / max(considered, 1),
        "pairs": per_pair,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed calls per pair (fastest taken)")
    args = parser.parse_args(argv)
    root = SHARED_DATA / "flow"
    if not root.is_dir():
        raise SystemExit(f"flow data not found at {root} (set VIDSTYLE_SHARED_DATA)")
    pairs = load_pairs(root)

    zero = {p.name: (p.gt.norm(dim=1, keepdim=True)[p.valid]).mean().item() for p in pairs}
    named = estimators()
    results = {name: evaluate(estimator, pairs) for name, estimator in named.items()}
    load_before = os.getloadavg()[0]
    for name, (wall_ms, cpu_ms) in time_ms(named, pairs, args.repeats).items():
        results[name]["ms_640x360"] = wall_ms
        results[name]["cpu_ms_640x360"] = cpu_ms

    occluded_share = statistics.mean(
        (p.occluded & p.valid).float().mean().item() for p in pairs if p.occluded is not None
    )
    report = {
        "device": f"CPU {cpu_name()}",
        "torch": torch.__version__,
        "opencv": cv2.__version__,
        "opencv_threads": cv2.getNumThreads(),
        "timing_size": list(TIMING_SIZE),
        "repeats": args.repeats,
        "timing": "mean over pairs of the fastest of `repeats` interleaved calls; wall and process CPU time",
        "load_average_1min": [load_before, os.getloadavg()[0]],
        "pairs": [p.name for p in pairs],
        "zero_flow_epe": zero,
        "gt_occluded_fraction": occluded_share,
        "estimators": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(RESULTS)

    print(
        f"Device: {report['device']}; OpenCV {cv2.__version__}, {cv2.getNumThreads()} threads; "
        f"load average {load_before:.1f} before timing\n"
    )
    print("| estimator | EPE Sintel clean | EPE Sintel final | EPE Chairs | ms @640x360 | CPU ms @640x360 "
          "| mask precision | mask recall | flagged |")
    print("|---|---|---|---|---|---|---|---|---|")
    zero_by_group = {
        g: statistics.mean(v for k, v in zero.items() if _group(k) == g)
        for g in ("sintel_clean", "sintel_final", "chairs")
    }
    zero_cells = " | ".join(f"{v:.2f}" for v in zero_by_group.values())
    print(f"| zero flow | {zero_cells} | - | - | - | - | - |")
    for name, r in results.items():
        print(
            f"| {name} | {r['epe_sintel_clean']:.2f} | {r['epe_sintel_final']:.2f} | {r['epe_chairs']:.2f} "
            f"| {r['ms_640x360']:.1f} | {r['cpu_ms_640x360']:.1f} "
            f"| {r['mask_precision']:.2f} | {r['mask_recall']:.2f} "
            f"| {r['mask_flagged']:.3f} |"
        )
    print(f"\nGT occluded fraction (Sintel, mean): {occluded_share:.3f}. Written {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
