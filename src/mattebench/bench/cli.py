"""`python -m mattebench.bench`: the command line, the loop over methods and settings, the table
and the JSON file (`mattebench.report --bench` reads it)."""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import torch

from mattebench.bench import measure, subjects
from mattebench.bench.timing import DTYPES, parse_size


def settings(sizes: Sequence[str], args: argparse.Namespace) -> list[measure.Setting]:
    """Every combination asked for, torch settings first, then the ONNX Runtime ones."""
    torch_settings = [
        measure.Setting(size, batch, dtype, channels_last, compiled)
        for size in sizes
        for batch in args.batches
        for dtype in args.dtypes
        for channels_last in args.channels_last
        for compiled in args.compile
    ]
    onnx_settings = [  # ONNX Runtime on the exported fp32 graph (CPU)
        measure.Setting(size, batch, "fp32", False, False, "onnx")
        for size in sizes
        for batch in args.batches
    ]
    return [
        *(torch_settings if "torch" in args.runtimes else []),
        *(onnx_settings if "onnx" in args.runtimes else []),
    ]


def run(args: argparse.Namespace, rows: list[measure.Row]) -> None:
    """Measures every method and setting, appending to `rows` as it goes (so an interrupted
    run keeps the rows it finished) and printing each."""
    device = torch.device(args.device)
    for name in args.methods:
        try:
            subject = subjects.build(name)
        except Exception as error:  # a config that does not build: its row says why, go on
            rows.append(
                measure.Row(
                    name,
                    "-",
                    0,
                    "-",
                    False,
                    False,
                    error=measure.describe(error.__cause__ or error),
                )
            )
            print(format_row(rows[-1]), flush=True)
            continue
        sizes = args.sizes or (subject.sizes[:1] if args.quick else subject.sizes)
        macs: dict[str, float | None] = {}
        for setting in settings(sizes, args):
            if setting.size not in macs:
                macs[setting.size] = _macs(subject, setting.size, device)
            row = measure.measure(subject, setting, device, args.warmup, args.reps)
            row.gmacs = macs[setting.size]
            rows.append(row)
            print(format_row(row), flush=True)


def _macs(subject: subjects.Subject, size: str, device: torch.device) -> float | None:
    try:
        return measure.macs(subject, size, device)
    except Exception as error:  # as in `measure`: report it and go on
        print(f"{subject.name} {size}: MACs not counted ({error})")
        return None


HEADER = (
    "| method | size | batch | dtype | channels_last | compile | runtime | params M | GMACs "
    "| latency ms | FPS | peak MiB | note |\n|---|---|--:|---|---|---|---|--:|--:|--:|--:|--:|---|"
)


def format_row(row: measure.Row) -> str:
    def num(value: float | None, digits: int) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    cells = [
        row.method, row.size, str(row.batch), row.dtype, "on" if row.channels_last else "off",
        "on" if row.compile else "off", row.runtime, num(row.params_m, 2), num(row.gmacs, 2),
        num(row.latency_ms, 1) if row.error is None else row.error, num(row.fps, 2),
        num(row.peak_mem_mib, 0), row.note or "",
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def _meta(device: torch.device, args: argparse.Namespace, complete: bool) -> dict:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    return {
        "device": str(device),
        "device_name": name or platform.machine(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "threads": torch.get_num_threads(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "complete": complete,
        "args": {k: v for k, v in vars(args).items() if k != "json"},
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    from mattebench.registry import model_names

    names = model_names()
    parser = argparse.ArgumentParser(
        prog="python -m mattebench.bench",
        description="Inference speed of methods, by model config name: parameters, MACs, "
        "latency, FPS, peak memory.",
    )
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="first size, batch 1, 2 timed runs")
    parser.add_argument(
        "--methods", nargs="+", metavar="NAME",
        help=f"model config names (default: all): {', '.join(names)}",
    )  # fmt: skip
    parser.add_argument("--sizes", nargs="+", help="WxH sizes instead of each method's targets")
    parser.add_argument("--batches", nargs="+", type=int, help="batch sizes (default 1 4)")
    parser.add_argument("--dtypes", nargs="+", choices=sorted(DTYPES))
    parser.add_argument("--channels-last", choices=("off", "on", "both"))
    parser.add_argument("--compile", choices=("off", "on", "both"))
    parser.add_argument(
        "--runtimes", nargs="+", choices=("torch", "onnx"), default=["torch"],
        help="onnx: ONNX Runtime on the exported graph, CPU fp32 (as infer.py runtime=onnx)",
    )  # fmt: skip
    parser.add_argument("--warmup", type=int)
    parser.add_argument("--reps", type=int)
    parser.add_argument("--json", type=Path, help="default: logs/bench/<device>.json")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.methods or ()) - set(names))
    if unknown:
        parser.error(f"unknown --methods {unknown}; the model configs are {names}")
    args.methods = args.methods or names
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        parser.error("--device cuda, but CUDA is not available; use --device cpu")
    for size in args.sizes or ():
        parse_size(size)
    # GPU: every precision and option; CPU: fp32 eager (compiling on a CPU takes minutes).
    both = {"off": [False], "on": [True], "both": [False, True]}
    args.dtypes = args.dtypes or (["fp32"] if args.quick or not cuda else list(DTYPES))
    args.channels_last = both[args.channels_last or ("both" if cuda and not args.quick else "off")]
    args.compile = both[args.compile or ("both" if cuda and not args.quick else "off")]
    args.batches = args.batches or ([1] if args.quick else [1, 4])
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick or not cuda else 5)
    args.reps = args.reps or (2 if args.quick else (20 if cuda else 3))
    args.json = args.json or Path("logs/bench") / f"{args.device.replace(':', '')}.json"
    return args


def main(argv: Sequence[str] | None = None) -> dict:
    """Runs the benchmark and writes its JSON; Ctrl-C stops it and writes the rows finished
    so far (`meta.complete` false)."""
    args = parse_args(argv)
    print(HEADER, flush=True)
    rows: list[measure.Row] = []
    complete = False
    try:
        run(args, rows)
        complete = True
    except KeyboardInterrupt:
        print(f"interrupted: writing the {len(rows)} row(s) finished")
    report = {
        "meta": _meta(torch.device(args.device), args, complete),
        "results": [asdict(row) for row in rows],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.json}")
    return report
