"""What every benchmark shares: where data and results live, the machine's name, tables and JSON."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("VIDSTYLE_SHARED_DATA", REPO / ".." / "shared" / "data"))
RESULTS = REPO / "benchmarks" / "results"


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (or what platform knows), with the core count."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)"


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return cpu_name()


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best_ms(fn: Callable[[], object], device: torch.device, *, warmup: int = 2, repeats: int = 5) -> float:
    """Fastest wall time of ``repeats`` calls after ``warmup``, in ms (the least disturbed by other load)."""
    for _ in range(warmup):
        fn()
    synchronize(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def markdown_table(rows: Sequence[dict], columns: Sequence[str]) -> str:
    def cell(v: object) -> str:
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def write_results(name: str, rows: Sequence[dict], columns: Sequence[str], **meta: object) -> Path:
    """Print the table and write ``benchmarks/results/<name>.json`` (rows plus meta: device, date)."""
    table = markdown_table(rows, columns)
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"benchmark": name, "date": time.strftime("%Y-%m-%d"), "torch_threads": torch.get_num_threads(),
            **meta, "rows": list(rows)}
    path.write_text(json.dumps(data, indent=1))
    (RESULTS / f"{name}.md").write_text(table + "\n")
    return path
