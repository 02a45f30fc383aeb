"""``torch.compile`` for the per-frame work, with the kernel cache in the user cache folder and a
quiet fall back to eager execution where compiling is impossible (no C++ compiler, odd platform).

On the project's 2-core CPU, compiling halves the time per frame of the feed-forward networks
(``benchmarks/stylizers.py``) and speeds up the temporal filter's element-wise work; building the
kernels takes tens of seconds the first time for a frame size and a few seconds once cached.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

from vidstyle.config import user_cache_dir

# Inductor reads this once, when it first needs its cache; it must be set before that. The default
# (a folder in /tmp) is lost on reboot, and with it the minute of compiling.
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(user_cache_dir() / "inductor"))

import torch  # noqa: E402
from torch._dynamo.exc import TorchDynamoException  # noqa: E402

log = logging.getLogger("vidstyle")

P = ParamSpec("P")
R = TypeVar("R")


class Compiled(Generic[P, R]):
    """``fn`` compiled for fixed shapes (one build per frame size); if compiling fails, one notice
    and ``fn`` itself from then on. Numerically the same as ``fn`` to float rounding (~1e-5)."""

    def __init__(self, fn: Callable[P, R], what: str) -> None:
        # Inductor warns on every build of a machine without CUDA that it found none: not news here.
        logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
        self.eager = fn
        self.what = what
        self._fn: Callable[P, R] = torch.compile(fn, dynamic=False)

    @property
    def active(self) -> bool:
        """False once compiling has failed and ``fn`` runs eagerly."""
        return self._fn is not self.eager

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return self._fn(*args, **kwargs)
        except TorchDynamoException as exc:
            if not self.active:
                raise
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
            log.warning(f"could not compile the {self.what} ({first_line}); it runs uncompiled")
            self._fn = self.eager
            return self.eager(*args, **kwargs)
