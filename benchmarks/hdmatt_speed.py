"""HDMatt crop-and-stitch inference on large images: seconds and peak memory per size.

    python -m benchmarks.hdmatt_speed [--sizes 1024 2048 4096 5000] [--device cpu|cuda]

The input is synthetic: a random image whose trimap is a disc of foreground with a thin
unknown ring (`--band` px) on a background, as on a real high-resolution portrait. Query
patches that hold no unknown pixel are skipped (their pixels are copied from the trimap), so
the time is that of the context pool (one non-overlapping grid of patch-size cells, encoded once)
plus the query patches along the ring. Each size runs in a fresh subprocess so that the CPU peak
(`ru_maxrss`) is that size's own; on CUDA the peak is `torch.cuda.max_memory_allocated`.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch

from mattebench.models.hdmatt import HDMatt, predict_image
from mattebench.models.hdmatt.stitch import starts


def ring_trimap(size: int, band: int) -> torch.Tensor:
    """(1,1,S,S): foreground disc of radius 0.4·S, an unknown ring `band` px wide."""
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    r = ((yy - size / 2) ** 2 + (xx - size / 2) ** 2).sqrt()
    inner, outer = 0.4 * size - band / 2, 0.4 * size + band / 2
    trimap = torch.where(r < inner, 1.0, torch.where(r < outer, 0.5, 0.0))
    return trimap[None, None]


def run_one(size: int, patch: int, margin: int, batch: int, band: int, device: str) -> dict:
    torch.manual_seed(0)
    net = HDMatt().eval().to(device)
    image = torch.rand(1, 3, size, size, device=device)
    trimap = ring_trimap(size, band).to(device)
    unknown = (trimap == 0.5)[0, 0]
    grid = [(y, x) for y in starts(max(size, patch), patch, patch - margin)
            for x in starts(max(size, patch), patch, patch - margin)]  # fmt: skip
    queries = sum(bool(unknown[y : y + patch, x : x + patch].any()) for y, x in grid)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    predict_image(net, image, trimap, patch, margin, batch)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    if device == "cuda":
        peak = torch.cuda.max_memory_allocated() / 2**30
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    cells = len(starts(max(size, patch), patch, patch)) ** 2
    return {
        "size": size, "seconds": seconds, "peak_gib": peak, "queries": queries,
        "grid": len(grid), "cells": cells, "rss_before_gib": before / 2**20,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048, 4096, 5000])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--patch", type=int, default=320)
    parser.add_argument("--margin", type=int, default=32)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--band", type=int, default=40)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one size, JSON
    args = parser.parse_args(argv)
    if args.one is not None:
        r = run_one(args.one, args.patch, args.margin, args.batch, args.band, args.device)
        print(json.dumps(r))
        return
    what = "peak RSS GiB" if args.device == "cpu" else "peak CUDA GiB"
    print(f"HDMatt crop-and-stitch, K=3, unknown ring {args.band} px, {args.device}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")  # fmt: skip
    print(f"| size | patch | K | overlap | query patches run / grid | context cells | s | {what} |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        options = {"one": size, "patch": args.patch, "margin": args.margin, "batch": args.batch}
        options |= {"band": args.band, "device": args.device}
        cmd = [sys.executable, "-m", "benchmarks.hdmatt_speed"]
        cmd += [a for k, v in options.items() for a in (f"--{k}", str(v))]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        row = [size, args.patch, 3, args.margin, f"{r['queries']} / {r['grid']}", r["cells"]]
        row += [f"{r['seconds']:.1f}", f"{r['peak_gib']:.2f}"]
        print("| " + " | ".join(map(str, row)) + " |", flush=True)


if __name__ == "__main__":
    main()
