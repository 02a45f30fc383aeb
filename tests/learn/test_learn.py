"""Learning a CIN style: the loss goes down, checkpoints resume exactly, and the preset works by name."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from vidstyle.cli.app import main
from vidstyle.learn.checkpoint import load_checkpoint, load_style_params
from vidstyle.learn.data import CropSampler
from vidstyle.learn.preset import learn_preset
from vidstyle.learn.settings import LearnSettings
from vidstyle.learn.trainer import StyleLearner
from vidstyle.stylize.nets import CIN_PARAM_DIM
from vidstyle.stylize.weights import load_cin26
from vidstyle.stylize.styles import CIN26, all_presets, builtin_params, resolve_style
from vidstyle.synth import synth_frames, write_clip

TINY = LearnSettings(steps=6, size=32, batch=1, learning_rate=0.05, style_side=64, vgg_scale=1.0)


def _painting() -> np.ndarray:
    """(64, 64, 3) uint8: bold diagonal red and blue stripes, far from any photo."""
    y, x = np.mgrid[:64, :64]
    stripes = ((x + y) // 8) % 2 == 0
    return np.where(stripes[..., None], np.array([220, 30, 30], np.uint8), np.array([20, 40, 200], np.uint8))


@pytest.fixture(scope="module")
def net():
    return load_cin26("cpu")


@pytest.fixture()
def frames():
    return [f[:48, :48] for f in synth_frames(4, 64, 48)]


def _learner(net, frames, settings=TINY) -> StyleLearner:
    return StyleLearner(net, _painting(), CropSampler(frames, settings.size), builtin_params(0), settings,
                        torch.device("cpu"))


def test_few_steps_lower_the_loss(net):
    still = synth_frames(2, 32, 32)  # crops of a 32x32 frame are the frame itself: the loss is comparable
    learner = _learner(net, still)
    params = learner.run()
    assert params.shape == (CIN_PARAM_DIM,)
    assert learner.losses[-1] < 0.8 * learner.losses[0]
    assert not torch.equal(params, builtin_params(0))


def test_checkpoint_resume_equals_uninterrupted(net, frames, tmp_path):
    straight = _learner(net, frames).run()
    checkpoint = tmp_path / "ckpt.pt"

    def stop_at_3(done: int, total: int, loss: float) -> None:
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _learner(net, frames).run(checkpoint, stop_at_3)
    assert load_checkpoint(checkpoint)["step"] == 3
    resumed = _learner(net, frames)
    resumed.restore(load_checkpoint(checkpoint))
    torch.testing.assert_close(resumed.run(checkpoint), straight, atol=0, rtol=0)
    assert resumed.step_done == 6


def test_resume_refuses_other_settings(net, frames, tmp_path):
    learner = _learner(net, frames)
    learner.step()
    other = _learner(net, frames, LearnSettings(steps=6, size=32, batch=1, learning_rate=0.1, style_side=64, vgg_scale=1.0))
    with pytest.raises(Exception, match="learning_rate"):
        other.restore(learner.state())


def test_temporal_loss_runs_and_counts(net, frames):
    plain = _learner(net, frames)
    steady = _learner(net, frames, LearnSettings(steps=1, size=32, batch=1, style_side=64, vgg_scale=1.0, temporal_weight=1e4))
    first, second = steady.sampler.sample(1)
    with torch.no_grad():
        assert float(steady.loss(first, second)) > float(plain.loss(first, second))


@pytest.fixture()
def config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "vidstyle" / "styles"


def test_cli_learn_then_render_by_name(tmp_path, config_home, capsys):
    import cv2

    painting = tmp_path / "stripes.png"
    cv2.imwrite(str(painting), _painting()[..., ::-1])
    clip = write_clip(tmp_path / "clip.mp4", synth_frames(6, 64, 48), fps=12)
    assert main(["styles", "learn", "stripes", "--image", str(painting), "--content", str(clip), "--steps", "3",
                 "--size", "32", "--from", "blue_yellow_swirls", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(summary) == {"name", "family", "steps", "seconds", "loss_first", "loss_last"}
    assert summary["name"] == "stripes" and summary["family"] == CIN26 and summary["steps"] == 3
    assert (config_home / "stripes.npz").is_file() and not list(config_home.glob(".*.pt"))

    assert main(["styles", "list", "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out.strip().splitlines()[-1])}
    assert listed["stripes"]["family"] == CIN26
    choice = resolve_style("stripes", lambda image: None)
    torch.testing.assert_close(choice.cin_weights, load_style_params(config_home / "stripes.npz"))
    blend = resolve_style("stripes:0.5,blue_yellow_swirls:0.5", lambda image: None).cin_weights
    torch.testing.assert_close(blend, 0.5 * choice.cin_weights + 0.5 * builtin_params(19))

    out = tmp_path / "out.mp4"
    assert main(["run", str(clip), "-o", str(out), "--style", "stripes", "--max-side", "64", "--json", "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["frames"] == 6

    with pytest.raises(SystemExit) as exc:  # the name is taken now
        main(["styles", "learn", "stripes", "--image", str(painting), "--steps", "1"])
    assert exc.value.code == 2


def test_interrupted_learn_resumes(tmp_path, config_home, frames):
    import cv2

    painting = tmp_path / "stripes.png"
    cv2.imwrite(str(painting), _painting()[..., ::-1])
    clip = write_clip(tmp_path / "clip.mp4", synth_frames(6, 64, 48), fps=12)
    kwargs = dict(content=[clip], settings=TINY, start="yellow_pastel_brush")
    straight = learn_preset("a", painting, tmp_path / "a", **kwargs)

    def stop_at_4(done: int, total: int, loss: float) -> None:
        if done == 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        learn_preset("b", painting, tmp_path / "b", on_step=stop_at_4, **kwargs)
    assert not (tmp_path / "b" / "b.npz").exists()
    resumed = learn_preset("b", painting, tmp_path / "b", resume=True, **kwargs)
    assert resumed.loss_first == straight.loss_first and resumed.loss_last == straight.loss_last
    torch.testing.assert_close(load_style_params(tmp_path / "b" / "b.npz"),
                               load_style_params(tmp_path / "a" / "a.npz"), atol=0, rtol=0)
    assert "b" not in all_presets()  # learn_preset wrote elsewhere than the user folder
