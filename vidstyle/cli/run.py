"""``vidstyle run``: stylize a video or an image sequence, temporally consistent, resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vidstyle.cli.logs import setup_logging
from vidstyle.cli.options import (
    DEFAULTS, Device, End, Fps, Init, Iterations, Json, MaxFrames, MaxSide, Method, Model, Output, Precision,
    PreserveColor, Quiet, Start, Style, Verbose, bounded, emit_json, with_controls,
)
from vidstyle.cli.progress import frame_progress
from vidstyle.distributed import DEFAULT_CHUNK_FRAMES, DEFAULT_WARMUP_FRAMES
from vidstyle.schedule.spec import ControlSpec

R = DEFAULTS["run"]


@with_controls
def run_command(
    input: Annotated[Path, typer.Argument(help="Video file, image pattern (shot/frame_%04d.png) or folder "
                                          "of numbered images.", show_default=False)],
    output: Output,
    style: Style = None,
    model: Model = None,
    method: Method = R["method"],
    no_temporal: Annotated[bool, typer.Option("--no-temporal", help="Stylize each frame on its own "
                                              "(flickers; the baseline).")] = False,
    long_term: Annotated[bool, typer.Option("--long-term", help="Also anchor each frame to frames t-2 and "
                                            "t-4 where t-1 hid the pixel (Ruder et al.); about a fifth slower.")]
    = False,
    flow: Annotated[str, typer.Option(help="auto, dis, farneback or raft (optical flow on the input).")] = R["flow"],
    flow_scale: Annotated[float, typer.Option(help="Compute DIS/Farneback flow at this fraction of the "
                                              "processing size (0..1].", callback=bounded(high=1, above=0))] = 1.0,
    raft_weights: Annotated[Path | None, typer.Option(help="A local RAFT state dict (torchvision).")] = None,
    device: Device = "auto",
    max_side: MaxSide = None,
    keep_processing_size: Annotated[bool, typer.Option("--keep-processing-size",
                                                       help="Write at the processing size.")] = False,
    iterations: Iterations = None,
    init: Init = None,
    preserve_color: PreserveColor = False,
    compile: Annotated[bool, typer.Option("--compile/--no-compile", help="Compile the feed-forward network "
                                          "where the clip repays it: 2-3.5x faster per frame on a CPU, after "
                                          "a build per frame size (~25 s; one for every size on a 2- or "
                                          "3-core CPU), kept in the cache and loaded in a tenth of a "
                                          "second.")] = R["compile"],
    build_kernels: Annotated[bool, typer.Option("--build-kernels", help="Compile now even where this clip "
                                                "alone does not repay the build: later runs at this frame "
                                                "size (on a 2- or 3-core CPU, at any size) load the kernels "
                                                "(~0.1 s) and compile whenever that pays.")] = False,
    precision: Precision = "auto",
    fps: Fps = R["fps"],
    start: Start = None,
    end: End = None,
    max_frames: MaxFrames = None,
    codec: Annotated[str, typer.Option(help="h264, hevc, prores or ffv1.")] = R["codec"],
    crf: Annotated[int, typer.Option(help="H.264/HEVC quality: lower is better (0..51).",
                                    callback=bounded(0, 51))] = R["crf"],
    preset: Annotated[str, typer.Option(help="x264 speed preset.")] = R["preset"],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted render.")] = False,
    work_dir: Annotated[Path | None, typer.Option(help="Where finished segments are kept (default: "
                                                  "beside the output).")] = None,
    segment_frames: Annotated[int, typer.Option(help="Frames per resumable segment.",
                                               callback=bounded(1))] = R["segment_frames"],
    start_number: Annotated[int | None, typer.Option(help="Number of the first frame of an image-sequence "
                                                     "output (default: the input's own numbers, else 1).")]
    = None,
    write_confidence: Annotated[bool, typer.Option("--write-confidence", help="Also write the temporal filter's "
                                                   "mask as a 16-bit matte sequence (out/confidence/…png, or "
                                                   "CLIP_confidence/%05d.png beside a video): 1 where a frame "
                                                   "was held to the previous one.")] = False,
    ray: Annotated[str | None, typer.Option("--ray", metavar="[auto|ADDRESS]",
                                            help="Render chunks as Ray tasks: on the cluster at ADDRESS, or "
                                            "(auto) the running one, else a local one.")] = None,
    chunk_frames: Annotated[int, typer.Option(help="With --ray: frames per chunk (chunks also start at "
                                              "scene cuts).", callback=bounded(1))] = DEFAULT_CHUNK_FRAMES,
    warmup_frames: Annotated[int, typer.Option(help="With --ray: frames painted before each chunk and "
                                               "thrown away, then as many dissolved from the chunk before "
                                               "into it, so the seam does not show (0: cold chunks).",
                                               callback=bounded(0))] = DEFAULT_WARMUP_FRAMES,
    strict: Annotated[bool, typer.Option("--strict", help="Refuse a damaged input (by default, like ffmpeg, "
                                         "damaged packets are skipped with a warning).")] = False,
    quiet: Quiet = False,
    verbose: Verbose = False,
    json: Json = False,
    *,
    controls: ControlSpec,
) -> None:
    """Stylize a video: vidstyle run in.mp4 -o out.mp4 --style starry_night

    The audio is copied untouched; the output appears only when it is complete. An interrupted
    render continues with --resume.
    """
    from vidstyle.io.writer import EncodeSettings
    from vidstyle.job import ProcessorSettings, RenderSettings, render_summary, run_job
    from vidstyle.stylize.registry import StyleRequest

    setup_logging(quiet)
    style_scale = controls.static_number("style-scale")
    request = StyleRequest(style=controls.network_style(), method=method, model=model, iterations=iterations,
                           preserve_color=preserve_color, style_scale=1.0 if style_scale is None else style_scale,
                           init=init)
    strength = controls.static_number("strength")
    processing = ProcessorSettings(style=request, device=device, flow=flow, flow_scale=flow_scale,
                                   raft_weights=raft_weights, temporal=not no_temporal,
                                   temporal_weight=controls.static_number("temporal-weight"), long_term=long_term,
                                   max_side=max_side, strength=1.0 if strength is None else strength,
                                   keep_processing_size=keep_processing_size, compile=compile,
                                   precision=precision, build_kernels=build_kernels)
    settings = RenderSettings(input=input, output=output, processing=processing,
                              encode=EncodeSettings(codec=codec, crf=crf, preset=preset), fps=fps, start=start,
                              end=end, max_frames=max_frames, overwrite=overwrite, resume=resume,
                              work_dir=work_dir, segment_frames=segment_frames, controls=controls,
                              start_number=start_number, write_confidence=write_confidence,
                              strict=strict)
    with frame_progress("painting", quiet) as progress:
        if ray is None:
            summary = run_job(settings, progress).summary(settings)
        else:
            from vidstyle.distributed.driver import render_on_ray

            done = render_on_ray(settings, ray, chunk_frames=chunk_frames, warmup=warmup_frames, progress=progress)
            summary = render_summary(settings, done.result, done.processor) | {
                "chunks": done.chunks, "chunks_rendered": done.chunks_rendered, "workers": done.workers,
                "damaged_packets": 0, "frames_lost": 0}  # a Ray render refuses damaged input
    summary["first_frame_seconds"] = progress.first_frame_seconds
    if json:
        emit_json(summary)
    elif not quiet:
        typer.echo(f"wrote {output}: {summary['frames']} frames at {summary['fps']:.1f} fps "
                   f"({summary['device']} {summary['precision']}{', compiled' if summary['compiled'] else ''}, "
                   f"flow {summary['flow']})", err=True)
