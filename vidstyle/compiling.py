"""Compiled per-frame work: ahead-of-time kernel packages on the CPU (``torch.compile`` elsewhere), kept
in the user cache folder, a quiet fall back to eager execution where compiling is impossible (no C++
compiler, odd platform), and the decision whether a clip is long enough to repay building or loading
the kernels (:class:`KernelBuild`).

On the project's 2-core CPU the compiled CIN-26 network takes about a third of the eager time per
frame (``benchmarks/stylizers.py``); building its package takes ~24 s once per frame size (once for
every size where the kernels run on one thread: ``ANY_SIZE``), loading it ~0.1 s
(``benchmarks/first_frame.py``).
"""

from __future__ import annotations

import ctypes
import hashlib
import inspect
import logging
import os
import platform
import zipfile
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
# Inductor options of the ahead-of-time build. Freezing folds the weights into the graph as constants,
# which lets oneDNN pre-pack them for the convolutions: the CIN-26 network at 640x360 in bf16 on two
# threads ran in ~24.5 ms instead of ~28.5 (medians of 6 rounds, 2-core Intel Xeon), the same pixels.
AOT_OPTIONS = {"freezing": True}


class Compiled(Generic[P, R]):
    """``fn`` compiled for fixed shapes (one build per frame size, or one for every size on one thread:
    ``ANY_SIZE``); if compiling fails, one notice
    and ``fn`` itself from then on. Numerically the same as ``fn`` to float rounding (~1e-5).

    On the CPU the kernels are built ahead of time (:class:`AotKernels`): one package file per network,
    input shapes and precision, which a later process loads in milliseconds (``torch.compile``'s cache
    took ~5 s to load, and its build ~40 s against ~28 s). On other devices ``torch.compile`` builds
    them, called on the first call: importing its machinery (dynamo, inductor, sympy) adds ~150 MB to
    the process, which a render that ends up uncompiled does without.
    """

    def __init__(self, fn: Callable[P, R], what: str, module: torch.nn.Module) -> None:
        self.eager = fn
        self.what = what
        self.module = module  # whose weights ``fn`` uses: they go into an ahead-of-time package
        self._fn: Callable[P, R] | None = None  # torch.compile(fn) from the first call on (not on the CPU)
        self._packages: dict[tuple, Callable[..., R]] = {}  # loaded kernels by autocast dtype and input shapes
        self._digest: str | None = None  # network_digest, once needed
        self._failed = False

    @property
    def active(self) -> bool:
        """False once compiling has failed and ``fn`` runs eagerly."""
        return not self._failed

    def kernels(self, *args: torch.Tensor | None) -> AotKernels:
        """The ahead-of-time kernels a CPU call with ``args`` (under the current autocast) runs."""
        if self._digest is None:  # weights and code do not change during a run: hashed once
            self._digest = network_digest(self.eager, self.module)
        return AotKernels(self.what, self.eager, self.module, self._digest, args)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if self._failed:
            return self.eager(*args, **kwargs)
        if not kwargs and all(a is None or isinstance(a, torch.Tensor) and a.device.type == "cpu" for a in args):
            autocast = torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else None
            key = (autocast, *(None if a is None else (a.shape, a.dtype) for a in args))
            run = self._packages.get(key)
            if run is None:
                try:
                    run = self._packages[key] = self.kernels(*args).load()
                except Exception as exc:  # no C++ compiler, an op the exporter cannot trace: run eagerly
                    self._fail(exc)
                    return self.eager(*args, **kwargs)
            return run(*args)
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
            self._fail(exc)
            return self.eager(*args, **kwargs)

    def _fail(self, exc: Exception) -> None:
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        log.warning(f"could not compile the {self.what} ({first_line}); it runs uncompiled")
        self._failed = True


