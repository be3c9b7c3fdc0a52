"""Times mattebench's metrics against the NumPy/SciPy oracle (tests/oracle.py) and checks that the
values are identical.

    python -m benchmarks.metrics_speed [--height 1080 --width 1920 --images 4 --repeats 3]

Run from the repository root (`make bench-metrics`). The mattes are realistic portraits with a
trimap band of about 36 px at 1920x1080 (tests/mattes.py); the DIM convention on the unknown
region. Prints milliseconds per image, the speed-up and the largest relative difference; the
last row is one `MattingMetrics` update + compute with the four metrics, as the platform runs them.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

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


def best_of(repeats: int, fn: Callable[[], object]) -> tuple[float, object]:
    """Smallest wall time over `repeats` runs (the usual estimate of the cost), and the result."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def run(height: int, width: int, images: int, repeats: int, device: str) -> list[dict]:
    cases = [mattes.portrait_case(height, width, seed) for seed in range(images)]
    pred, target, trimap = (x.to(device) for x in mattes.stack_cases(cases))
    rows = []
    for name, ours in OURS.items():
        reference = oracle.DIM[name]
        t_oracle, expected = best_of(
            repeats, lambda ref=reference: [ref(p, g, t == 128) for p, g, t in cases]
        )
        t_ours, values = best_of(repeats, lambda f=ours: f(pred, target, trimap).cpu())
        rel = np.abs(values.numpy() - expected) / np.maximum(np.abs(expected), 1e-30)
        rows.append(
            {
                "metric": name,
                "oracle_ms": 1e3 * t_oracle / images,
                "mattebench_ms": 1e3 * t_ours / images,
                "speedup": t_oracle / t_ours,
                "max_rel_diff": float(rel.max()),
            }
        )

    def all_four():
        metrics = MattingMetrics(metrics=list(OURS))
        metrics.update(pred, target, trimap=trimap)
        return metrics.compute()

    t_all, _ = best_of(repeats, all_four)
    total_oracle = sum(r["oracle_ms"] for r in rows)
    rows.append(
        {
            "metric": "all four",
            "oracle_ms": total_oracle,
            "mattebench_ms": 1e3 * t_all / images,
            "speedup": total_oracle / (1e3 * t_all / images),
            "max_rel_diff": max(r["max_rel_diff"] for r in rows),
        }
    )
    return rows


def print_table(rows: list[dict], header: str) -> None:
    print(header)
    print(
        f"| {'metric':<9} | {'oracle ms/img':>13} | {'mattebench ms/img':>17} | "
        f"{'speed-up':>8} | {'max rel diff':>12} |"
    )
    print(f"|{'-' * 11}|{'-' * 15}:|{'-' * 19}:|{'-' * 10}:|{'-' * 14}:|")
    for r in rows:
        print(
            f"| {r['metric']:<9} | {r['oracle_ms']:>13.1f} | {r['mattebench_ms']:>17.1f} | "
            f"{r['speedup']:>7.1f}x | {r['max_rel_diff']:>12.1e} |"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    rows = run(args.height, args.width, args.images, args.repeats, args.device)
    print_table(
        rows,
        f"{args.images} mattes {args.width}x{args.height}, DIM convention, unknown region, "
        f"device {args.device}, torch {torch.__version__}, {torch.get_num_threads()} threads",
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
