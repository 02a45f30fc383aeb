"""Damaged streams decode like ffmpeg: past the bad packets, keeping the pts of what decodes; the
render finishes with a warning and the counts in --json. --strict refuses; no decodable frame fails.
Before, one bad packet stopped the render ("decoding failed after frame 10")."""

from __future__ import annotations

import struct
from pathlib import Path

import av
import pytest

from vidstyle.synth import synth_frames, write_clip

from clitools import FAST, decoded, error_line, run_cli, summary


def _break_packets(src: Path, dst: Path, which: list[int]) -> list[int]:
    """Copy ``src`` with the NAL length of the video packets ``which`` (decode order) made impossible,
    so the decoder rejects exactly those; returns their pts."""
    data = bytearray(src.read_bytes())
    with av.open(str(src)) as c:
        packets = [(p.pos, p.pts) for p in c.demux(c.streams.video[0]) if p.size]
    for i in which:
        data[packets[i][0]:packets[i][0] + 4] = struct.pack(">I", 0x7FFFFFFF)
    dst.write_bytes(bytes(data))
    return [packets[i][1] for i in which]


@pytest.fixture
def damaged(clip24, tmp_path) -> tuple[Path, list[int]]:
    lost = _break_packets(clip24, tmp_path / "damaged.mp4", [10, 17])
    return tmp_path / "damaged.mp4", lost


def test_render_goes_on_past_damaged_packets(clip24, damaged, tmp_path, capsys):
    path, lost_pts = damaged
    out = tmp_path / "out.mp4"
    code, stdout, err = run_cli(["run", path, "-o", out, *[a for a in FAST if a != "--quiet"], "--json"], capsys)
    assert code == 0, err
    s = summary(stdout)
    assert s["damaged_packets"] == 2 and s["frames_lost"] == 2 and s["frames"] == 22
    warning = [line for line in err.splitlines() if "damaged" in line]
    assert len(warning) == 1 and "2 frames lost" in warning[0]
    clean_pts = decoded(clip24)[0]
    assert decoded(out)[0] == [p for p in clean_pts if p not in lost_pts]  # the others keep their time


def test_strict_refuses_damage(damaged, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    code, _, err = run_cli(["run", damaged[0], "-o", out, *FAST, "--strict"], capsys)
    assert code == 2 and "damaged" in error_line(err)
    assert list(tmp_path.iterdir()) == [damaged[0]]  # no output, no work folder


def test_strict_accepts_a_clean_input(clip24, tmp_path, capsys):
    code, stdout, err = run_cli(["run", clip24, "-o", tmp_path / "o.mp4", *FAST, "--strict", "--json"], capsys)
    assert code == 0, err
    assert summary(stdout)["damaged_packets"] == 0 and summary(stdout)["frames_lost"] == 0


def test_no_decodable_frame_fails(clip24, tmp_path, capsys):
    path = tmp_path / "dead.mp4"
    _break_packets(clip24, path, list(range(24)))
    code, _, err = run_cli(["run", path, "-o", tmp_path / "out.mp4", *FAST], capsys)
    assert code == 2 and "no decodable video frames" in error_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dead.mp4"]


def test_undecodable_metadata_is_one_line(tmp_path, capsys):
    """A title that is not UTF-8 made av.open raise UnicodeDecodeError: exit 1 "internal error"."""
    clip = tmp_path / "titled.mp4"
    frames = synth_frames(4, 64, 48)
    write_clip(tmp_path / "plain.mp4", frames, fps=12)
    with av.open(str(tmp_path / "plain.mp4")) as i, av.open(str(clip), "w") as o:
        streams = {s.index: o.add_stream_from_template(s) for s in i.streams}
        o.metadata["title"] = "TITLE-TO-BREAK"
        for packet in i.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                o.mux(packet)
    clip.write_bytes(clip.read_bytes().replace(b"TITLE-TO-BREAK", b"\xff\xfe\xc3(TITLE-\x80\xff\xfe\xfd"))
    code, _, err = run_cli(["run", clip, "-o", tmp_path / "out.mp4", *FAST], capsys)
    assert code == 2 and "cannot read metadata of" in error_line(err)
    assert not (tmp_path / "out.mp4").exists()


def test_resume_past_lost_frames_equals_an_uninterrupted_render(clip24, tmp_path, capsys, monkeypatch):
    """Frames lost before the resume point: the seek (by packet) lands early, and the resumed render
    neither repeats nor misses a frame."""
    import vidstyle.io.atomic as atomic

    path = tmp_path / "damaged.mp4"
    _break_packets(clip24, path, [3, 5])
    args = [*FAST, "--segment-frames", "8", "--json"]
    code, _, err = run_cli(["run", path, "-o", tmp_path / "reference.mp4", *args], capsys)
    assert code == 0, err
    original = atomic.temp_path_for

    def full_disk_at_third_segment(target):
        tmp = original(target)
        if "segment_000000016." in target.name:
            tmp.symlink_to("/dev/full")
        return tmp

    out = tmp_path / "out.mp4"
    with monkeypatch.context() as m:
        m.setattr(atomic, "temp_path_for", full_disk_at_third_segment)
        code, _, err = run_cli(["run", path, "-o", out, *args], capsys)
    assert code == 2 and "16 finished frames are kept" in error_line(err)
    code, stdout, err = run_cli(["run", path, "-o", out, *args, "--resume"], capsys)
    assert code == 0, err
    assert summary(stdout)["resumed_frames"] == 16 and summary(stdout)["frames"] == 22
    (ref_pts, ref_frames), (pts, frames) = decoded(tmp_path / "reference.mp4"), decoded(out)
    assert pts == ref_pts and all(a.tobytes() == b.tobytes() for a, b in zip(frames, ref_frames))


def test_ray_refuses_a_damaged_input_before_starting_ray(damaged, tmp_path, capsys):
    """A Ray render's chunks are frame ranges that lost frames would shift: it refuses damage, says what
    to do instead, and leaves nothing behind (the damage is found by the cut pre-pass, before Ray)."""
    code, _, err = run_cli(["run", damaged[0], "-o", tmp_path / "out.mp4", *FAST, "--ray", "auto"], capsys)
    line = error_line(err)
    assert code == 2 and "damaged" in line and "without --ray" in line
    assert list(tmp_path.iterdir()) == [damaged[0]]
