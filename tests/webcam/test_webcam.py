"""vidstyle webcam (vidstyle.live): live loop, recording, key handling, adaptive size, window and the command.
The camera sources and the mailbox are tested in tests/io/test_camera.py.

No camera is needed: files play as cameras, and fake sources stand in for cameras that fail. No test
asserts a time; slow fake stylizers only make dropping certain.
"""

from __future__ import annotations

import json
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import torch

from vidstyle.errors import ResourceUnavailableError, UserInputError
from vidstyle.io.camera import CameraLostError, FileCameraSource
from vidstyle.io.reader import Frame, VideoInfo
from vidstyle.processor import FrameProcessor
from vidstyle.stylize.base import IdentityStylizer
from vidstyle.stylize.feedforward import Cin26Stylizer
from vidstyle.stylize.nets import CIN26_STYLE_NAMES
from vidstyle.stylize.registry import StyleRequest
from vidstyle.stylize.styles import CIN26, MAGENTA, Preset
from vidstyle.synth import synth_frames, write_clip
from vidstyle.live.adaptive import AdaptiveSize
from vidstyle.live.controls import LiveControls
from vidstyle.live.loop import run_live
from vidstyle.live.outputs import VideoRecorder, VirtualCamera
from vidstyle.live.stats import LiveStats
from vidstyle.live.window import opencv_gui, window_unavailable_reason

W, H = 96, 64


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    return synth_frames(40, W, H)


@pytest.fixture(scope="module")
def clip(tmp_path_factory, frames) -> Path:
    """40 frames, 96x64, 24 fps, no audio."""
    return write_clip(tmp_path_factory.mktemp("webcam") / "clip.mp4", frames, fps=24, audio_codec=None)


