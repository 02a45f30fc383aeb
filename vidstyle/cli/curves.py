"""``vidstyle curves``: the per-frame values a render would use, as JSON, CSV or a plot, before rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vidstyle.cli.app import setup_logging
from vidstyle.cli.options import (
    AudioReact, Bpm, End, Fps, Interp, Json, Matte, MaxFrames, Quiet, ReactRange, ReactThreshold, ReactAttack,
    ReactRelease, ReactSmooth, Start, StrengthSchedule, Style, StylePerShot, StyleScaleSchedule,
    TemporalWeightSchedule, Verbose, control_spec, emit_json, DEFAULTS,
)
from vidstyle.errors import UserInputError
from vidstyle.io.reader import parse_time

R = DEFAULTS["run"]


def curves_command(
    input: Annotated[Path, typer.Argument(help="Video file, image pattern or folder of numbered images.",
                                          show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="curves.json, curves.csv or curves.png.")],
    strength: StrengthSchedule = str(R["strength"]),
    temporal_weight: TemporalWeightSchedule = None,
    style_scale: StyleScaleSchedule = "1.0",
    style: Style = None,
    style_per_shot: StylePerShot = None,
    interp: Interp = "linear",
    audio_react: AudioReact = None,
    react_range: ReactRange = None,
    react_threshold: ReactThreshold = 0.0,
    react_attack: ReactAttack = 0.0,
    react_release: ReactRelease = 0.2,
    react_smooth: ReactSmooth = 0.0,
    bpm: Bpm = None,
    matte: Matte = None,
    fps: Fps = R["fps"],
    start: Start = None,
    end: End = None,
    max_frames: MaxFrames = None,
    quiet: Quiet = False,
    verbose: Verbose = False,
    json: Json = False,
) -> None:
    """Preview schedules and audio reactions: vidstyle curves clip.mp4 --audio-react strength:onset -o c.png"""
    from vidstyle.audio.decode import decode_audio
    from vidstyle.schedule.export import write_curves
    from vidstyle.schedule.timeline import probe_timeline
    from vidstyle.schedule.track import build_track

    setup_logging(quiet)
    spec = control_spec(strength, temporal_weight, style_scale, style, style_per_shot, interp, audio_react,
                        react_range, react_threshold, react_attack, react_release, react_smooth, bpm, matte)
    if output.resolve() == input.resolve():
        raise UserInputError(f"the output {output} is the input")
    timeline = probe_timeline(input, fps=fps, start=parse_time(start), end=parse_time(end), max_frames=max_frames)
    track = build_track(spec, timeline)
    waveform = None
    if output.suffix.lower() == ".png" and timeline.has_audio:
        audio = decode_audio(input)
        first = max(0, int(round((timeline.origin - audio.start) * audio.rate)))
        last = int(round((timeline.source_times[-1] + 1.0 / timeline.fps - audio.start) * audio.rate))
        waveform = audio.samples[first:max(first + 1, last)]
    write_curves(track, output, waveform)
    if json:
        emit_json({"output": str(output), "fps": track.fps, "frames": track.frames, "curves": list(track.curves),
                   "tempo": track.tempo, **spec.fingerprint()})
    elif not quiet:
        typer.echo(f"wrote {output}: {len(track.curves)} curves over {track.frames} frames", err=True)
