"""Rendering on a Ray cluster: the input cut into chunks (:mod:`.plan`), each rendered by a Ray task
into the shared work folder (:mod:`.worker`), then assembled by the driver (:mod:`.driver`).

Only :mod:`.driver` imports Ray, and only when a distributed render starts.
"""