class SlowStylizer:
    """Inverts the picture after ``delay`` seconds: slower than the source, so frames must drop.
    ``seen``: the mean of every frame it painted (tells which frames reached it)."""

    name = "slow"

    def __init__(self, delay: float = 0.0, interrupt_at: int | None = None) -> None:
        self.device = torch.device("cpu")
        self.delay, self.interrupt_at, self.calls = delay, interrupt_at, 0
        self.seen: list[float] = []

    def stylize(self, content: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        self.calls += 1
        self.seen.append(float(content.mean()))
        if self.interrupt_at is not None and self.calls >= self.interrupt_at:
            raise KeyboardInterrupt
        time.sleep(self.delay)
        return 1.0 - content


class FakeTemporal:
    def __init__(self) -> None:
        self.resets = 0

    def step(self, content, paint, weight=None):
        return paint(content)

    def reset(self) -> None:
        self.resets += 1

    def state_dict(self):
        return {}

    def load_state_dict(self, state) -> None:
        pass


class ListSource:
    """A camera stand-in: ``frames`` delivered every ``period`` seconds, then ``error`` (if any)."""

    def __init__(self, frames, *, period: float = 0.0, error: Exception | None = None) -> None:
        self.images, self.period, self.error = frames, period, error
        self.label = "fake camera"
        self.info = VideoInfo(path=Path("fake"), width=frames[0].shape[1], height=frames[0].shape[0],
                              time_base=Fraction(1, 24), frame_rate=Fraction(24), frame_count=len(frames))

    def frames(self):
        for i, image in enumerate(self.images):
            time.sleep(self.period)
            yield Frame(image, i, i)
        if self.error is not None:
            raise self.error


def _processor(stylizer=None, temporal=None) -> FrameProcessor:
    return FrameProcessor(stylizer or IdentityStylizer(), temporal, max_side=None)


def _controls(processor, tmp_path, **kwargs) -> LiveControls:
    return LiveControls(processor, StyleRequest(style=CIN26_STYLE_NAMES[0]), snapshot_dir=tmp_path, **kwargs)


def _decode(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(container.streams.video[0]))


class TestLiveLoop:
    def test_slow_stylizer_drops_never_queues(self):
        # Frame i is grey level 6 i: the stylizer's log says which frames reached it, independently of
        # the loop's own counts.
        numbered = [np.full((H, W, 3), 6 * i, np.uint8) for i in range(40)]
        stylizer = SlowStylizer(delay=0.05)
        processor = _processor(stylizer)
        result = run_live(ListSource(numbered, period=0.005), processor, _controls(processor, Path(".")))
        s = result.summary
        painted = [round(m * 255 / 6) for m in stylizer.seen]
        assert result.ended_by == "source_end"
        assert painted == sorted(set(painted))  # in order, none twice: newest frames, never a backlog
        assert len(painted) < 40 and painted[-1] > len(painted)  # frames were skipped, not queued
        assert s["frames_captured"] == 40 and s["frames_shown"] == len(painted)
        assert s["frames_dropped"] == 40 - len(painted)

    def test_max_frames_counts_shown_and_recorded(self, clip, tmp_path):
        out = tmp_path / "rec.mp4"
        processor = _processor()
        with VideoRecorder(out, (W, H), rate=24) as recorder:
            # at the clip's own rate: released as fast as they decode, all 40 frames could be taken before
            # the loop showed 7 (measured: 2 runs in 12), and the run would end with the source instead
            result = run_live(FileCameraSource(clip, realtime=True), processor, _controls(processor, tmp_path),
                              sinks=[recorder], max_frames=7)
        assert result.ended_by == "max_frames"
        assert result.summary["frames_shown"] == 7 == recorder.frames
        decoded = _decode(out)
        assert len(decoded) == 7 and (decoded[0].width, decoded[0].height) == (W, H)
        pts = [f.pts for f in decoded]
        assert pts == sorted(pts) and len(set(pts)) == 7

    def test_recording_is_the_stylized_frames(self, clip, tmp_path):
        out = tmp_path / "rec.mp4"
        processor = _processor(SlowStylizer())
        with VideoRecorder(out, (W, H), rate=24) as recorder:
            run_live(FileCameraSource(clip, realtime=False), processor, _controls(processor, tmp_path),
                     sinks=[recorder], max_frames=1)
        first = _decode(out)[0].to_ndarray(format="rgb24").astype(float)
        inverted = 255.0 - synth_frames(1, W, H)[0]
        assert np.abs(first - inverted).mean() < 12  # H.264 at crf 20

    def test_source_ends_cleanly(self, clip, tmp_path):
        out = tmp_path / "rec.mp4"
        processor = _processor()
        with VideoRecorder(out, (W, H)) as recorder:
            result = run_live(FileCameraSource(clip), processor, _controls(processor, tmp_path), sinks=[recorder])
        assert result.ended_by == "source_end" and result.error is None
        assert len(_decode(out)) == result.summary["frames_shown"] > 0
        assert not list(tmp_path.glob(".*partial*"))

    def test_camera_lost_mid_stream_finalises_recording(self, frames, tmp_path):
        out = tmp_path / "rec.mp4"
        processor = _processor()
        source = ListSource(frames[:5], period=0.01, error=CameraLostError("the camera stopped (unplugged?)"))
        with VideoRecorder(out, (W, H)) as recorder:
            result = run_live(source, processor, _controls(processor, tmp_path), sinks=[recorder])
        assert result.ended_by == "source_failed" and isinstance(result.error, CameraLostError)
        assert len(_decode(out)) == result.summary["frames_shown"] > 0

    def test_ctrl_c_finalises_recording(self, clip, tmp_path):
        out = tmp_path / "rec.mp4"
        processor = _processor(SlowStylizer(interrupt_at=4))
        with VideoRecorder(out, (W, H)) as recorder:
            result = run_live(FileCameraSource(clip, realtime=False), processor, _controls(processor, tmp_path),
                              sinks=[recorder])
        assert result.ended_by == "interrupted"
        assert len(_decode(out)) == result.summary["frames_shown"] == 3

    @pytest.mark.parametrize("suffix, muxer, magic", [(".mkv", "matroska", b"\x1a\x45\xdf\xa3"),
                                                      (".mp4", "mp4", b"ftypisom")])  # MOV would say ftypqt
    def test_recording_keeps_capture_times_in_the_asked_container(self, frames, tmp_path, suffix, muxer, magic):
        out = tmp_path / f"rec{suffix}"
        with VideoRecorder(out, (W, H), rate=30) as recorder:
            for image, at in zip(frames, (10.0, 10.1, 10.35)):
                recorder.write(image, at)
        assert magic in out.read_bytes()[:12]
        with av.open(str(out)) as container:
            assert muxer in container.format.name.split(",")
            times = [float(f.pts * f.time_base) for f in container.decode(container.streams.video[0])]
        assert times == pytest.approx([0.0, 0.1, 0.35], abs=1e-3)  # variable frame rate, as captured
        assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no segment or temporary file left

    def test_no_frames_leaves_no_file(self, tmp_path):
        out = tmp_path / "rec.mp4"
        with VideoRecorder(out, (W, H)):
            pass
        assert not out.exists() and not list(tmp_path.iterdir())

    def test_quit_key_from_display(self, clip, tmp_path):
        class QuitAfterTwo:
            def __init__(self):
                self.shown = 0

            def show(self, image, lines):
                self.shown += 1
                return ord("q") if self.shown == 2 else -1

            def poll(self):
                return -1

        processor = _processor()
        result = run_live(FileCameraSource(clip, realtime=False), processor, _controls(processor, tmp_path),
                          display=QuitAfterTwo())
        assert result.ended_by == "quit" and result.summary["frames_shown"] == 2

    def test_bad_max_frames(self, frames):
        processor = _processor()
        with pytest.raises(UserInputError, match="--max-frames"):
            run_live(ListSource(frames), processor, _controls(processor, Path(".")), max_frames=0)


class TestLiveStats:
    def test_summary_keys_and_values(self):
        stats = LiveStats()
        for i in range(5):
            stats.record(captured_at=i * 0.1, shown_at=i * 0.1 + 0.05)
        s = stats.summary(captured=8, dropped=3)
        assert list(s) == ["frames_captured", "frames_shown", "frames_dropped", "fps", "latency_ms_median",
                           "latency_ms_p95"]
        assert s["frames_shown"] == 5 and s["fps"] == pytest.approx(10.0)
        assert s["latency_ms_median"] == pytest.approx(50.0)


class TestAdaptiveSize:
    def test_slow_frames_shrink(self):
        adapt = AdaptiveSize(640, target_fps=10, window=4)
        changes = [adapt.observe(0.4) for _ in range(5)]  # the first is warm-up, then a window of 4
        assert changes[:4] == [None] * 4 and changes[4] is not None and changes[4] < 640
        assert changes[4] % 16 == 0 and changes[4] >= adapt.min_side

    def test_fast_frames_grow_up_to_max(self):
        adapt = AdaptiveSize(160, target_fps=10, max_side=320, window=2)
        sides = [s for _ in range(40) if (s := adapt.observe(0.001)) is not None]
        assert sides == sorted(sides) and sides[-1] == 320
        assert all(b <= a * 1.25 + 16 for a, b in zip([160] + sides, sides))

    def test_on_target_keeps_size(self):
        adapt = AdaptiveSize(320, target_fps=10, window=3)
        assert all(adapt.observe(0.075) is None for _ in range(20)) and adapt.changes == 0

    def test_never_below_min(self):
        adapt = AdaptiveSize(320, target_fps=30, min_side=128, window=2)
        for _ in range(40):
            adapt.observe(5.0)
        assert adapt.side == 128

    def test_bad_target(self):
        with pytest.raises(UserInputError, match="--target-fps"):
            AdaptiveSize(320, target_fps=0)


class TestKeys:
    PRESETS = {
        "paint_a": Preset("paint_a", MAGENTA, vector=(0.0,) * 100),
        "cin_a": Preset("cin_a", CIN26, cin_index=0),
        "paint_b": Preset("paint_b", MAGENTA, vector=(0.0,) * 100),
        "cin_b": Preset("cin_b", CIN26, cin_index=1),
        "cin_c": Preset("cin_c", CIN26, cin_index=2),
    }

    def _controls(self, tmp_path, style="cin_a", temporal=True, **kwargs):
        asked = []

        def style_of(request):
            asked.append(request.style)
            return torch.full((1, 1), float(len(asked)))

        processor = FrameProcessor(SlowStylizer(), FakeTemporal() if temporal else None, max_side=None)
        controls = LiveControls(processor, StyleRequest(style=style, **kwargs), snapshot_dir=tmp_path,
                                style_of=style_of, presets=self.PRESETS)
        return controls, processor, asked

    def test_next_previous_within_family(self, tmp_path):
        controls, processor, asked = self._controls(tmp_path)
        assert controls.handle_key("n") == "style cin_b"
        assert controls.handle_key(ord("n")) == "style cin_c"
        assert controls.handle_key("n") == "style cin_a"  # wraps
        assert controls.handle_key("p") == "style cin_c"
        assert asked == ["cin_b", "cin_c", "cin_a", "cin_c"]
        assert controls.style_label == "cin_c" and float(processor.style) == 4.0  # the last one asked for
        assert processor.temporal.resets == 4

    def test_image_style_cycles_paintings(self, tmp_path):
        image = tmp_path / "style.png"
        cv2.imwrite(str(image), np.zeros((8, 8, 3), np.uint8))
        controls, _, _ = self._controls(tmp_path, style=str(image))
        assert controls.handle_key("n") == "style paint_a"
        assert controls.handle_key("n") == "style paint_b"

    def test_blend_cycles_its_family(self, tmp_path):
        controls, _, _ = self._controls(tmp_path, style="cin_b:0.5,cin_c:0.5")
        assert controls.handle_key("p") == "style cin_c"

    def test_failed_switch_keeps_style(self, tmp_path):
        controls, processor, _ = self._controls(tmp_path)

        def broken(request):
            raise UserInputError("no weights")

        controls._style_of = broken
        assert controls.handle_key("n").startswith("cannot switch to cin_b")
        assert processor.style is None and controls.style_label == "cin_a"

    def test_switch_paints_like_a_network_built_for_that_style(self, tmp_path):
        # The real path: the next preset is the same CIN-26 network with other weights, loaded once.
        first, second = CIN26_STYLE_NAMES[0], CIN26_STYLE_NAMES[1]
        frame = synth_frames(1, W, H)[0]
        processor = FrameProcessor(Cin26Stylizer(torch.eye(26)[0]), None, max_side=None)
        network = processor.stylizer
        controls = LiveControls(processor, StyleRequest(style=first), snapshot_dir=tmp_path)
        assert controls.handle_key("n") == f"style {second}"
        assert processor.stylizer is network
        expected = FrameProcessor(Cin26Stylizer(torch.eye(26)[1]), None, max_side=None).process(frame)
        assert np.array_equal(processor.process(frame), expected)

    def test_model_has_no_presets(self, tmp_path):
        controls, _, _ = self._controls(tmp_path, model=Path("candy.pth"))
        assert "no presets" in controls.handle_key("n")

    def test_temporal_toggle(self, tmp_path):
        controls, processor, _ = self._controls(tmp_path)
        assert controls.handle_key("t") == "temporal off" and not processor.temporal_enabled
        assert controls.handle_key("t") == "temporal on" and processor.temporal_enabled
        assert processor.temporal.resets == 1  # re-enabled: the old previous frame is forgotten
        controls, processor, _ = self._controls(tmp_path, temporal=False)
        assert "--no-temporal" in controls.handle_key("t")

    def test_strength_clamped(self, tmp_path):
        controls, processor, _ = self._controls(tmp_path)
        assert controls.handle_key("+") == "strength 1.0"
        for _ in range(3):
            controls.handle_key("-")
        assert processor.strength == pytest.approx(0.7)
        for _ in range(20):
            controls.handle_key("_")
        assert processor.strength == 0.0
        controls.handle_key("=")
        assert processor.strength == pytest.approx(0.1)

    def test_snapshot_png(self, tmp_path):
        controls, _, _ = self._controls(tmp_path)
        assert controls.handle_key("s") == "snapshot: no frame shown yet"
        frame = synth_frames(1, W, H)[0]
        controls.last_frame = frame
        message = controls.handle_key("s")
        path = controls.snapshots[0]
        assert message == f"snapshot {path}" and path.suffix == ".png"
        assert np.array_equal(cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB), frame)
        assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left

    def test_quit_and_unknown(self, tmp_path):
        controls, _, _ = self._controls(tmp_path)
        assert controls.handle_key(-1) is None and controls.handle_key("x") is None and not controls.quit
        assert controls.handle_key(27) == "quit" and controls.quit


