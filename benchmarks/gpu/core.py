"""The run's shared state (results, budget, JSON file), error rows and the bare networks the
speed parts time."""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from mattebench.models.bgmv2 import MattingRefine
from mattebench.models.modnet import MODNet

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Variant:
    """A bare network, how to make its inputs (batch, height, width) and how to call it."""

    name: str
    build: Callable[[], nn.Module]
    inputs: Callable[[int, int, int], tuple[Tensor, ...]]
    call: Callable[[nn.Module, tuple[Tensor, ...]], Any]


def _images(*channels: int) -> Callable[[int, int, int], tuple[Tensor, ...]]:
    return lambda b, h, w: tuple(torch.rand(b, c, h, w) for c in channels)


def variants() -> dict[str, Variant]:
    """The networks of the speed, syncs and compile parts: BGMv2 (`model=bgmv2`, and its
    MobileNetV2 backbone) at its HD (backbone 1/4, 80,000 refined pixels) and 4K (1/8, 320,000)
    settings, and MODNet's network on a [-1, 1] input (`model=modnet`)."""
    found = [
        Variant("modnet", MODNet, _images(3), lambda net, x: net(x[0] * 2 - 1, inference=True)[2])
    ]
    for backbone in ("mobilenetv2", "resnet50"):
        for tag, scale, pixels in (("hd", 0.25, 80_000), ("4k", 0.125, 320_000)):
            build = lambda b=backbone, s=scale, p=pixels: MattingRefine(  # noqa: E731
                b, backbone_scale=s, refine_sample_pixels=p
            )
            found.append(Variant(f"bgmv2_{backbone}_{tag}", build, _images(3, 3),
                                 lambda net, x: net(*x)))  # fmt: skip
    return {v.name: v for v in found}


class Run:
    """Results, the time budget, the JSON file and the run's settings, shared by the parts."""

    def __init__(self, args: argparse.Namespace, device: torch.device) -> None:
        self.out, self.budget, self.tiny, self.device = args.out, args.budget, args.tiny, device
        self.data = [f"paths.data_dir={args.data_dir.resolve()}"] if args.data_dir else []
        self.fdr_dir = args.fdr_dir.resolve()
        self.only, self.fit_steps = set(args.only or ()), args.fit_steps
        self.start = time.monotonic()
        self.results: dict[str, Any] = {"meta": meta(device)}
        args.out.mkdir(parents=True, exist_ok=True)

    def wanted(self, name: str) -> bool:
        """`--only` restricts the train, fdr and compile parts to these names."""
        return not self.only or name in self.only

    def left(self) -> float:
        return self.budget - (time.monotonic() - self.start)

    def add(self, part: str, row: dict) -> None:
        self.results.setdefault(part, []).append(row)
        (self.out / "gpu.json").write_text(json.dumps(self.results, indent=1) + "\n")
        print(part, json.dumps(row), flush=True)

    def part(self, name: str, needs: float, fn: Callable[[Run], None]) -> None:
        """Runs one part if `needs` seconds are left; an exception ends the part, not the run."""
        if self.left() < needs:
            self.add("skipped", {"part": name, "left_s": round(self.left())})
            return
        started = time.monotonic()
        try:
            fn(self)
        except Exception as error:
            self.add("errors", {"part": name, "error": describe(error)})
        self.add("parts", {"part": name, "seconds": round(time.monotonic() - started, 1)})


def describe(error: BaseException) -> str:
    lines = str(error).strip().splitlines() or [""]
    return f"{type(error).__name__}: {lines[0][:300]}"


def meta(device: torch.device) -> dict:
    info: dict[str, Any] = {"torch": torch.__version__, "cuda": torch.version.cuda}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info |= {"gpu": props.name, "sms": props.multi_processor_count,
                 "memory_gib": round(props.total_memory / 2**30, 1)}  # fmt: skip
        with contextlib.suppress(Exception):
            info["driver"] = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version,clocks.max.sm", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=20,
            ).stdout.strip()  # fmt: skip
    info |= {"cudnn_benchmark": torch.backends.cudnn.benchmark,
             "conv_tf32": torch.backends.cudnn.allow_tf32,
             "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
             "time": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}  # fmt: skip
    return info


def release(run: Run) -> None:
    """Give the cached blocks of the last row back, so each row's peak memory is its own."""
    if run.device.type == "cuda":
        torch.cuda.empty_cache()
