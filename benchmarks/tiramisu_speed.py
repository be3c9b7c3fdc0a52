"""FC-DenseNet56/67/103 on this machine: one training step (forward, 2-class cross-entropy,
backward, RMSprop) and inference frames per second, batch 1 at 512x512 on the CPU.

    python -m benchmarks.tiramisu_speed [--size 512 --repeats 3]
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F

from benchmarks.timing import median_seconds
from mattebench.models.tiramisu import fc_densenet56, fc_densenet67, fc_densenet103

NETWORKS = {"FC-DenseNet56": fc_densenet56, "FC-DenseNet67": fc_densenet67,
            "FC-DenseNet103": fc_densenet103}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    s = args.size
    print(f"Tiramisu, {s}x{s}, CPU, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| network | parameters | train step s | inference FPS |")
    print("|---|---:|---:|---:|")
    for name, build in NETWORKS.items():
        net = build()
        x, target = torch.rand(1, 3, s, s), torch.randint(0, 2, (1, s, s))
        optimizer = torch.optim.RMSprop(net.parameters(), lr=1e-3, alpha=0.9, eps=1e-3)

        def step(net=net, x=x, target=target, optimizer=optimizer):
            net.train()
            loss = F.cross_entropy(net(x), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        def infer(net=net, x=x):
            net.eval()
            with torch.no_grad():
                net(x)

        train_s = median_seconds(step, args.repeats)
        fps = 1 / median_seconds(infer, args.repeats)
        params = sum(p.numel() for p in net.parameters())
        print(f"| {name} | {params:,} | {train_s:.2f} | {fps:.2f} |")


if __name__ == "__main__":
    main()
