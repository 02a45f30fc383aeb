"""OpenMP's spin-wait, bounded before torch loads.

torch's CPU kernels run on libgomp, whose threads keep spinning for a while after each parallel region
in case another follows (``GOMP_SPINCOUNT``, 300,000 turns by default). Alone on the machine that costs
only CPU time nobody wanted; beside another busy process (a second render, a Ray worker, any program)
the spinning threads hold the cores the others need, and every parallel region then waits for a thread
that lost its core. Measured on the 2-core Intel Xeon (``benchmarks/concurrent.py``, 2026-12-05): two
renders of the bundled sample at once took 89.6 s with the default and 23.0 s with a spin count of
10,000 (one alone: 9.6-9.8 s), while a render alone keeps its speed with 8-11% less CPU time.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

SPIN_COUNT_VARIABLE = "GOMP_SPINCOUNT"
SPIN_COUNT = "10000"


def bound_spin_wait(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set ``GOMP_SPINCOUNT`` to :data:`SPIN_COUNT` unless the user set it or ``OMP_WAIT_POLICY``.
    libgomp reads it once, when torch is first imported: call this before, as the command line does.
    Processes started afterwards (a local Ray cluster's workers) inherit it."""
    if SPIN_COUNT_VARIABLE not in environ and "OMP_WAIT_POLICY" not in environ:
        environ[SPIN_COUNT_VARIABLE] = SPIN_COUNT
