"""``vidstyle run`` for a VFX hand-off: mattes composited bit-exact, EXR/16-bit sequences out of the float
path, premultiplied RGBA with ``--matte alpha``, frame numbers kept or set with ``--start-number``."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from vidstyle.cli.app import main
from vidstyle.io.images import read_image_float, write_image_float
from vidstyle.io.sequence import find_sequence
from vidstyle.synth import synth_frames

W, H, FRAMES = 96, 64, 6


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        return (main(args), *capsys.readouterr())
    except SystemExit as exc:
        return (exc.code, *capsys.readouterr())


def write_plate(folder: Path, suffix: str, *, alpha: bool = False, over_one: bool = False) -> Path:
    """FRAMES synthetic frames numbered from 1001 as ``folder/p.%04d{suffix}``; EXR can hold values above 1
    and premultiplied alpha (0 on the left quarter, soft in the middle)."""
    folder.mkdir()
    for n, frame in enumerate(synth_frames(FRAMES, W, H), start=1001):
        image = frame.astype(np.float32) / 255.0
        if over_one:
            image[:8] *= 3.0  # a bright sky, beyond display white
        if alpha:
            a = np.clip(np.linspace(-0.5, 1.5, W, dtype=np.float32), 0, 1)[None, :, None].repeat(H, 0)
            image = np.concatenate([image * a, a], axis=2)
        write_image_float(folder / f"p.{n}{suffix}", image)
    return folder / f"p.%04d{suffix}"


def write_mattes(folder: Path) -> tuple[Path, np.ndarray]:
    """One matte per frame: 0 on the left half, 1 on the right, a soft column between."""
    folder.mkdir()
    matte = np.zeros((H, W), np.float32)
    matte[:, W // 2:] = 1.0
    matte[:, W // 2 - 1] = 0.5
    for n in range(1, FRAMES + 1):
        write_image_float(folder / f"m.{n:04d}.png", matte)
    return folder / "m.%04d.png", matte


@pytest.mark.parametrize("suffix", [".png", ".exr"])
def test_matte_zero_pixels_are_the_input_bit_for_bit(tmp_path, capsys, suffix):
    plate = write_plate(tmp_path / "plate", suffix, over_one=suffix == ".exr")
    mattes, matte = write_mattes(tmp_path / "mattes")
    out = tmp_path / "out" / f"s.%04d{suffix}"
    code, stdout, err = run_cli(["run", str(plate), "-o", str(out), "--style", "starry_night", "--matte",
                                 str(mattes), "--max-side", "96", "--json", "--quiet"], capsys)
    assert code == 0, err
    assert json.loads(stdout.strip().splitlines()[-1])["matte"] == str(mattes)
    painted, inputs = find_sequence(out), find_sequence(plate)
    assert painted.first == 1001 and len(painted.paths) == FRAMES
    for a, b in zip(inputs.paths, painted.paths):
        inp, res = read_image_float(a), read_image_float(b)
        assert res.shape == inp.shape
        assert np.array_equal(res[matte == 0], inp[matte == 0])
        assert np.abs(res[matte == 1] - inp[matte == 1]).mean() > 0.04  # painted inside
    if suffix == ".exr":
        assert read_image_float(painted.paths[0]).max() > 1.5  # the bright sky outside the matte kept


def test_alpha_matte_writes_premultiplied_rgba(tmp_path, capsys):
    plate = write_plate(tmp_path / "plate", ".exr", alpha=True)
    out = tmp_path / "out" / "s.%04d.exr"
    code, _, err = run_cli(["run", str(plate), "-o", str(out), "--style", "starry_night", "--matte", "alpha",
                            "--max-side", "96", "--quiet"], capsys)
    assert code == 0, err
    for a, b in zip(find_sequence(plate).paths, find_sequence(out).paths):
        inp, res = read_image_float(a), read_image_float(b)
        assert res.shape == (H, W, 4) and np.array_equal(res[..., 3], inp[..., 3])
        outside = inp[..., 3] == 0
        assert np.array_equal(res[outside], inp[outside])
        assert np.all(res[..., :3] <= res[..., 3:] + 1e-3)  # premultiplied: colour never above alpha


def test_sixteen_bit_sequence_written_from_float(tmp_path, capsys):
    plate = write_plate(tmp_path / "plate", ".tif")
    out = tmp_path / "out" / "s.%04d.tif"
    code, _, err = run_cli(["run", str(plate), "-o", str(out), "--style", "starry_night", "--max-side", "96",
                            "--quiet"], capsys)
    assert code == 0, err
    first = cv2.imread(str(find_sequence(out).paths[0]), cv2.IMREAD_UNCHANGED)
    assert first.dtype == np.uint16
    levels = np.unique(first)
    assert np.any(levels % 257 != 0)  # levels between the 8-bit ones: not rounded to 8 bits first


def test_numbering_kept_after_start_or_set(tmp_path, capsys, clip16):
    plate = write_plate(tmp_path / "plate", ".png")
    kept = tmp_path / "kept" / "k.%04d.png"
    code, stdout, err = run_cli(["run", str(plate), "-o", str(kept), "--style", "starry_night", "--fps", "12",
                                 "--start", "0.25", "--max-side", "96", "--json", "--quiet"], capsys)
    assert code == 0, err
    seq = find_sequence(kept)
    assert (seq.first, len(seq.paths)) == (1004, 3)  # 3 frames skipped by --start keep their numbers
    numbered = tmp_path / "numbered" / "n.%04d.png"
    code, _, err = run_cli(["run", str(clip16), "-o", str(numbered), "--style", "starry_night", "--max-frames",
                            "3", "--start-number", "1001", "--max-side", "96", "--quiet"], capsys)
    assert code == 0, err
    assert (find_sequence(numbered).first, len(find_sequence(numbered).paths)) == (1001, 3)


def test_write_confidence_writes_the_temporal_mask(tmp_path, capsys):
    plate = write_plate(tmp_path / "plate", ".png")
    out = tmp_path / "out" / "s.%04d.png"
    code, _, err = run_cli(["run", str(plate), "-o", str(out), "--style", "starry_night", "--write-confidence",
                            "--max-side", "96", "--quiet"], capsys)
    assert code == 0, err
    masks = find_sequence(tmp_path / "out" / "confidence" / "s.%04d.png")
    assert masks.first == 1001 and len(masks.paths) == FRAMES
    values = [read_image_float(p) for p in masks.paths]
    assert values[0].shape == (H, W, 1) and values[0].max() == 0.0  # the first frame is painted afresh
    assert all(0.3 < v.mean() <= 1.0 for v in values[1:])  # later ones mostly held to the previous frame
    code, _, err = run_cli(["run", str(plate), "-o", str(tmp_path / "o2" / "s.%04d.png"), "--style",
                            "starry_night", "--write-confidence", "--no-temporal", "--quiet"], capsys)
    assert code == 2 and "--write-confidence needs" in err
