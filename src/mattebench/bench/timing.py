"""How the benchmark measures: latency, peak memory, MACs and sizes. Imports torch only, so
`benchmarks/gpu.py` reuses it on a bare CUDA machine (no Hydra, Lightning or kornia there)."""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

SIZES = {"512x512": (512, 512), "1920x1080": (1080, 1920), "3840x2160": (2160, 3840)}
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def parse_size(text: str) -> tuple[int, int]:
    """`WxH` -> (H, W)."""
    if text in SIZES:
        return SIZES[text]
    try:
        width, height = (int(n) for n in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size {text!r} is not WIDTHxHEIGHT, e.g. 1920x1080"
        ) from None
    return height, width


def count_macs(fn: Callable[[], Any]) -> float | None:
    """GMACs of one call of `fn` (FlopCounterMode counts FLOPs = 2 x MACs of torch operators);
    None when it runs no counted torch operator (e.g. a NumPy solver)."""
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        fn()
    flops = counter.get_total_flops()
    return flops / 2 / 1e9 if flops else None


class PeakMemory:
    """CUDA: max_memory_allocated; CPU: the process RSS, sampled in a thread (MiB)."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.peak = device, 0.0
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            self.peak = torch.cuda.max_memory_allocated(self.device) / 2**20
        else:
            self._stop.set()
            self._thread.join()

    def _sample(self) -> None:
        page = 4096
        while not self._stop.wait(0.005):
            with open("/proc/self/statm") as statm:
                self.peak = max(self.peak, int(statm.read().split()[1]) * page / 2**20)


def time_runs(fn: Callable[[], Any], device: torch.device, warmup: int, reps: int) -> float:
    """Median milliseconds of `reps` calls after `warmup` (compilation happens there)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize(device)
            times.append(start.elapsed_time(end))
        else:
            start_s = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start_s) * 1e3)
    return statistics.median(times)
