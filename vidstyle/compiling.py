"""``torch.compile`` for the per-frame work, with the kernel cache in the user cache folder, a quiet
fall back to eager execution where compiling is impossible (no C++ compiler, odd platform), and the
decision whether a clip is long enough to repay building or loading the kernels (:class:`KernelBuild`).

On the project's 2-core CPU, compiling takes a third to a half off the time per frame of the
feed-forward networks (``benchmarks/stylizers.py``); building the kernels takes tens of seconds the
first time for a frame size and a few seconds once cached (``benchmarks/first_frame.py``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, ParamSpec, TypeVar

from vidstyle.config import user_cache_dir

# Inductor reads this once, when it first needs its cache; it must be set before that. The default
# (a folder in /tmp) is lost on reboot, and with it the minute of compiling.
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(user_cache_dir() / "inductor"))

import torch  # noqa: E402

log = logging.getLogger("vidstyle")

P = ParamSpec("P")
R = TypeVar("R")


class Compiled(Generic[P, R]):
    """``fn`` compiled for fixed shapes (one build per frame size); if compiling fails, one notice
    and ``fn`` itself from then on. Numerically the same as ``fn`` to float rounding (~1e-5).

    ``torch.compile`` is called on the first call, not here: importing its machinery (dynamo, inductor,
    sympy) adds ~150 MB to the process, which a render that ends up uncompiled does without.
    """

    def __init__(self, fn: Callable[P, R], what: str) -> None:
        self.eager = fn
        self.what = what
        self._fn: Callable[P, R] | None = None  # torch.compile(fn) from the first call on
        self._failed = False

    @property
    def active(self) -> bool:
        """False once compiling has failed and ``fn`` runs eagerly."""
        return not self._failed

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._failed:
            return self.eager(*args, **kwargs)
        if self._fn is None:
            # Inductor warns on every build of a machine without CUDA that it found none: not news here.
            logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
            self._fn = torch.compile(self.eager, dynamic=False)
        try:
            return self._fn(*args, **kwargs)
        except Exception as exc:
            from torch._dynamo.exc import TorchDynamoException

            if not isinstance(exc, TorchDynamoException):
                raise
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
            log.warning(f"could not compile the {self.what} ({first_line}); it runs uncompiled")
            self._failed = True
            return self.eager(*args, **kwargs)


# What compiling costs and saves on the project's 2-core CPU (AMD EPYC, AVX512-BF16). Building the
# kernels for a new frame size: ~40 s; loading them from the cache: ~4 s (a 1-frame render took 10.5 s
# compiled against 6.6 s uncompiled, the cache warm); ``benchmarks/first_frame.py`` measures both.
BUILD_SECONDS = 40.0
CACHED_LOAD_SECONDS = 4.0
# Time per 640x360 frame the compiled network saves (eager minus compiled, benchmarks/stylizers.py);
# it grows with the pixels. A network or precision not listed uses the smallest saving (Magenta bf16).
SAVED_MS_640X360 = {("magenta", "bf16"): 17.6, ("magenta", "fp32"): 38.0, ("cin26", "bf16"): 40.8,
                    ("cin26", "fp32"): 88.9, ("johnson", "bf16"): 140.0, ("johnson", "fp32"): 166.0}
_PIXELS_640X360 = 640 * 360


def _built_list() -> Path:
    """The sizes vidstyle has built kernels for, one key a line, kept inside the kernel cache it describes
    (so clearing the cache, or pointing ``TORCHINDUCTOR_CACHE_DIR`` elsewhere, forgets them too)."""
    return Path(os.environ["TORCHINDUCTOR_CACHE_DIR"]) / "vidstyle-built.txt"


@dataclass(frozen=True)
class KernelBuild:
    """The kernels of one network (``what``: magenta, cin26, johnson) for one processing size
    (``width`` x ``height`` pixels) and arithmetic (``precision``: fp32, bf16, fp16) on ``device``
    (a torch device type): whether they are cached, and whether compiling them pays for a clip."""

    what: str
    width: int
    height: int
    precision: str
    device: str = "cpu"

    @property
    def key(self) -> str:
        return f"{self.what} {self.width}x{self.height} {self.precision} {self.device} torch {torch.__version__}"

    def cached(self) -> bool:
        """True once :meth:`remember` recorded these kernels in the current kernel cache."""
        path = _built_list()
        return path.is_file() and self.key in path.read_text().splitlines()

    def remember(self) -> None:
        """Record that the kernel cache now holds these kernels (written whole, then renamed)."""
        if self.cached():
            return
        path = _built_list()
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = path.read_text().splitlines() if path.is_file() else []
        tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
        tmp.write_text("\n".join([*lines, self.key]) + "\n")
        os.replace(tmp, path)

    def pays(self, frames: int | None) -> tuple[bool, str]:
        """Whether building (or loading) the kernels takes less time than they save over ``frames``
        frames (None: unknown, as for a camera: compile), and a sentence saying why for the log.

        Only measured on the CPU; other devices compile as asked.
        """
        size = f"{self.width}x{self.height}"
        if self.device != "cpu" or frames is None:
            return True, f"compiling the network for {size} frames (once per size; later runs reuse the cache)"
        cached = self.cached()
        cost = CACHED_LOAD_SECONDS if cached else BUILD_SECONDS
        per_frame = SAVED_MS_640X360.get((self.what, self.precision), min(SAVED_MS_640X360.values()))
        saved = frames * per_frame / 1000 * self.width * self.height / _PIXELS_640X360
        if saved > cost:
            return True, (f"compiling the network for {size} frames: ~{cost:.0f} s to "
                          f"{'load its kernels' if cached else 'build its kernels (once per size)'}, "
                          f"~{saved:.0f} s saved over {frames} frames")
        return False, (f"running the network uncompiled: {frames} frames at {size} would save ~{saved:.1f} s, "
                       f"less than the ~{cost:.0f} s {'loading' if cached else 'building'} its kernels takes")
