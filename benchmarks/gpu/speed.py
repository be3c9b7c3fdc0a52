"""Parts 1 and 2 (and 7): speed of the bare networks, eager, as CUDA graphs and compiled;
host syncs of one BGMv2 forward."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import torch

from benchmarks.gpu.core import Run, Variant, describe, release, variants
from mattebench.bench.timing import DTYPES, SIZES, PeakMemory, parse_size, time_runs

# --- 1. speed ---------------------------------------------------------------------------------


def graphed(fn: Callable[[], Any]) -> Callable[[], Any]:
    """`fn` captured once as a CUDA graph (after warm-up on a side stream); returns its replay.
    Capture fails on any host sync or data-dependent shape, which is what it shows."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return graph.replay


def speed_row(
    run: Run, variant: Variant, size: str, dtype: str, *, channels_last: bool = False,
    mode: str = "eager", static: bool = True, batch: int = 1,
) -> dict:  # fmt: skip
    """One timed setting: mode "eager", "graph", "compile" or "compile+graph"."""
    row: dict[str, Any] = {"method": variant.name, "size": size, "batch": batch, "dtype": dtype,
                           "channels_last": channels_last, "mode": mode}  # fmt: skip
    if variant.name.startswith("bgmv2"):
        row["patches"] = "static" if static else "nonzero"
    height, width = SIZES.get(size) or parse_size(size)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    torch.manual_seed(0)
    net = variant.build().eval()
    if hasattr(net, "refiner"):
        net.refiner.static_patches = static
    net = net.to(device=run.device, dtype=DTYPES[dtype], memory_format=memory_format)
    inputs = tuple(
        x.to(device=run.device, dtype=DTYPES[dtype], memory_format=memory_format)
        for x in variant.inputs(batch, height, width)
    )
    runner = torch.compile(net, dynamic=False) if mode.startswith("compile") else net
    warmup, reps = (1, 2) if run.tiny else (10, 50)
    try:
        with torch.no_grad(), PeakMemory(run.device) as memory:
            started = time.monotonic()
            outputs = variant.call(runner, inputs)
            if mode.startswith("compile"):
                row["compile_s"] = round(time.monotonic() - started, 1)
            if hasattr(net, "refiner"):  # patches refined per image (fewer where error is 0)
                row["refined"] = int(outputs[-1].sum().item()) // batch
            fn = lambda: variant.call(runner, inputs)  # noqa: E731
            if mode.endswith("graph"):
                started = time.monotonic()
                fn = graphed(fn)
                row["capture_s"] = round(time.monotonic() - started, 1)
            row["latency_ms"] = time_runs(fn, run.device, warmup, reps)
        row["fps"] = batch * 1e3 / row["latency_ms"]
        row["peak_mib"] = memory.peak
    except Exception as error:  # an OOM, a failed capture or compile ends this row only
        row["error"] = describe(error)
    return row


def speed_cases(tiny: bool) -> Iterator[tuple[str, str, str, dict]]:
    """(variant, size, dtype, options) in order of value."""
    hd, uhd = ("64x48", "128x96") if tiny else ("1920x1080", "3840x2160")
    small = "64x64" if tiny else "512x512"
    for name, size in (("bgmv2_resnet50_hd", hd), ("bgmv2_resnet50_4k", uhd)):
        yield name, size, "fp32", {}
        yield name, size, "fp32", {"static": False}
        yield name, size, "fp16", {}
        yield name, size, "fp16", {"static": False}
        yield name, size, "bf16", {}
        yield name, size, "fp16", {"channels_last": True}
        yield name, size, "fp32", {"mode": "graph"}
        yield name, size, "fp16", {"mode": "graph"}
        yield name, size, "fp16", {"mode": "graph", "channels_last": True}
        yield name, size, "bf16", {"mode": "graph", "channels_last": True}
    for name, size in (("modnet", small),):
        yield name, size, "fp32", {}
        yield name, size, "fp16", {}
        yield name, size, "bf16", {}
        yield name, size, "fp16", {"channels_last": True}
        yield name, size, "fp32", {"mode": "graph"}
        yield name, size, "fp16", {"mode": "graph"}
        yield name, size, "fp16", {"mode": "graph", "channels_last": True}
        yield name, size, "bf16", {"mode": "graph", "channels_last": True}
    for name, size in (("bgmv2_mobilenetv2_hd", hd), ("bgmv2_mobilenetv2_4k", uhd)):
        yield name, size, "fp32", {}
        yield name, size, "fp16", {}
        yield name, size, "fp16", {"mode": "graph"}
        yield name, size, "fp16", {"mode": "graph", "channels_last": True}


def speed(run: Run) -> None:
    found = variants()
    for name, size, dtype, options in speed_cases(run.tiny):
        if options.get("mode", "eager").endswith("graph") and run.device.type != "cuda":
            continue
        run.add("speed", speed_row(run, found[name], size, dtype, **options))
        release(run)


def compiled(run: Run) -> None:
    found = variants()
    hd, uhd, small = ("64x48", "128x96", "64x64") if run.tiny else ("1920x1080", "3840x2160",
                                                                      "512x512")  # fmt: skip
    modes = ("compile", "compile+graph") if run.device.type == "cuda" else ("compile",)
    for name, size in (("bgmv2_resnet50_hd", hd), ("modnet", small), ("bgmv2_resnet50_4k", uhd)):
        for mode in modes if run.wanted(name) else ():
            if run.left() < 60:
                run.add("skipped", {"part": f"compile {name} {mode}", "left_s": round(run.left())})
                continue
            run.add("speed", speed_row(run, found[name], size, "fp16", channels_last=True,
                                       mode=mode))  # fmt: skip


def refiner(run: Run) -> None:
    """Static vs official patch selection, BGMv2-R50 HD fp16 channels_last: eager twice each
    (the spread between repeats is the noise), and compiled (the official path breaks the graph
    at `nonzero`)."""
    variant = variants()["bgmv2_resnet50_hd"]
    size = "64x48" if run.tiny else "1920x1080"
    modes = ("eager", "eager", "compile") if run.device.type == "cuda" else ("eager",)
    for mode in modes:
        for static in (True, False):
            row = speed_row(run, variant, size, "fp16", channels_last=True, mode=mode,
                            static=static)  # fmt: skip
            run.add("refiner", row)
            release(run)


# --- 2. syncs ---------------------------------------------------------------------------------


def syncs(run: Run) -> None:
    """Synchronising CUDA calls in one forward of BGMv2-R50 HD, static vs official selection."""
    if run.device.type != "cuda":
        raise RuntimeError("counting host syncs needs --device cuda")
    variant = variants()["bgmv2_resnet50_hd"]
    height, width = (48, 64) if run.tiny else (1080, 1920)
    torch.manual_seed(0)
    net = variant.build().eval().to(run.device)
    src, bgr = (x.to(run.device) for x in variant.inputs(1, height, width))
    for static in (True, False):
        net.refiner.static_patches = static
        with torch.no_grad():
            net(src, bgr)  # warm-up: cuDNN and allocator set-up are not the network's
            torch.cuda.synchronize()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                torch.cuda.set_sync_debug_mode("warn")
                try:
                    net(src, bgr)
                finally:
                    torch.cuda.set_sync_debug_mode("default")
        found = [str(w.message).splitlines()[0][:120] for w in caught
                 if "called a synchronizing CUDA operation" in str(w.message)]  # fmt: skip
        run.add("syncs", {"patches": "static" if static else "nonzero", "syncs": len(found),
                          "first": found[:3]})  # fmt: skip
