"""Throughput of the training data pipeline, and its share of a training step.

    python -m benchmarks.data_pipeline [--sizes 512 2048 --workers 2 --batches 3]

Generates the synthetic VideoMatte sample into a temporary directory, builds `MattingDataModule`
on `VideoMatteFrames` / `BackgroundFolder` directly (no Hydra), and times read + per-sample
augmentation (workers) + collate + `on_after_batch_transfer` with a fake trainer in training
mode (crop, shadow, composite, noise, plate jitter, misalignment) on the CPU, with 0 workers and
with `--workers`. The first batch of each loader is a warm-up (worker start-up) and not timed.
The model column is one forward + backward of BGMv2's MattingBase (MobileNetV2) on a batch of
the cropped size; "data share" = data time / (data time + model time) per batch, i.e. the part
of a training step the data would take if nothing overlapped (with workers it can overlap the
model; the 0-worker figure is the serial cost). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import torch

from mattebench.data import MattingDataModule
from mattebench.data.sources import BackgroundFolder, VideoMatteFrames, ensure_videomatte_sample
from mattebench.models.bgmv2 import MattingBase


def datamodule(root: Path, size: int, batch: int, workers: int) -> MattingDataModule:
    dm = MattingDataModule(
        train=VideoMatteFrames(root, "train"),
        train_backgrounds=BackgroundFolder(root / "Backgrounds" / "train"),
        size=size,
        batch_size=batch,
        num_workers=workers,
        seed=0,
    )
    dm.trainer = SimpleNamespace(training=True, global_rank=0, world_size=1)
    dm.setup("fit")
    return dm


def data_seconds(dm: MattingDataModule, batches: int) -> tuple[float, dict]:
    """Seconds per batch over `batches` timed batches (after one warm-up), and the last batch."""
    loader = iter(dm.train_dataloader())
    batch = dm.on_after_batch_transfer(next(loader), 0)  # warm-up: worker start-up
    start = time.perf_counter()
    for _ in range(batches):
        batch = dm.on_after_batch_transfer(next(loader), 0)
    return (time.perf_counter() - start) / batches, batch


def model_seconds(net: torch.nn.Module, batch: dict, repeats: int) -> float:
    """Best of `repeats` forward + backward passes (after one warm-up)."""
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        pha, fgr, _, _ = net(batch["image"], batch["bgr"])
        ((pha - batch["alpha"]).abs().mean() + (fgr - batch["fgr"]).abs().mean()).backward()
        net.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - start)
    return min(times[1:])


def run(sizes: list[int], workers: int, batches: int, batch_sizes: dict[int, int]) -> list[dict]:
    rows = []
    net = MattingBase("mobilenetv2").train()
    with tempfile.TemporaryDirectory() as tmp:
        root = ensure_videomatte_sample(Path(tmp) / "VideoMatte240K")
        for size in sizes:
            batch_size = batch_sizes.get(size, 1)
            t_model = None
            for n_workers in sorted({0, workers}):
                dm = datamodule(root, size, batch_size, n_workers)
                t_data, batch = data_seconds(dm, batches)
                if t_model is None:
                    t_model = model_seconds(net, batch, repeats=1)
                rows.append(
                    {
                        "size": size,
                        "batch": batch_size,
                        "crop": tuple(batch["image"].shape[-2:]),
                        "workers": n_workers,
                        "samples_per_s": batch_size / t_data,
                        "data_ms": 1e3 * t_data,
                        "model_ms": 1e3 * t_model,
                        "data_share": t_data / (t_data + t_model),
                    }
                )
    return rows


def print_table(rows: list[dict], header: str) -> None:
    print(header)
    print(
        "| sample size | batch | workers | samples/s | data ms/batch | fwd+bwd ms (last crop) "
        "| data share |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        crop = "x".join(map(str, r["crop"]))
        print(
            f"| {r['size']}x{r['size']} | {r['batch']} | {r['workers']} | "
            f"{r['samples_per_s']:.2f} | {r['data_ms']:.0f} | {r['model_ms']:.0f} ({crop}) | "
            f"{100 * r['data_share']:.0f}% |"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 2048])
    parser.add_argument("--workers", type=int, default=2, help="the N of the N-worker rows")
    parser.add_argument("--batches", type=int, default=3, help="timed batches per row")
    parser.add_argument("--batch-512", type=int, default=4, help="batch size at 512 (else 1)")
    args = parser.parse_args(argv)
    rows = run(args.sizes, args.workers, args.batches, {512: args.batch_512})
    print_table(
        rows,
        f"VideoMatte sample, BGMv2 base augmentation, CPU, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; model: MattingBase(mobilenetv2) fwd+bwd",
    )


if __name__ == "__main__":
    main()
