"""Rendering on a Ray cluster: the input cut into chunks (:mod:`.plan`), each rendered by a Ray task
into the shared work folder (:mod:`.worker`), then assembled by the driver (:mod:`.driver`).

Only :mod:`.driver` imports Ray, and only when a distributed render starts.
"""

DEFAULT_CHUNK_FRAMES = 240
# warm-up frames before a chunk, and the length of its dissolve; measured: seams as a local render's
# segment boundaries (README, benchmarks/results/ray.md)
DEFAULT_WARMUP_FRAMES = 24
