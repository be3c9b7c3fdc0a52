"""`python -m benchmarks.gpu`: the arguments, the parts in order, the tables."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks.gpu import __doc__ as description
from benchmarks.gpu.core import Run
from benchmarks.gpu.speed import compiled, refiner, speed, syncs
from benchmarks.gpu.tables import merge, tables
from benchmarks.gpu.training import fdr, hdmatt, precision, train


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.gpu", description=description.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, default=Path("logs/gpu"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--budget", type=float, default=420, help="seconds for the whole run")
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=list(PARTS))
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: checks the script")
    parser.add_argument("--data-dir", type=Path, help="where the sample is made (paths.data_dir)")
    parser.add_argument("--fdr-dir", type=Path, default=Path("logs/gpu_fdr"), help="fdr logs")
    parser.add_argument("--only", nargs="+", help="train / fdr / compile only these names")
    parser.add_argument("--fit-steps", type=int, default=0, help="precision: train briefly first")
    parser.add_argument(
        "--tables",
        type=Path,
        nargs="+",
        help="print the tables of gpu.json "
        "files (a later run's row replaces an earlier one with the same key)",
    )
    return parser.parse_args(argv)


# name: (seconds a part needs at least to start, the part)
PARTS: dict[str, tuple[float, Callable[[Run], None]]] = {
    "speed": (60, speed), "syncs": (20, syncs), "precision": (30, precision),
    "hdmatt": (40, hdmatt), "train": (40, train), "fdr": (90, fdr), "refiner": (60, refiner),
    "compile": (60, compiled),
}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.tables:
        print(tables(merge([json.loads(path.read_text()) for path in args.tables])))
        return
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = device.type == "cuda"  # fixed sizes: pick the fastest conv
    run = Run(args, device)
    print(json.dumps(run.results["meta"]), flush=True)
    for name in args.parts:
        needs, fn = PARTS[name]
        run.part(name, needs * (0.1 if args.tiny else 1), fn)
    text = tables(run.results)
    (args.out / "gpu.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
