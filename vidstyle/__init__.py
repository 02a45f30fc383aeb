"""vidstyle: turn a video into a painting that moves without flickering.

The command line (``vidstyle ...``) is a thin layer over this package:

>>> from vidstyle.pipeline import RenderSettings, render
>>> from vidstyle.stylize.registry import build_stylizer
"""

__version__ = "0.1.0"
