"""``vidstyle curves`` and the schedule options of ``run`` as a user runs them."""

from __future__ import annotations

import csv
import json

import cv2
import numpy as np
import pytest

from vidstyle.cli.app import main


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """``vidstyle ARGS`` in-process: (exit code, stdout, stderr); main() raises SystemExit only on failure."""
    try:
        return (main(args), *capsys.readouterr())
    except SystemExit as exc:
        return (exc.code, *capsys.readouterr())


SCHEDULE = ["--strength", "0:(1.0), 8:(0.2)", "--style", "0:(starry_night), 0.5s:(the_wave)",
            "--audio-react", "temporal-weight:onset", "--react-release", "0.1"]


class TestCurves:
    def test_json(self, clip16, tmp_path, capsys):
        out = tmp_path / "c.json"
        code, stdout, err = run_cli(["curves", str(clip16), "-o", str(out), *SCHEDULE, "--json"], capsys)
        assert code == 0, err
        data = json.loads(out.read_text())
        assert data["fps"] == 24.0 and data["frames"] == 16
        curves = data["curves"]
        assert set(curves) == {"strength", "style-scale", "temporal-weight", "style:starry_night", "style:the_wave"}
        assert all(len(v) == 16 for v in curves.values())
        assert curves["strength"][0] == 1.0 and curves["strength"][4] == pytest.approx(0.6)
        assert curves["strength"][8:] == [0.2] * 8
        assert curves["style:the_wave"][6] == pytest.approx(0.5) and curves["style:the_wave"][12:] == [1.0] * 4
        assert min(curves["temporal-weight"]) < 10 < max(curves["temporal-weight"])  # the melody's notes
        summary = json.loads(stdout.strip().splitlines()[-1])
        assert summary["frames"] == 16 and summary["audio_react"][0]["feature"] == "onset"

    def test_blend_and_per_shot(self, clip16, tmp_path, capsys):
        out = tmp_path / "c.json"
        code, _, err = run_cli(["curves", str(clip16), "-o", str(out), "-q", "--style", "starry_night,the_wave",
                                "--audio-react", "blend:rms"], capsys)
        assert code == 0, err
        curves = json.loads(out.read_text())["curves"]
        mix = np.array(curves["style:the_wave"])
        np.testing.assert_allclose(mix + np.array(curves["style:starry_night"]), 1.0)
        assert mix.min() < 0.5 < mix.max()
        code, _, err = run_cli(["curves", str(clip16), "-o", str(out), "-q", "--style-per-shot", "udnie,the_wave"],
                               capsys)
        assert code == 0, err
        assert json.loads(out.read_text())["curves"]["style:udnie"] == [1.0] * 16  # one shot, no cut

    def test_csv(self, clip16, tmp_path, capsys):
        out = tmp_path / "c.csv"
        code, _, err = run_cli(["curves", str(clip16), "-o", str(out), "--strength", "0:(0), 15:(1)", "-q"], capsys)
        assert code == 0, err
        rows = list(csv.reader(out.open()))
        assert rows[0] == ["frame", "time", "strength", "style-scale"] and len(rows) == 17
        assert float(rows[16][1]) == pytest.approx(15 / 24) and float(rows[16][2]) == 1.0

    def test_png(self, clip16, tmp_path, capsys):
        out = tmp_path / "c.png"
        code, _, err = run_cli(["curves", str(clip16), "-o", str(out), *SCHEDULE, "-q"], capsys)
        assert code == 0, err
        image = cv2.imread(str(out))
        assert image.shape[1] == 1200 and image.shape[0] > 500
        waveform = image[10:130, 70:1180]
        assert (waveform < 200).mean() > 0.05  # the melody is drawn

    @pytest.mark.parametrize("args, message", [
        (["--strength", "0:(1.0), 48:0.3"], "bad schedule for --strength"),
        (["--strength", "0:(2)"], "--strength must be between 0 and 1"),
        (["--style", "0:(san_giorgio_maggiore), 2s:(yellow_pastel_brush)"], "--style mixes style families"),
        (["--audio-react", "strength:loudness"], "feature must be one of"),
        (["--interp", "bezier"], "--interp must be one of"),
        (["-o", "c.txt"], "curves output must end in"),
    ])
    def test_bad_options_exit_2_with_one_line(self, clip16, tmp_path, capsys, args, message):
        out = ["-o", str(tmp_path / "c.json")] if "-o" not in args else []
        code, _, err = run_cli(["curves", str(clip16), *out, *args], capsys)
        assert code == 2
        assert len(err.strip().splitlines()) == 1 and err.startswith("vidstyle: error: ") and message in err


class TestRunOptions:
    @pytest.mark.parametrize("args, message", [
        (["--strength", "0:(1.0), 48:0.3"], "bad schedule for --strength"),
        (["--temporal-weight", "abc"], "--temporal-weight takes a number or a schedule"),
        (["--style-scale", "0:(1), 1b:(2)", "--bpm", "-3"], "--bpm must be positive"),
    ])
    def test_bad_schedules_exit_2(self, clip16, tmp_path, capsys, args, message):
        code, _, err = run_cli(["run", str(clip16), "-o", str(tmp_path / "o.mp4"), "--style", "starry_night",
                                *args], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1 and message in err
        assert not (tmp_path / "o.mp4").exists()
