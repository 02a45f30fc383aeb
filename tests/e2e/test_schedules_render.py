"""``vidstyle run`` with schedules, style crossfades and audio reactions: the render paints each frame with
the values ``vidstyle curves`` reports, resumes to identical frames and refuses to mix schedules."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from vidstyle.build import ProcessorSettings
from vidstyle.cli.app import main
from vidstyle.errors import RenderInterrupted, UserInputError
from vidstyle.io.images import write_image_float
from vidstyle.io.reader import read_image
from vidstyle.job import RenderSettings, run_job
from vidstyle.processor import FrameProcessor
from vidstyle.schedule.spec import ControlSpec
from vidstyle.stylize.registry import StyleRequest
from vidstyle.stylize.styles import all_presets, preset_params
from vidstyle.synth import synth_frames

CROSSFADE = "0:(starry_night), 9:(the_wave)"


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        return (main(args), *capsys.readouterr())
    except SystemExit as exc:
        return (exc.code, *capsys.readouterr())


def last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


@pytest.fixture
def plate(tmp_path) -> Path:
    """A 12-frame 96x64 8-bit PNG sequence numbered from 1001: ``plate/p.%04d.png``."""
    (tmp_path / "plate").mkdir()
    for n, frame in enumerate(synth_frames(12, 96, 64), start=1001):
        write_image_float(tmp_path / "plate" / f"p.{n}.png", frame.astype(np.float32) / 255.0)
    return tmp_path / "plate" / "p.%04d.png"


@pytest.fixture
def spy(monkeypatch) -> list:
    """The controls of every frame a render begins (``FrameProcessor.begin``), in order."""
    calls: list = []
    original = FrameProcessor.begin

    def begin(self, image, controls=None):
        calls.append(controls)
        return original(self, image, controls)

    monkeypatch.setattr(FrameProcessor, "begin", begin)
    return calls


def settings(plate: Path, output: Path, controls: ControlSpec, **kw) -> RenderSettings:
    processing = ProcessorSettings(style=StyleRequest(controls.network_style()), max_side=96)
    return RenderSettings(input=plate, output=output, processing=processing, fps=12.0, controls=controls,
                          segment_frames=4, **kw)


def frames_of(pattern: Path) -> list[np.ndarray]:
    return [read_image(p) for p in sorted(pattern.parent.glob("*.png"))]


def test_strength_zero_at_a_keyframe_returns_the_input(plate, tmp_path, capsys):
    out = tmp_path / "out" / "o.%04d.png"
    code, stdout, err = run_cli(["run", str(plate), "-o", str(out), "--style", "starry_night", "--fps", "12",
                                 "--strength", "0:(1), 5:(0), 9:(1)", "--max-side", "96", "--json", "--quiet"],
                                capsys)
    assert code == 0, err
    summary = last_json(stdout)
    assert summary["schedules"] == {"strength": "0:(1), 5:(0), 9:(1)"} and "audio_react" not in summary
    painted, inputs = frames_of(out), frames_of(plate)
    assert len(painted) == 12
    assert np.array_equal(painted[5], inputs[5])  # the keyframe at strength 0: the input, bit for bit
    assert np.abs(painted[0].astype(int) - inputs[0]).mean() > 10  # full strength: painted
    assert 0 < np.abs(painted[4].astype(int) - inputs[4]).mean() < np.abs(painted[1].astype(int) - inputs[1]).mean()


def test_crossfade_render_gets_the_curves_values(plate, tmp_path, capsys, spy):
    options = ["--style", CROSSFADE, "--strength", "0:(1), 11:(0.5)", "--temporal-weight", "0:(30), 11:(5)",
               "--fps", "12"]
    code, _, err = run_cli(["curves", str(plate), "-o", str(tmp_path / "c.json"), *options], capsys)
    assert code == 0, err
    curves = json.loads((tmp_path / "c.json").read_text())["curves"]
    code, stdout, err = run_cli(["run", str(plate), "-o", str(tmp_path / "o.%04d.png"), *options,
                                 "--max-side", "96", "--json", "--quiet"], capsys)
    assert code == 0, err
    assert last_json(stdout)["style"] == CROSSFADE
    assert len(spy) == 12
    presets = all_presets()
    a, b = (preset_params(presets[n]).unsqueeze(0) for n in ("starry_night", "the_wave"))
    for i, controls in enumerate(spy):
        # (the JSON keeps 6 decimals)
        assert controls.strength == pytest.approx(curves["strength"][i], abs=1e-6)
        assert controls.temporal_weight == pytest.approx(curves["temporal-weight"][i], abs=1e-6)
        expected = curves["style:starry_night"][i] * a + curves["style:the_wave"][i] * b
        assert torch.allclose(controls.style, expected, atol=1e-4), i
    moved = [float((c.style - a).norm() / (b - a).norm()) for c in spy]
    assert moved[0] == pytest.approx(0.0, abs=1e-6) and moved[-1] == pytest.approx(1.0, abs=1e-6)
    assert moved == sorted(moved)


def test_resumed_scheduled_render_equals_uninterrupted_and_refuses_other_schedules(plate, tmp_path, monkeypatch):
    controls = ControlSpec(strength="0:(1), 11:(0.3)", temporal_weight="0:(25), 6:(8)", style=CROSSFADE)
    reference = tmp_path / "ref" / "o.%04d.png"
    run_job(settings(plate, reference, controls))

    out = tmp_path / "out" / "o.%04d.png"
    original, calls = FrameProcessor.begin, []

    def dies_at_7(self, image, controls=None):
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt
        return original(self, image, controls)

    monkeypatch.setattr(FrameProcessor, "begin", dies_at_7)
    with pytest.raises(RenderInterrupted):
        run_job(settings(plate, out, controls))
    monkeypatch.setattr(FrameProcessor, "begin", original)
    other = ControlSpec(strength="0:(1), 11:(0.4)", temporal_weight="0:(25), 6:(8)", style=CROSSFADE)
    with pytest.raises(UserInputError, match="other settings.*controls"):
        run_job(settings(plate, out, other, resume=True))
    result = run_job(settings(plate, out, controls, resume=True)).result
    assert result.resumed_frames == 4 and result.frames == 12
    resumed, uninterrupted = frames_of(out), frames_of(reference)
    assert len(resumed) == 12 and all(np.array_equal(x, y) for x, y in zip(resumed, uninterrupted))


def _click_clip(path: Path, frames: int, fps: int, bpm: float) -> Path:
    """A clip of ``frames`` synthetic frames with a click track at ``bpm`` (mono PCM in MKV)."""
    rate = 44100
    n = int(frames / fps * rate)
    samples = np.zeros(n, np.float32)
    tick = (np.sin(2 * np.pi * 1500 * np.arange(882) / rate) * np.exp(-np.arange(882) / 180.0)).astype(np.float32)
    for t in np.arange(0.1, frames / fps - 0.05, 60.0 / bpm):
        samples[int(t * rate):int(t * rate) + len(tick)] += 0.8 * tick[:n - int(t * rate)]
    with av.open(str(path), "w") as out:
        video = out.add_stream("ffv1", rate=fps)
        video.width, video.height, video.pix_fmt = 96, 64, "yuv444p"
        audio = out.add_stream("pcm_s16le", rate=rate)
        audio.layout = "mono"
        for i, image in enumerate(synth_frames(frames, 96, 64)):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode())
        pcm = (samples * 32767).astype(np.int16)[None]
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
        out.mux(audio.encode(frame))
        out.mux(audio.encode())
    return path


def test_audio_react_render_reports_and_follows_the_clicks(tmp_path, capsys, spy):
    clip = _click_clip(tmp_path / "clicks.mkv", 24, 12, bpm=120.0)  # a click every 6 frames from 0.1 s
    out = tmp_path / "o.mkv"
    code, stdout, err = run_cli(["run", str(clip), "-o", str(out), "--style", "starry_night", "--codec", "ffv1",
                                 "--audio-react", "strength:onset", "--react-release", "0.1", "--max-side", "96",
                                 "--json", "--quiet"], capsys)
    assert code == 0, err
    summary = last_json(stdout)
    assert summary["frames"] == 24
    assert summary["audio_react"] == [{"target": "strength", "feature": "onset", "gain": 1.0, "range": [0.0, 1.0]}]
    strengths = np.array([c.strength for c in spy])
    peaks = [i for i in range(1, 23) if strengths[i] >= strengths[i - 1] and strengths[i] > strengths[i + 1]
             and strengths[i] > 0.5]
    assert peaks and all(abs(p - (1 + 6 * round((p - 1) / 6))) <= 1 for p in peaks)  # clicks at frames 1, 7, 13, 19
    with av.open(str(out)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 24


def test_style_scale_curve_render(clip16, tmp_path, capsys, spy):
    """An image-file style at a scale that moves: the predictor's vector changes frame to frame."""
    painting = tmp_path / "painting.png"
    write_image_float(painting, synth_frames(1, 128, 128, seed=3)[0].astype(np.float32) / 255.0)
    code, stdout, err = run_cli(["run", str(clip16), "-o", str(tmp_path / "o.mp4"), "--style", str(painting),
                                 "--style-scale", "0:(0.8), 15:(1.6)", "--max-side", "96", "--json", "--quiet"],
                                capsys)
    assert code == 0, err
    assert last_json(stdout)["schedules"] == {"style-scale": "0:(0.8), 15:(1.6)"}
    styles = [c.style for c in spy]
    assert len(styles) == 16 and all(s is not None and s.shape == (1, 100) for s in styles)
    assert not torch.equal(styles[0], styles[-1])


