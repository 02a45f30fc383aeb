"""The command line as a user runs it: outputs, --json, exit codes and one-line errors."""

from __future__ import annotations

import json

import av
import cv2
import numpy as np
import pytest

from vidstyle.cli.app import main
from vidstyle.metrics import warp_errors
from vidstyle.synth import synth_frames


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def style_image(tmp_path):
    """A painting-like picture of our own: warm diagonal strokes."""
    image = synth_frames(1, 128, 128, seed=3)[0][:, :, ::-1]
    path = tmp_path / "painting.png"
    cv2.imwrite(str(path), cv2.cvtColor(image.copy(), cv2.COLOR_RGB2BGR))
    return path


class TestRun:
    def test_preset_with_json(self, clip16, tmp_path, capsys):
        out = tmp_path / "painted.mp4"
        code, stdout, err = run_cli(["run", str(clip16), "-o", str(out), "--style", "starry_night", "--json",
                                     "--quiet"], capsys)
        assert code == 0, err
        summary = json.loads(stdout.strip().splitlines()[-1])
        for key in ("input", "output", "frames", "seconds", "fps", "method", "flow", "device", "style", "temporal",
                    "first_frame_seconds"):
            assert key in summary
        assert summary["frames"] == 16 and summary["temporal"] is True and summary["flow"].startswith("dis")
        # 16 small frames do not repay building the network's kernels: the default run stays uncompiled
        assert summary["compiled"] is False and summary["precision"] in ("bf16", "fp32")
        with av.open(str(out)) as c:
            assert sum(1 for _ in c.decode(video=0)) == 16
            assert c.streams.audio and c.streams.video[0].width == 160

    def test_long_term_steadier_than_per_frame(self, clip16, tmp_path, capsys):
        outputs = {}
        for name, extra in (("long", ["--long-term"]), ("per_frame", ["--no-temporal"])):
            outputs[name] = tmp_path / f"{name}.mp4"
            code, _, err = run_cli(["run", str(clip16), "-o", str(outputs[name]), "--style", "starry_night",
                                    "--quiet", *extra], capsys)
            assert code == 0, err
        def frames(path):
            with av.open(str(path)) as c:
                return [f.to_ndarray(format="rgb24").astype(np.float32) / 255.0 for f in c.decode(video=0)]

        errors = {k: warp_errors(frames(clip16), frames(v)).mean_output for k, v in outputs.items()}
        assert errors["long"] < 0.5 * errors["per_frame"]

    def test_image_sequence_out_numbered_from_one(self, clip16, tmp_path, capsys):
        code, _, err = run_cli(["run", str(clip16), "-o", str(tmp_path / "seq" / "f_%04d.png"), "--style",
                                "the_wave", "--max-frames", "4", "--no-temporal", "--quiet"], capsys)
        assert code == 0, err
        assert sorted(p.name for p in (tmp_path / "seq").iterdir()) == [f"f_{i:04d}.png" for i in range(1, 5)]
        code, _, err = run_cli(["run", str(clip16), "-o", str(tmp_path / "seq" / "f_%04d.png"), "--style",
                                "the_wave", "--max-frames", "4", "--quiet"], capsys)
        assert code == 2 and "--overwrite" in err

    def test_strength_zero_returns_the_input(self, clip16, tmp_path, capsys):
        out = tmp_path / "same.mkv"
        code, _, err = run_cli(["run", str(clip16), "-o", str(out), "--style", "udnie", "--strength", "0",
                                "--codec", "ffv1", "--quiet"], capsys)
        assert code == 0, err
        with av.open(str(clip16)) as a, av.open(str(out)) as b:
            for fa, fb in zip(a.decode(video=0), b.decode(video=0)):
                assert abs(fa.to_ndarray(format="rgb24").astype(int)
                           - fb.to_ndarray(format="rgb24").astype(int)).max() <= 3  # yuv round trip only

    def test_style_image_file(self, clip16, tmp_path, style_image, capsys):
        code, _, err = run_cli(["run", str(clip16), "-o", str(tmp_path / "o.mp4"), "--style", str(style_image),
                                "--max-frames", "3", "--quiet"], capsys)
        assert code == 0, err


