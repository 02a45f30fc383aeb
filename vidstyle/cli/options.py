"""Options several commands share, declared once (typer ``Annotated`` aliases)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vidstyle.config import load_defaults

if TYPE_CHECKING:
    from vidstyle.schedule.track import ControlSpec

DEFAULTS = load_defaults()

Style = Annotated[str | None, typer.Option(
    "--style", "-s", help="A preset name (`vidstyle styles list`), an image file, or a blend "
    "NAME:W,NAME:W of presets of one family.")]
Method = Annotated[str, typer.Option(
    help="feedforward: a pretrained network, real time on a GPU. optimize: Gatys/Ruder optimisation, "
    "slow, highest quality.")]
Device = Annotated[str, typer.Option(help="auto picks CUDA, then MPS, then the CPU.")]
MaxSide = Annotated[int | None, typer.Option(
    "--max-side", help="Processing size (long side) in pixels; the output keeps the input size. "
    "Default 640 on CPU, 1280 on CUDA.")]
Strength = Annotated[float, typer.Option(help="0..1: blend of the input (0) and the painting (1).")]
Iterations = Annotated[int | None, typer.Option(help="Optimisation steps per frame (--method optimize).")]
Model = Annotated[Path | None, typer.Option(
    help="A Johnson-style per-style network (pytorch/examples fast_neural_style .pth); replaces --style.")]
PreserveColor = Annotated[bool, typer.Option("--preserve-color", help="Keep the input's colours; "
                                             "transfer only the painting's strokes (luminance).")]
StyleScale = Annotated[float, typer.Option(help="Bigger than 1 paints bigger strokes.")]
Precision = Annotated[str, typer.Option(
    help="Arithmetic of the feed-forward network: auto (bf16 on CPUs with native bf16, else fp32), "
    "fp32, bf16 or fp16 (GPU).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or notices on stderr.")]
Verbose = Annotated[bool, typer.Option("--verbose", help="Show tracebacks of errors.")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON summary as the last line of stdout.")]
Output = Annotated[Path, typer.Option("--output", "-o", help="Output file (.mp4 .mov .mkv) or image "
                                      "pattern (out/frame_%05d.png).")]


def emit_json(data: object) -> None:
    """The one JSON object, as the last line of stdout."""
    print(json.dumps(data, separators=(", ", ": ")), flush=True)


# Schedules, audio, VFX (CONTRACT.md): shared by `run` and `curves`, gathered by control_spec().
SCHEDULE = ' or a schedule "K:(V), K:(V)" (keys: frames 48, seconds 2.5s, beats 8b)'
StrengthSchedule = Annotated[str, typer.Option(
    "--strength", help="0..1: blend of the input (0) and the painting (1)" + SCHEDULE + ".")]
TemporalWeightSchedule = Annotated[str | None, typer.Option(
    "--temporal-weight", help="How strongly the previous frame constrains the next (default 20 feed-forward, "
    "30 optimize; 0 = per frame)" + SCHEDULE + ".")]
StyleScaleSchedule = Annotated[str, typer.Option(
    "--style-scale", help="Bigger than 1 paints bigger strokes" + SCHEDULE + ".")]
StylePerShot = Annotated[str | None, typer.Option(
    "--style-per-shot", help="A,B,C: presets given to the shots (found at scene cuts) in turn.")]
Interp = Annotated[str, typer.Option(help="Between schedule keys: linear, cubic (eased for styles) or step.")]
AudioReact = Annotated[list[str] | None, typer.Option(
    "--audio-react", help="TARGET:FEATURE[:GAIN], repeatable. TARGET strength, style-scale, temporal-weight or "
    "blend (the second preset's weight in --style A,B); FEATURE rms, onset, beat, low, mid or high.")]
ReactRange = Annotated[list[str] | None, typer.Option(
    "--react-range", help="LO,HI: the values at silence and at the loudest hit; one for all --audio-react "
    "or one each (default strength 0,1; style-scale 0.5,2; temporal-weight 20,2; blend 0,1).")]
ReactThreshold = Annotated[float, typer.Option(help="Ignore the feature below this level (0..1).")]
ReactAttack = Annotated[float, typer.Option(help="Seconds the value rises before a hit (offline: no lag).")]
ReactRelease = Annotated[float, typer.Option(help="Seconds the value takes to fall after a hit.")]
ReactSmooth = Annotated[float, typer.Option(help="Zero-phase smoothing time constant in seconds.")]
Bpm = Annotated[float | None, typer.Option(help="Tempo for beat keys (8b); default: tracked in the audio.")]
Matte = Annotated[str | None, typer.Option(
    help="PATTERN of matte images or 'alpha': paint only inside the matte; outside stays the input.")]
Fps = Annotated[float, typer.Option(help="Frame rate of image-sequence input.")]
Start = Annotated[str | None, typer.Option(help="Start time: seconds or HH:MM:SS.mmm.")]
End = Annotated[str | None, typer.Option(help="End time: seconds or HH:MM:SS.mmm.")]
MaxFrames = Annotated[int | None, typer.Option(help="Stop after this many frames (trial runs).")]


def control_spec(strength: str, temporal_weight: str | None, style_scale: str, style: str | None,
                 style_per_shot: str | None, interp: str, audio_react: list[str] | None,
                 react_range: list[str] | None, react_threshold: float, react_attack: float,
                 react_release: float, react_smooth: float, bpm: float | None, matte: str | None) -> ControlSpec:
    """The validated :class:`~vidstyle.schedule.track.ControlSpec` of these options (bad ones exit 2)."""
    from vidstyle.audio.react import Envelope
    from vidstyle.schedule.track import ControlSpec

    return ControlSpec(strength=strength, temporal_weight=temporal_weight, style_scale=style_scale, style=style,
                       style_per_shot=style_per_shot, interp=interp, audio_react=tuple(audio_react or ()),
                       react_range=tuple(react_range or ()),
                       envelope=Envelope(react_threshold, react_attack, react_release, react_smooth),
                       bpm=bpm, matte=matte)
