"""Per-sample training data pipeline, side by side with the official BGMv2 one, on HD frames.

    python -m benchmarks.data_pipeline --source-size 1920x1080 \
        --official <BackgroundMattingV2 checkout or unpacked backgroundmattingv2==1.0 wheel>

Generates the synthetic VideoMatte240K sample in its real layout (`train/{fgr,pha}/<clip>/
<frame>.jpg`, `Backgrounds/train/*.jpg`) at `--source-size` into a temporary directory, then
times one training sample after another, on one core (`torch.set_num_threads(1)`,
`cv2.setNumThreads(1)`, no DataLoader workers), at each `--sizes` output side:

- mattebench: `CompositionDataset` with BGMv2's recipe (`bgmv2_augment`: the pipelines of
  `conf/data/sample_augment/bgmv2.yaml`): decode (OpenCV, reduced-size JPEG reads where the
  sample is much smaller than the frame), augment (albumentations), to float tensors;
- official: `dataset/augmentation.py` imported from the `--official` path at run time (never
  copied here) and composed exactly as `train_base.py` does (`PairRandomAffineAndResize` with
  the same ranges, flip, box blur, sharpen, jitter on the foreground; the background's own
  chain; `ToTensor`), reading the same files with PIL as its `ImagesDataset` does.

Both run in this process, in alternating rounds so that a busy machine slows both alike; the
ratio is what to compare. The breakdown says where each sample's time goes: decode, geometry
(the affine-and-resize), photometric (flip, blur, sharpen, jitter), to-tensor; "composite" is
the per-batch step that both pipelines run afterwards on the training device (here mattebench's
`BatchAugment` on the CPU per sample, for scale). Prints markdown tables.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import albumentations as A
import cv2
import numpy as np
import torch

from mattebench.data import BatchAugment, CompositionDataset, bgmv2_augment, collate
from mattebench.data.decode import decode_at_least
from mattebench.data.samples import ensure_videomatte_sample
from mattebench.data.sources import BackgroundFolder, VideoMatteFrames
from mattebench.data.transforms import seed_pipeline


def parse_size(text: str) -> tuple[int, int]:
    """'1920x1080' -> (height 1080, width 1920)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        message = f"expected WIDTHxHEIGHT, e.g. 1920x1080; got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
    return h, w


class Ours:
    """mattebench's per-sample training pipeline on the sample at `root`."""

    def __init__(self, root: Path, size: int) -> None:
        self.foregrounds = VideoMatteFrames(root, "train").scan()
        self.backgrounds = BackgroundFolder(root / "Backgrounds" / "train").scan()
        self.augment = bgmv2_augment(size)
        self.dataset = CompositionDataset(
            self.foregrounds, self.backgrounds, self.augment, size, seed=0
        )
        self.parts = {  # each training pipeline split into its geometry and the rest
            job: (A.Compose(pipeline.transforms[:1]), A.Compose(pipeline.transforms[1:]))
            for job, pipeline in self.augment.pipelines.items()
            if job != "natural"
        }

    def __len__(self) -> int:
        return len(self.dataset)

    def sample(self, i: int) -> dict:
        return self.dataset[i]

    def stages(self, i: int, clock: dict[str, float]) -> None:
        """One sample in steps, each timed into `clock` (the same work as `sample`)."""
        rng = np.random.default_rng(i)
        with _timer(clock, "decode"):
            with decode_at_least(self.augment.min_source_side("foreground", True)):
                fg = self.foregrounds[i]
            with decode_at_least(self.augment.min_source_side("background", True)):
                bg = self.backgrounds[int(rng.integers(len(self.backgrounds)))]
        jobs = {"foreground": {"image": fg.fgr, "mask": fg.pha}, "background": {"image": bg.bgr}}
        for job, data in jobs.items():
            for part, name in zip(self.parts[job], ("geometry", "photometric"), strict=True):
                seed_pipeline(part, int(rng.integers(2**63)))
                with _timer(clock, name):
                    data = part(**data)
            with _timer(clock, "to tensor"):
                [torch.from_numpy(v.astype(np.float32) / 255) for v in data.values()]


class Official:
    """`train_base.py`'s training datasets, built from the official code at `path`."""

    def __init__(self, path: Path, root: Path, size: int) -> None:
        from PIL import Image
        from torchvision import transforms as T

        aug = _load(path / "dataset" / "augmentation.py", "bgmv2_official_augmentation")
        self.Image, self.T = Image, T
        self.fgr = _official_files(root / "train" / "fgr")
        self.pha = _official_files(root / "train" / "pha")
        self.bgr = _official_files(root / "Backgrounds" / "train")
        s = (size, size)
        affine = {"degrees": (-5, 5), "translate": (0.1, 0.1), "shear": (-5, 5)}
        self.pair_geometry = aug.PairRandomAffineAndResize(s, scale=(0.4, 1), **affine)
        self.pair_photometric = aug.PairCompose(
            [
                aug.PairRandomHorizontalFlip(),
                aug.PairRandomBoxBlur(0.1, 5),
                aug.PairRandomSharpen(0.1),
                aug.PairApplyOnlyAtIndices([1], T.ColorJitter(0.15, 0.15, 0.15, 0.05)),
            ]
        )
        self.bgr_geometry = aug.RandomAffineAndResize(s, scale=(1, 2), **affine)
        self.bgr_photometric = T.Compose(
            [
                T.RandomHorizontalFlip(),
                aug.RandomBoxBlur(0.1, 5),
                aug.RandomSharpen(0.1),
                T.ColorJitter(0.15, 0.15, 0.15, 0.05),
            ]
        )
        self.to_tensor = T.ToTensor()

    def __len__(self) -> int:
        return len(self.fgr)

    def _read(self, path: str, mode: str):
        with self.Image.open(path) as image:  # `dataset/images.py` ImagesDataset.__getitem__
            return image.convert(mode)

    def sample(self, i: int) -> tuple:
        pha, fgr = self._read(self.pha[i], "L"), self._read(self.fgr[i], "RGB")
        pha, fgr = self.pair_photometric(*self.pair_geometry(pha, fgr))
        bgr = self.bgr_photometric(
            self.bgr_geometry(self._read(self.bgr[i % len(self.bgr)], "RGB"))
        )
        return self.to_tensor(pha), self.to_tensor(fgr), self.to_tensor(bgr)

    def stages(self, i: int, clock: dict[str, float]) -> None:
        with _timer(clock, "decode"):
            pha, fgr = self._read(self.pha[i], "L"), self._read(self.fgr[i], "RGB")
            bgr = self._read(self.bgr[i % len(self.bgr)], "RGB")
        with _timer(clock, "geometry"):
            pha, fgr = self.pair_geometry(pha, fgr)
            bgr = self.bgr_geometry(bgr)
        with _timer(clock, "photometric"):
            pha, fgr = self.pair_photometric(pha, fgr)
            bgr = self.bgr_photometric(bgr)
        with _timer(clock, "to tensor"):
            [self.to_tensor(x) for x in (pha, fgr, bgr)]