def test_style_schedules_need_a_preset_network(clip16, tmp_path, capsys):
    code, _, err = run_cli(["run", str(clip16), "-o", str(tmp_path / "o.mp4"), "--style", CROSSFADE,
                            "--method", "optimize"], capsys)
    assert code == 2 and "feed-forward" in err and len(err.strip().splitlines()) == 1


def test_a_ray_chunk_worker_paints_its_frames_with_the_same_controls(plate, tmp_path, spy):
    """render_chunk (what each Ray task runs) builds the plan from the settings: a chunk of frames 6..11
    warmed up on 2 frames gets the controls of frames 4..11, as the whole render does."""
    from vidstyle.distributed.plan import Chunk
    from vidstyle.distributed.worker import render_chunk
    from vidstyle.job import fingerprint, open_render_source
    from vidstyle.render_plan import render_plan

    controls = ControlSpec(strength="0:(1), 11:(0.3)", style=CROSSFADE)
    job = settings(plate, tmp_path / "out" / "o.%04d.png", controls)
    render_chunk(job, Chunk(6, 12, 2), tmp_path / "work", fingerprint(job, "cpu"))
    assert len(spy) == 8
    whole = render_plan(job, open_render_source(job), _FakeProcessor())
    for index, got in zip(range(4, 12), spy):
        expected = whole.controls.at(index)
        assert got.strength == expected.strength and torch.equal(got.style, expected.style)


class _FakeProcessor:
    """Enough of a FrameProcessor for render_plan (its device, for the style predictor)."""

    device = torch.device("cpu")