def network_digest(fn: Callable[..., object], module: torch.nn.Module) -> str:
    """A hash of what a package freezes: ``module``'s weights and buffers (names and values), and the
    source files of ``fn`` and of ``module``'s layers (so a vidstyle update that changes the network's
    code builds new kernels instead of loading the old ones)."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().float().contiguous().cpu().numpy().tobytes())
    sources = {inspect.getsourcefile(fn)} | {inspect.getsourcefile(type(m)) for m in module.modules()}
    for source in sorted(str(s) for s in sources if s):
        digest.update(Path(source).read_bytes())
    return digest.hexdigest()


def _machine_tag() -> str:
    """The CPU's instruction-set flags: kernels built for AVX-512 or AMX must never be loaded by a CPU
    without them (a shared home folder), where they would crash rather than raise."""
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        flags = platform.processor()
    return f"{platform.machine()} {flags}"


class AotKernels:
    """One network's CPU kernels for one set of input shapes and autocast precision, built ahead of
    time (AOTInductor) into a package file in the kernel cache, named by everything that decides its
    code: the network's weights and source (:func:`network_digest`), the shapes and dtypes, the autocast
    dtype, torch's thread count (built for one thread, the kernels stay on one), torch, the CPU and the
    build options (``AOT_OPTIONS``).

    ``fn(*args)`` is traced with ``module``'s weights; ``args`` are tensors or None (left out of the
    traced inputs). ``any_size``: kernels for any height and width of the first input (``ANY_SIZE``);
    None decides as a render does, on one thread only. Building takes ~24 s for a CIN-26 network at
    640x360 on the 2-core CPU; loading a built package ~0.1 s.
    """

    def __init__(self, what: str, fn: Callable[..., object], module: torch.nn.Module, network: str,
                 args: tuple[torch.Tensor | None, ...], *, any_size: bool | None = None) -> None:
        self.what, self.fn, self.module = what, fn, module
        self.present = [a is not None for a in args]
        self.examples = [a for a in args if a is not None]
        self.autocast = torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else None
        digest = hashlib.sha256(network.encode())
        shapes = [(tuple(a.shape), str(a.dtype)) for a in self.examples]
        # the generated code is parallelised for the threads torch has when it is built
        threads = torch.get_num_threads()
        if any_size is None:  # ``ANY_SIZE``: on one thread
            any_size = threads == 1
        self.any_size = any_size and bool(self.examples) and _within_any_size(self.examples[0])
        if self.any_size:
            shapes[0] = (tuple(self.examples[0].shape[:-2]), ANY_SIZE, shapes[0][1])
        digest.update(repr((shapes, self.present, str(self.autocast), threads, torch.__version__,
                            _machine_tag(), sorted(AOT_OPTIONS.items()))).encode())
        size = "x".join(str(s) for s in reversed(self.examples[0].shape[-2:])) if self.examples else "none"
        size = ANY_SIZE if self.any_size else size
        self.path = _package_folder() / f"{what.split()[0]}-{size}-{digest.hexdigest()[:16]}.pt2"

    def cached(self) -> bool:
        return self.path.is_file()

    def load(self) -> Callable[..., torch.Tensor]:
        """The kernels as a function of the same arguments as ``fn``; built first if not cached.

        Called through the package's model library (:class:`ModelLibrary`), which frees the GIL for
        the call, so a render can paint the next frame while this thread goes on; where the library
        cannot be called that way, through torch's package loader."""
        if not self.cached():
            self.build()
        try:
            call: Callable[[list[torch.Tensor]], torch.Tensor] = ModelLibrary(self.path)
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            log.debug(f"calling {self.path.name} through torch's loader: {exc}")
            # torch._inductor.aoti_load_package wraps it, but importing torch._inductor costs ~0.9 s.
            loader = torch._C._aoti.AOTIModelPackageLoader(str(self.path), "model", False, 1, -1)
            call = lambda inputs: loader.run(inputs)[0]  # noqa: E731
        present = self.present

        def run(*args: torch.Tensor | None) -> torch.Tensor:
            return call([a.contiguous() for a, keep in zip(args, present) if keep])

        return run

    def build(self) -> None:
        """Export ``fn`` with the autocast it runs under and compile it into the package (written
        under a temporary name, then renamed: a crash leaves no half package)."""
        from torch._inductor import aoti_compile_and_package

        logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)
        with torch.inference_mode(False), torch.no_grad():
            examples = [torch.zeros(a.shape, dtype=a.dtype) for a in self.examples]
            sizes = None
            if self.any_size:  # the first input's height and width: any multiple of 4 in range
                sides = [torch.export.Dim(side, min=ANY_SIDE[0] // 4, max=ANY_SIDE[1] // 4) for side in ("h4", "w4")]
                first = {examples[0].dim() - 2: 4 * sides[0], examples[0].dim() - 1: 4 * sides[1]}
                sizes = ((first, *[None] * (len(examples) - 1)),)  # for _Traced.forward's *tensors
            program = torch.export.export(_Traced(self.fn, self.module, self.present, self.autocast),
                                          tuple(examples), dynamic_shapes=sizes)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_name(f".{self.path.stem}.{os.getpid()}.partial.pt2")
            try:
                aoti_compile_and_package(program, package_path=str(partial), inductor_configs=dict(AOT_OPTIONS))
                os.replace(partial, self.path)
            finally:
                partial.unlink(missing_ok=True)


# On one thread (a render that paints ahead on two cores) the kernels are built for frames of any size:
# the first input's height and width are symbols, multiples of 4 within ANY_SIDE pixels. One build then
# serves every frame size. There they cost nothing: CIN-26 at 640x360 in bf16, one thread, 45.2 ms a
# frame either way, the same pixels (``benchmarks/any_size.py``, 2-core Intel Xeon, 2026-12-05). On two
# threads the fixed-size kernels stay: the any-size ones took 31.1 ms against 22.8.
ANY_SIZE = "anysize"
ANY_SIDE = (32, 8192)


def _within_any_size(image: torch.Tensor) -> bool:
    return image.dim() >= 2 and all(ANY_SIDE[0] <= s <= ANY_SIDE[1] and s % 4 == 0 for s in image.shape[-2:])


def serves_any_size(package: Path) -> bool:
    """Whether ``package`` (an :class:`AotKernels` path) holds kernels for frames of any size."""
    return package.name.split("-")[1:2] == [ANY_SIZE]


class ModelLibrary:
    """The model library inside an ahead-of-time package, called through its C interface with ctypes.

    torch's package loader keeps the GIL for the whole call (46 ms a 640x360 frame of CIN-26 on one
    thread), so no other Python thread can run meanwhile; ctypes releases it, which lets a render
    paint frame t+1 on one core while frame t's temporal step runs on the other. The same library,
    the same pixels. The library is unpacked once beside the package (``<package>.so``), and again
    when the package is newer (rebuilt after a cache was cleaned): a library left from an older file
    is never called. Raises OSError or ValueError where the package is not a single self-contained CPU
    library (then the loader serves).
    """

    def __init__(self, package: Path) -> None:
        library = package.with_suffix(".so")
        if not library.is_file() or library.stat().st_mtime < package.stat().st_mtime:
            _unpack_library(package, library)
        self._lib = ctypes.CDLL(str(library))
        self._lib.AOTInductorModelContainerRun.argtypes = [
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.c_size_t, ctypes.POINTER(ctypes.c_void_p),
            ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p]
        self._container = ctypes.c_void_p()
        _check(self._lib.AOTInductorModelContainerCreateWithDevice(
            ctypes.byref(self._container), ctypes.c_size_t(1), b"cpu", None), "create the model")
        outputs = ctypes.c_size_t()
        _check(self._lib.AOTInductorModelContainerGetNumOutputs(self._container, ctypes.byref(outputs)),
               "count the outputs")
        if outputs.value != 1:
            raise ValueError(f"{outputs.value} outputs, not 1")

    def __call__(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        """The network's output for ``inputs`` (contiguous CPU tensors of the traced shapes)."""
        # new handles to the inputs, which the call takes over; the output's handle becomes ours
        handles = [_capsule_pointer(h) for h in torch._C._aoti.unsafe_alloc_void_ptrs_from_tensors(inputs)]
        output = (ctypes.c_void_p * 1)()
        _check(self._lib.AOTInductorModelContainerRun(
            self._container, (ctypes.c_void_p * len(handles))(*handles), len(handles), output, 1, None, None),
            "run the model")
        return torch._C._aoti.alloc_tensors_by_stealing_from_void_ptrs([_pointer_capsule(output[0])])[0]

    def __del__(self) -> None:
        if getattr(self, "_container", None):
            self._lib.AOTInductorModelContainerDelete(self._container)


def _unpack_library(package: Path, library: Path) -> None:
    """Copy the package's one model library to ``library`` (written under a temporary name)."""
    with zipfile.ZipFile(package) as archive:
        names = [n for n in archive.namelist() if "/aotinductor/model/" in n]
        libraries = [n for n in names if n.endswith(".so")]
        extra = [n for n in names if not n.endswith((".so", ".cpp", ".json"))]  # e.g. weights kept apart
        if len(libraries) != 1 or extra:
            raise ValueError(f"not a single self-contained library: {libraries + extra}")
        partial = library.with_name(f".{library.stem}.{os.getpid()}.partial.so")
        try:
            partial.write_bytes(archive.read(libraries[0]))
            os.replace(partial, library)
        finally:
            partial.unlink(missing_ok=True)


def _check(code: int, what: str) -> None:
    if code != 0:
        raise OSError(f"the kernels' library could not {what} (error {code})")


_capsule_api = ctypes.pythonapi
_capsule_api.PyCapsule_GetPointer.restype = ctypes.c_void_p
_capsule_api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
_capsule_api.PyCapsule_New.restype = ctypes.py_object
_capsule_api.PyCapsule_New.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]


def _capsule_pointer(capsule: object) -> int:
    """The tensor handle inside one of torch's unnamed capsules."""
    return _capsule_api.PyCapsule_GetPointer(capsule, None)


def _pointer_capsule(pointer: int) -> object:
    """A tensor handle as the unnamed capsule torch's handle functions take."""
    return _capsule_api.PyCapsule_New(pointer, None, None)


class _Traced(torch.nn.Module):
    """``fn`` as a module for ``torch.export``: ``module`` registered (its weights become the package's
    constants), the None arguments put back, the autocast inside the traced graph."""

    def __init__(self, fn: Callable[..., object], module: torch.nn.Module, present: list[bool],
                 autocast: torch.dtype | None) -> None:
        super().__init__()
        self.fn, self.module, self.present, self.autocast = fn, module, present, autocast

    def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
        given = iter(tensors)
        args = [next(given) if keep else None for keep in self.present]
        with torch.autocast("cpu", dtype=self.autocast or torch.bfloat16, enabled=self.autocast is not None):
            return self.fn(*args)


def _package_folder() -> Path:
    """Inside the kernel cache (``TORCHINDUCTOR_CACHE_DIR``), so pointing it elsewhere starts afresh."""
    return Path(os.environ["TORCHINDUCTOR_CACHE_DIR"]) / "vidstyle-aot"


# What compiling costs and saves on the project's 2-core CPU (Intel Xeon with AMX, quiet, 2026-12-05,
# ``benchmarks/first_frame.py``): building the ahead-of-time kernels of the CIN-26 network for 640x360
# frames takes ~28 s (export, code generation, the C++ compiler), ~24 s since the build freezes the
# weights (AOT_OPTIONS); loading the built package ~0.1 s, and its first frame ~0.1 s more.
BUILD_SECONDS = 24.0
CACHED_LOAD_SECONDS = 0.3
# Time per 640x360 frame the compiled network saves (eager minus compiled, 2 threads, ``benchmarks/stylizers.py``
# on the same Intel Xeon; bf16 against the eager bf16 copy of the network: magenta 29.6 and cin26 49.8 ms
# in an interleaved A/B, johnson 183 ms, less what the channels-last copy saves: 2.2, 0.8 and 5.1 ms);
# it grows with the pixels. A network or precision not listed uses the smallest.
SAVED_MS_640X360 = {("magenta", "bf16"): 11.4, ("magenta", "fp32"): 17.8, ("cin26", "bf16"): 24.8,
                    ("cin26", "fp32"): 48.8, ("johnson", "bf16"): 118.0, ("johnson", "fp32"): 53.0}
_PIXELS_640X360 = 640 * 360


@dataclass(frozen=True)
class KernelBuild:
    """The kernels of one network (``what``: magenta, cin26, johnson) for one processing size
    (``width`` x ``height`` pixels) and arithmetic (``precision``: fp32, bf16, fp16) on ``device``
    (a torch device type), kept in ``package`` (the CPU's ahead-of-time package; None elsewhere):
    whether they are built, and whether building or loading them pays for a clip."""

    what: str
    width: int
    height: int
    precision: str
    device: str = "cpu"
    package: Path | None = None

    def cached(self) -> bool:
        """True once the package is built (in the current kernel cache)."""
        return self.package is not None and self.package.is_file()

    def pays(self, frames: int | None) -> tuple[bool, str]:
        """Whether building (or loading) the kernels takes less time than they save over ``frames``
        frames (None: unknown, as for a camera: compile), and a sentence saying why for the log.

        Only measured on the CPU; other devices compile as asked.
        """
        size = f"{self.width}x{self.height}"
        if self.device != "cpu" or frames is None:
            return True, f"compiling the network for {size} frames (once per size; later runs reuse the cache)"
        cached = self.cached()
        once = "once for every size" if self.package is not None and serves_any_size(self.package) else "once per size"
        cost = CACHED_LOAD_SECONDS if cached else BUILD_SECONDS
        per_frame = SAVED_MS_640X360.get((self.what, self.precision), min(SAVED_MS_640X360.values()))
        saved = frames * per_frame / 1000 * self.width * self.height / _PIXELS_640X360
        if saved > cost:
            return True, (f"compiling the network for {size} frames: ~{_seconds(cost)} to "
                          f"{'load its kernels' if cached else f'build its kernels ({once})'}, "
                          f"~{saved:.0f} s saved over {frames} frames")
        return False, (f"running the network uncompiled: {frames} frames at {size} would save ~{saved:.1f} s, "
                       f"less than the ~{_seconds(cost)} {'loading' if cached else 'building'} its kernels takes")


def _seconds(seconds: float) -> str:
    """A duration for the log: tenths under a second ("0.3 s"), whole seconds above."""
    return f"{seconds:.1f} s" if seconds < 1 else f"{seconds:.0f} s"
