"""The render pipeline: typed stages (:mod:`.stages`), one frame range (:mod:`.segment`), segments into
the work folder and the output (:mod:`.sink`), and a whole render as a loop over ranges (:mod:`.render`)."""

from vidstyle.pipeline.render import ProgressCallback, RenderResult, make_sink, render
from vidstyle.pipeline.segment import render_segment
from vidstyle.pipeline.stages import FrameMessage

__all__ = ["FrameMessage", "ProgressCallback", "RenderResult", "make_sink", "render", "render_segment"]
