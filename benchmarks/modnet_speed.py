"""MODNet on this machine: one training step (forward, official loss, backward, SGD) and
inference frames per second, at 512x512, for the 3-channel and the temporal (RGB + previous
alpha) networks.

    python -m benchmarks.modnet_speed [--size 512 --repeats 3]
"""

from __future__ import annotations

import argparse

import torch

from benchmarks.timing import median_seconds
from mattebench.losses.modnet import supervised_loss
from mattebench.models.modnet import MODNet


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    s = args.size
    print(f"MODNet, 1x{s}x{s}, CPU, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| network | train step s | inference FPS |")
    print("|---|---:|---:|")
    for name, temporal in (("MODNet", False), ("MODNet temporal", True)):
        net = MODNet(prev_alpha=temporal)
        x = torch.rand(1, 4 if temporal else 3, s, s) * 2 - 1
        alpha = torch.rand(1, 1, s, s)
        trimap = torch.full_like(alpha, 0.5)
        optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

        def step(net=net, x=x, alpha=alpha, trimap=trimap, optimizer=optimizer):
            net.train()
            loss = supervised_loss(*net(x, inference=False), x[:, :3], trimap, alpha)["loss"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        def infer(net=net, x=x):
            net.eval()
            with torch.no_grad():
                net(x, inference=True)

        train_s = median_seconds(step, args.repeats)
        fps = 1 / median_seconds(infer, args.repeats)
        print(f"| {name} | {train_s:.2f} | {fps:.1f} |")


if __name__ == "__main__":
    main()
