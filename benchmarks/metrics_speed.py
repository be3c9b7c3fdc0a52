"""Times mattebench's metrics against the NumPy/SciPy oracle (tests/oracle.py) and checks that the
values are identical.

    python -m benchmarks.metrics_speed [--sizes 1920x1080 2048x2048 --images 2 --repeats 3]

Run from the repository root (`make bench-metrics`). Cases, per size: realistic portrait mattes
(tests/mattes.py) with the default thin unknown band (1/30 of the short side), alpha-derived
unknown bands of 10 % and 25 % of the short side (real trimaps around hair, nets and glass are
that wide), and the whole image as the region (trimap-free evaluation); DIM convention.
"all four" is one `MattingMetrics` update + compute with SAD, MSE, Grad and Conn, as the
platform runs them, against the oracle's four functions; the Grad and Conn columns time each
functional call alone (input validation included). Oracle and mattebench run alternately in one
process and each time is the median of the repeats; "all four, CPU time" is the same ratio in
process CPU time (all threads), which a machine shared with other jobs disturbs less.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch

from mattebench.metrics import MattingMetrics
from mattebench.metrics import functional as F
from tests import mattes, oracle

OURS: dict[str, Callable] = {
    "sad": F.sad,
    "mse": F.mse,
    "grad": F.gradient_error,
    "conn": F.connectivity_error,
}
#: name -> unknown band as a fraction of the short side (None: the default thin band), region
CASES: dict[str, tuple[float | None, str]] = {
    "thin band": (None, "unknown"),
    "10% band": (0.10, "unknown"),
    "25% band": (0.25, "unknown"),
    "whole image": (None, "image"),
}


class Timing(NamedTuple):
    wall: float
    cpu: float


def medians(repeats: int, *fns: Callable[[], object]) -> tuple[list[Timing], list[object]]:
    """Median wall and CPU time (all threads) of each function over `repeats` alternating
    rounds (after one untimed warm-up round), and each one's last result."""
    results = [fn() for fn in fns]
    times: list[list[Timing]] = [[] for _ in fns]
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            wall, cpu = time.perf_counter(), time.process_time()
            results[i] = fn()
            times[i].append(Timing(time.perf_counter() - wall, time.process_time() - cpu))
    return [
        Timing(statistics.median(t.wall for t in ts), statistics.median(t.cpu for t in ts))
        for ts in times
    ], results


def run_case(
    height: int, width: int, band: float | None, region: str, images: int, repeats: int
) -> dict:
    band_px = None if band is None else round(band * min(height, width))
    cases = [mattes.portrait_case(height, width, seed, band=band_px) for seed in range(images)]
    pred, target, trimap = mattes.stack_cases(cases)
    masks = [np.ones(t.shape, bool) if region == "image" else t == 128 for _, _, t in cases]
    row = {"size": f"{width}x{height}", "region": region, "band_px": band_px,
           "scored_pct": 100 * float(np.mean([m.mean() for m in masks]))}  # fmt: skip
    rel = []
    oracle_total = Timing(0.0, 0.0)
    for name, ours in OURS.items():
        reference = oracle.DIM[name]
        (t_oracle, t_ours), (expected, values) = medians(
            repeats,
            lambda ref=reference: [ref(p, g, m) for (p, g, _), m in zip(cases, masks, strict=True)],
            lambda f=ours: f(pred, target, trimap, region=region),
        )
        oracle_total = Timing(oracle_total.wall + t_oracle.wall, oracle_total.cpu + t_oracle.cpu)
        rel.append(np.abs(values.numpy() - expected) / np.maximum(np.abs(expected), 1e-30))
        if name in ("grad", "conn"):
            row[f"{name}_speedup"] = t_oracle.wall / t_ours.wall

    def all_four():
        metrics = MattingMetrics(regions=(region,), metrics=list(OURS), iou=False)
        metrics.update(pred, target, trimap=trimap)
        return metrics.compute()

    (t_all,), _ = medians(repeats, all_four)
    row.update(
        oracle_ms=1e3 * oracle_total.wall / images,
        mattebench_ms=1e3 * t_all.wall / images,
        speedup=oracle_total.wall / t_all.wall,
        cpu_speedup=oracle_total.cpu / t_all.cpu,
        max_rel_diff=float(np.concatenate(rel).max()),
    )
    return row


def print_table(rows: list[dict], header: str) -> None:
    print(header)
    print(
        "| size | case | scored | oracle ms/img | mattebench ms/img | all four | all four, CPU "
        "time | Grad | Conn | max rel diff |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"
    )
    for r in rows:
        print(
            f"| {r['size']} | {r['case']} | {r['scored_pct']:.0f}% | {r['oracle_ms']:.0f} | "
            f"{r['mattebench_ms']:.0f} | {r['speedup']:.1f}x | {r['cpu_speedup']:.1f}x | "
            f"{r['grad_speedup']:.1f}x | "
            f"{r['conn_speedup']:.1f}x | {r['max_rel_diff']:.1e} |"
        )


def load_text(load: tuple[float, float, float]) -> str:
    """The machine's load averages: other jobs on the same cores move every ratio."""
    return "/".join(f"{x:.1f}" for x in load)


def parse_size(text: str) -> tuple[int, int]:
    """`WxH` -> (H, W)."""
    try:
        width, height = (int(n) for n in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size {text!r} is not WIDTHxHEIGHT") from None
    return height, width


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=parse_size, default=["1920x1080", "2048x2048"])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--images", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    sizes = [parse_size(s) if isinstance(s, str) else s for s in args.sizes]
    load_before = os.getloadavg()
    rows = []
    for height, width in sizes:
        for case in args.cases:
            band, region = CASES[case]
            row = run_case(height, width, band, region, args.images, args.repeats)
            rows.append({"case": case, **row})
    print_table(
        rows,
        f"{args.images} mattes per case, DIM convention, CPU ({os.cpu_count()} cores), median of "
        f"{args.repeats}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"load average (1, 5, 15 min) {load_text(load_before)} before, "
        f"{load_text(os.getloadavg())} after",
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)
    return rows


if __name__ == "__main__":
    main()