def _load(path: Path, name: str):
    """Import one file of the official code from the user's path (not from this repository)."""
    if not path.is_file():
        raise SystemExit(
            f"{path} not found: --official must point at a BackgroundMattingV2 checkout "
            "(git clone https://github.com/PeterL1n/BackgroundMattingV2) or the unpacked "
            "backgroundmattingv2==1.0 wheel's BackgroundMattingV2/ folder"
        )
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _official_files(root: Path) -> list[str]:
    """`ImagesDataset`'s file list: `root/**/*.jpg` + `*.png`, sorted."""
    return sorted(str(p) for ext in ("jpg", "png") for p in root.glob(f"**/*.{ext}"))


class _timer:
    def __init__(self, clock: dict[str, float], name: str) -> None:
        self.clock, self.name = clock, name

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc) -> None:
        self.clock[self.name] += time.perf_counter() - self.start


def throughput(pipelines: dict[str, object], samples: int, rounds: int) -> dict[str, float]:
    """Samples/s of each pipeline over `samples` samples, timed in alternating rounds."""
    elapsed = dict.fromkeys(pipelines, 0.0)
    per_round = math.ceil(samples / rounds)
    for pipeline in pipelines.values():  # warm-up: imports, caches, first allocations
        pipeline.sample(0)
    for r in range(rounds):
        for name, pipeline in pipelines.items():
            start = time.perf_counter()
            for k in range(r * per_round, (r + 1) * per_round):
                pipeline.sample(k % len(pipeline))
            elapsed[name] += time.perf_counter() - start
    return {name: rounds * per_round / seconds for name, seconds in elapsed.items()}


def breakdown(pipeline, samples: int) -> dict[str, float]:
    """Milliseconds per sample in each stage."""
    clock: dict[str, float] = defaultdict(float)
    for k in range(samples):
        pipeline.stages(k % len(pipeline), clock)
    return {name: 1e3 * seconds / samples for name, seconds in clock.items()}


def composite_ms(ours: Ours, batch: int = 4) -> float:
    """Per-sample milliseconds of the per-batch step (crop, shadow, composite, noise, plate
    jitter and misalignment) on the CPU."""
    items = collate([ours.sample(k % len(ours)) for k in range(batch)])
    augment = BatchAugment(crop_multiple=4, seed=0)
    augment(items)  # warm-up
    start = time.perf_counter()
    augment(items)
    return 1e3 * (time.perf_counter() - start) / batch


def run(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as tmp:
        h, w = args.source_size
        root = ensure_videomatte_sample(
            Path(tmp) / "VideoMatte240K", clips=2, frames=8, size=(h, w), backgrounds=8
        )
        rows, stages = [], []
        for size in args.sizes:
            pipelines = {"mattebench": Ours(root, size)}
            if args.official:
                pipelines["official"] = Official(args.official, root, size)
            rates = throughput(pipelines, args.samples, args.rounds)
            rows.append((size, rates))
            for name, pipeline in pipelines.items():
                parts = breakdown(pipeline, max(4, args.samples // 4))
                if name == "mattebench":
                    parts["composite (per batch)"] = composite_ms(pipeline)
                stages.append((size, name, parts))
    print_tables(args, rows, stages)


def print_tables(args, rows, stages) -> None:
    h, w = args.source_size
    print(
        f"Training samples from {w}x{h} JPEG frames (VideoMatte240K layout), one core, "
        f"torch {torch.__version__}, OpenCV {cv2.__version__}, albumentations {A.__version__}\n"
    )
    official = bool(args.official)
    print(
        "| output | mattebench samples/s |" + (" official samples/s | ratio |" if official else "")
    )
    print("|---:|---:|" + ("---:|---:|" if official else ""))
    for size, rates in rows:
        line = f"| {size}x{size} | {rates['mattebench']:.1f} |"
        if official:
            line += f" {rates['official']:.1f} | {rates['mattebench'] / rates['official']:.1f}x |"
        print(line)
    columns = ["decode", "geometry", "photometric", "to tensor", "composite (per batch)"]
    print("\nms per sample | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for size, name, parts in stages:
        cells = [f"{parts[c]:.1f}" if c in parts else "—" for c in columns]
        print(f"| {name} {size}x{size} | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source-size", type=parse_size, default=(1080, 1920), metavar="WxH")
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--official", type=Path, help="BackgroundMattingV2 code to compare with")
    parser.add_argument("--samples", type=int, default=48, help="timed samples per pipeline")
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds")
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