class TestWindow:
    def test_gui_backend_from_build_information(self):
        assert opencv_gui("  Video I/O:\n  GUI:                           QT5\n    QT: YES") == "QT5"
        assert opencv_gui("  GUI:                           NONE\n") is None
        assert opencv_gui("General configuration for OpenCV\n") is None

    def test_headless_build_gives_that_reason(self, monkeypatch):
        monkeypatch.setattr("vidstyle.live.window.opencv_gui", lambda: None)
        monkeypatch.setenv("DISPLAY", ":0")
        assert "no GUI support" in window_unavailable_reason()

    def test_no_display_gives_that_reason(self, monkeypatch):
        monkeypatch.setattr("vidstyle.live.window.opencv_gui", lambda: "GTK3")
        monkeypatch.delenv("DISPLAY", raising=False)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        monkeypatch.setattr("sys.platform", "linux")
        assert window_unavailable_reason() == "no display ($DISPLAY is not set)"
        monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
        assert window_unavailable_reason() is None


class TestVirtualCamera:
    def test_missing_package(self, monkeypatch):
        monkeypatch.setitem(__import__("sys").modules, "pyvirtualcam", None)
        with pytest.raises(ResourceUnavailableError, match=r"pip install 'vidstyle\[virtualcam\]'"):
            VirtualCamera((W, H), 24)


