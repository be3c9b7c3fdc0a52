"""Torch datasets that pair foregrounds with backgrounds and augment them, plus loader helpers.

Items are not composited here: compositing (and the shadow, noise and plate perturbations that
must happen around it) runs per batch on the training device (`BatchAugment`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, default_collate, get_worker_info

from mattebench.data.augment import PerSampleAugment
from mattebench.data.sources.base import Background, Foreground
from mattebench.data.trimap import trimap_from_alpha


class CompositionDataset(Dataset):
    """Foreground `i` of a source with a background, both augmented to `size`².

    Training: a random background and the per-sample training augmentation, drawn from this
    dataset's generator (reseeded per DataLoader worker by `seed_worker`), or with `fixed=True`
    from a generator seeded by `(seed, i)`, so sample `i` repeats exactly every epoch (to overfit
    a batch). Evaluation (`train=False`): background `i % len(backgrounds)` — BGMv2's
    `ZipDataset` pairing — and the validation affine drawn from a generator seeded by
    `(seed, i)`, so every run and every method sees the same images; a BGMv2-protocol `trimap`
    is added.

    Items: `fgr` (3,S,S), `alpha` (1,S,S), `bgr` (3,S,S) float32 in [0, 1], `trimap` (1,S,S)
    when evaluating, and `meta` (a dict, kept as a list by `collate`).
    """

    def __init__(
        self,
        foregrounds: Sequence[Foreground],
        backgrounds: Sequence[Background],
        augment: PerSampleAugment,
        size: int,
        train: bool,
        seed: int = 0,
        indices: Sequence[int] | None = None,
        fixed: bool = False,
    ) -> None:
        self.foregrounds, self.backgrounds = foregrounds, backgrounds
        self.augment, self.size, self.train, self.seed = augment, size, train, seed
        self.fixed = fixed or not train
        self.indices = list(range(len(foregrounds)) if indices is None else indices)
        self.reseed(seed)

    def reseed(self, seed: int) -> None:
        """Restart the training draws (each DataLoader worker gets its own seed)."""
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, k: int) -> dict[str, Any]:
        i = self.indices[k]
        rng = np.random.default_rng([self.seed, i]) if self.fixed else self.rng
        n = len(self.backgrounds)
        j = int(rng.integers(n)) if self.train else i % n  # random, or BGMv2's zip pairing
        fg, bg = self.foregrounds[i], self.backgrounds[j]
        fgr, pha, bgr = self.augment(fg.fgr, fg.pha, bg.bgr, self.size, rng, train=self.train)
        item = {"fgr": _chw(fgr), "alpha": _chw(pha), "bgr": _chw(bgr)}
        if not self.train:
            item["trimap"] = _chw(trimap_from_alpha(pha))
        meta = {**fg.meta, "index": i, "size": tuple(fg.pha.shape[:2])}
        meta["background"] = f"{bg.meta['source']}/{bg.meta['id']}"
        item["meta"] = meta
        return item


def _chw(image: np.ndarray) -> Tensor:
    image = image[None] if image.ndim == 2 else image.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))


def collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack the tensors; keep `meta` as a list of per-sample dicts (the Batch contract)."""
    batch = default_collate([{k: v for k, v in item.items() if k != "meta"} for item in items])
    batch["meta"] = [item.get("meta", {}) for item in items]
    return batch


def seed_worker(worker_id: int) -> None:
    """DataLoader `worker_init_fn`: seed every RNG a worker uses from the loader's generator.

    PyTorch gives worker k the seed `base_seed + k`, with `base_seed` drawn from the
    DataLoader's `generator` each epoch, so a seeded generator makes the augmentation stream
    reproducible (PyTorch "Reproducibility" notes). Never `cv2.setNumThreads` here: in a forked
    worker it tears down the parent's OpenCV thread pool and can hang forever.
    """
    seed = torch.initial_seed()
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - for code that still draws from it
    info = get_worker_info()
    if info is not None and hasattr(info.dataset, "reseed"):
        info.dataset.reseed(seed)
