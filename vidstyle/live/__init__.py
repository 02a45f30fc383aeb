"""``vidstyle webcam``: newest frame in, stylized frame out, a few times a second.

capture thread (:mod:`vidstyle.io.camera`) > one-slot mailbox > :class:`~vidstyle.processor.FrameProcessor`
(the same stylizers and temporal filters as ``vidstyle run``) > window, recording, virtual camera.

- :mod:`~vidstyle.live.stats`: frames shown, frame rate and latency (the ``--json`` summary);
- :mod:`~vidstyle.live.adaptive`: the processing size that holds ``--target-fps``;
- :mod:`~vidstyle.live.controls`: what the keys do, through the processor's control API;
- :mod:`~vidstyle.live.window`: the OpenCV window (or none) and whether one can open here;
- :mod:`~vidstyle.live.outputs`: recording (the render's encoder) and the virtual camera;
- :mod:`~vidstyle.live.loop`: the loop itself, :func:`~vidstyle.live.loop.run_live`;
- :mod:`~vidstyle.live.session`: a whole session from settings, :func:`~vidstyle.live.session.start_webcam`.
"""
