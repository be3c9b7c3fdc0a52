"""Time of one BGMv2 training step (forward, loss, backward, Adam step) on this machine.

    python -m benchmarks.train_step [--size 512 --batch 1 --backbones resnet50 mobilenetv2]

Random inputs at `size`x`size`; the refine stage uses the training defaults (backbone_scale
0.25, sampling 80,000 pixels). Prints a table of the median over `--repeats` steps after one
warm-up step.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from mattebench.losses import bgmv2 as losses
from mattebench.models.bgmv2 import MattingBase, MattingRefine


def step_seconds(net: torch.nn.Module, size: int, batch: int, repeats: int) -> float:
    src, bgr, fgr = torch.rand(3, batch, 3, size, size)
    pha = torch.rand(batch, 1, size, size)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)
    net.train()
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        out = net(src, bgr)
        if isinstance(net, MattingRefine):
            loss = losses.refine_loss(*out[:5], pha, fgr)["loss"]
        else:
            loss = losses.base_loss(*out[:3], pha, fgr)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backbones", nargs="+", default=["resnet50", "mobilenetv2"])
    args = parser.parse_args(argv)
    print(
        f"BGMv2 training step, {args.batch}x3x{args.size}x{args.size}, CPU, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    print("| model | backbone | s/step |")
    print("|---|---|---:|")
    for backbone in args.backbones:
        for name, net in (
            ("MattingBase", MattingBase(backbone)),
            ("MattingRefine", MattingRefine(backbone)),
        ):
            seconds = step_seconds(net, args.size, args.batch, args.repeats)
            print(f"| {name} | {backbone} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