class TestCommand:
    def _main(self, argv):
        from vidstyle.cli.app import main

        return main(argv)

    def test_json_from_source(self, clip, tmp_path, capsys):
        out = tmp_path / "rec.mp4"
        self._main(["webcam", "--source", str(clip), "--no-window", "--max-frames", "10", "--json", "--style",
                    CIN26_STYLE_NAMES[3], "--output", str(out), "--quiet"])
        summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert set(summary) == {"frames_captured", "frames_shown", "frames_dropped", "fps", "latency_ms_median",
                                "latency_ms_p95"}
        assert 0 < summary["frames_shown"] <= 10 and summary["frames_captured"] <= 40
        assert len(_decode(out)) == summary["frames_shown"]

    def test_no_camera_is_one_line_exit_2(self, capsys):
        with pytest.raises(SystemExit) as exc:
            self._main(["webcam", "--style", CIN26_STYLE_NAMES[0], "--camera", "/dev/vidstyle-none",
                        "--no-window"])
        assert exc.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == ["vidstyle: error: no camera at /dev/vidstyle-none: no such device (use --camera N or "
                       "--source FILE)"]

    def test_no_window_hint(self, clip, monkeypatch, capsys):
        monkeypatch.setattr("vidstyle.live.window.window_unavailable_reason",
                            lambda: "no display ($DISPLAY is not set)")
        with pytest.raises(SystemExit) as exc:
            self._main(["webcam", "--style", CIN26_STYLE_NAMES[0], "--source", str(clip)])
        assert exc.value.code == 2
        assert "use --no-window" in capsys.readouterr().err

    @pytest.mark.parametrize("extra, message", [
        (["--camera", "1"], "either --camera or --source"),
        (["--size", "big"], "--size must be WxH"),
        (["--output", "out.avi"], "use .mp4, .mov or .mkv"),
    ])
    def test_bad_usage(self, clip, capsys, extra, message):
        with pytest.raises(SystemExit) as exc:
            self._main(["webcam", "--style", CIN26_STYLE_NAMES[0], "--source", str(clip), "--no-window", *extra])
        assert exc.value.code == 2
        assert message in capsys.readouterr().err