class TestBadInput:
    @pytest.mark.parametrize("make,args,message", [
        (None, ["--style", "starry_night"], "input not found"),
        ("text", ["--style", "starry_night"], "not a video"),
        ("clip", ["--style", "starry_nite"], "did you mean starry_night"),
        ("clip", ["--style", "starry_night", "--device", "cuda"], "CUDA"),
        ("clip", ["--style", "starry_night:0.5,blue_yellow_swirls:x"], "bad weight"),
        ("clip", ["--style", "starry_night", "--strength", "2"], "between 0 and 1"),
        ("clip", ["--style", "starry_night", "--flow", "raft"], None),
        ("clip", ["--style", "starry_night", "--method", "optimize", "--init", "zeros"],
         "--init must be one of content, random, feedforward, got 'zeros'"),
        ("clip", ["--style", "starry_night", "--init", "content"], "--init applies to --method optimize"),
    ])
    def test_one_line_exit_2(self, clip16, tmp_path, capsys, monkeypatch, make, args, message):
        import torch

        if "cuda" in args and torch.cuda.is_available():
            pytest.skip("CUDA is here")
        monkeypatch.setattr("torch.hub.get_dir", lambda: str(tmp_path / "hub"))
        if "raft" in args:
            monkeypatch.setattr("vidstyle.flow.raft._download", _no_internet)
        src = tmp_path / "in.mp4"
        if make == "text":
            src.write_text("hello")
        elif make == "clip":
            src = clip16
        out = tmp_path / "out.mp4"
        code, _, err = run_cli(["run", str(src), "-o", str(out)] + args, capsys)
        assert code == 2
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("vidstyle: error: "), err
        assert "Traceback" not in err
        if message:
            assert message in lines[0]
        assert not out.exists()

    def test_never_overwrites_input(self, clip16, capsys):
        code, _, err = run_cli(["run", str(clip16), "-o", str(clip16), "--style", "udnie", "--overwrite"], capsys)
        assert code == 2 and "never overwrites its input" in err

    def test_existing_output_refused(self, clip16, tmp_path, capsys):
        out = tmp_path / "exists.mp4"
        out.write_bytes(b"precious")
        code, _, err = run_cli(["run", str(clip16), "-o", str(out), "--style", "udnie"], capsys)
        assert code == 2 and "--overwrite" in err and out.read_bytes() == b"precious"

    def test_unwritable_output(self, clip16, tmp_path, capsys):
        blocker = tmp_path / "file"
        blocker.write_text("x")
        code, _, err = run_cli(["run", str(clip16), "-o", str(blocker / "out.mp4"), "--style", "udnie"], capsys)
        assert code == 2 and "output folder" in err

    def test_verbose_shows_traceback(self, tmp_path, capsys):
        code, _, err = run_cli(["run", str(tmp_path / "none.mp4"), "-o", str(tmp_path / "o.mp4"), "--style",
                                "udnie", "--verbose"], capsys)
        assert code == 2 and "Traceback" in err


def _no_internet(*args, **kwargs):
    from vidstyle.errors import ResourceUnavailableError

    raise ResourceUnavailableError("RAFT weights not found offline (no internet here)")


class TestOtherCommands:
    def test_styles_list_json(self, capsys):
        code, out, _ = run_cli(["styles", "list", "--json"], capsys)
        presets = json.loads(out.strip().splitlines()[-1])
        names = {p["name"] for p in presets}
        assert code == 0 and {"starry_night", "the_wave", "the_scream", "composition_vii", "udnie"} <= names
        assert all(set(p) == {"name", "family", "artist", "title", "year", "licence"} for p in presets)
        assert sum(p["family"] == "cin26" and p["artist"] == "Magenta multistyle network" for p in presets) == 26

    def test_image_command(self, tmp_path, style_image, capsys):
        src = tmp_path / "photo.png"
        cv2.imwrite(str(src), synth_frames(1, 96, 64)[0])
        out = tmp_path / "painted.png"
        code, _, err = run_cli(["image", str(src), "-o", str(out), "--style", "the_scream"], capsys)
        assert code == 0, err
        assert cv2.imread(str(out)).shape == (64, 96, 3)

    def test_metrics_json(self, clip16, tmp_path, capsys):
        code, out, err = run_cli(["metrics", str(clip16), str(clip16), "--json"], capsys)
        assert code == 0, err
        result = json.loads(out.strip().splitlines()[-1])
        assert result["ratio_to_input"] == pytest.approx(1.0) and result["frames"] == 16

    def test_doctor(self, capsys):
        code, out, _ = run_cli(["doctor"], capsys)
        assert code == 0 and "torch" in out and "RAFT small" in out
        assert "--precision auto" in out and "--compile" in out
        assert "(sha256 ok; read once into" in out
