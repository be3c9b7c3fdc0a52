"""Torch datasets that pair foregrounds with backgrounds and augment them, plus loader helpers.

Items are not composited here: compositing (and the shadow, noise and plate perturbations that
must happen around it) runs per batch on the training device (`BatchAugment`).
"""

from __future__ import annotations

import copy
import random
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset, default_collate

from mattebench.data.decode import CorruptImageError, decode_at_least
from mattebench.data.sample_augment import PerSampleAugment
from mattebench.data.sources.base import Background, Foreground
from mattebench.data.temporal import PreviousAlpha
from mattebench.data.trimap import TrimapRecipe


class CompositionDataset(Dataset):
    """Foreground `i` of a source with a background, both augmented to `size`².

    Training: a random background and the per-sample training augmentation, drawn from a
    generator seeded by `(seed, epoch, i)` — the sampler (`sampling.EpochSampler`) gives each
    index as an `(epoch, k)` pair — so the stream does not depend on the number of workers and a
    resumed run draws what an uninterrupted one would; with `fixed=True` from `(seed, i)`, so
    sample `i` repeats exactly every epoch (to overfit a batch). It serves training only:
    validation and test read built test sets (`mattebench.testsets`).

    `corrupt="skip"`: during training, a foreground or background that cannot be decoded
    (`CorruptImageError`) is replaced by another one drawn deterministically from `(seed, index,
    attempt)`, with a warning naming the file (once per file and process); the files are in
    `self.skipped` (this process) and in the item's `meta["skipped"]` (so that the datamodule can
    count them across workers). After `max_skips` corrupt draws in a row the error is raised.
    `"raise"` (default) raises the error, which names the file.

    `prev_alpha` (a `temporal.PreviousAlpha`): composed items also get `prev_alpha`, the
    previous frame's alpha as the model would see it — the real previous frame of the clip when
    the source has clips (`by_clip`), warped with the very same per-sample geometry (the
    augmentation's generator is replayed), zeros on a clip's first frame, or synthesised from
    the current alpha for image sources — then emptied or badly warped at random.
    `train_trimap` (a recipe `(alpha, rng) -> trimap`, the one the method declares in
    `MattingMethod.training_trimap`, a `trimap.TrimapRecipe`) adds a training trimap to
    training items, drawn with the item's generator.

    Segmentation sources (`segmentation = True`, e.g. `COCOPerson`) are natural photos with a
    binary person mask: in training, the photo and its mask get one shared geometry
    (`PerSampleAugment.natural`: affine rescale-and-crop to `size`², flip; colour jitter on the
    photo only) and nothing is composited. Their items also carry `mask` (1,S,S) = alpha > 0.5
    in {0, 1}.

    Items: `fgr` (3,S,S), `alpha` (1,S,S), `bgr` (3,S,S) float32 in [0, 1], `trimap` (1,S,S)
    with a training-trimap recipe, `image` (3,S,S) for items that carry one, and `meta` (a
    dict, kept as a list by `collate`).
    """

    def __init__(
        self,
        foregrounds: Sequence[Foreground],
        backgrounds: Sequence[Background] | None,
        augment: PerSampleAugment,
        size: int,
        seed: int = 0,
        indices: Sequence[int] | None = None,
        fixed: bool = False,
        corrupt: str = "raise",
        max_skips: int = 10,
        prev_alpha: PreviousAlpha | None = None,
        train_trimap: TrimapRecipe | None = None,
    ) -> None:
        assert corrupt in CORRUPT_POLICIES, f"corrupt must be one of {CORRUPT_POLICIES}"
        self.foregrounds, self.backgrounds = foregrounds, backgrounds
        self.augment, self.size, self.seed = augment, size, seed
        self.fixed = fixed
        self.indices = list(range(len(foregrounds)) if indices is None else indices)
        self.corrupt, self.max_skips = corrupt, max_skips
        self.prev_alpha, self.train_trimap = prev_alpha, train_trimap
        self.skipped: list[str] = []
        self._warned: set[str] = set()

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any]:
        """`key`: an index, or an `(epoch, index)` pair from `EpochSampler` (training)."""
        epoch, k = key if isinstance(key, tuple) else (0, key)
        i = self.indices[k]
        rng = np.random.default_rng([self.seed, i] if self.fixed else [self.seed, epoch, i])
        skipped: list[str] = []
        segmentation = getattr(self.foregrounds, "segmentation", False)
        with self._decoding(self.foregrounds, "natural" if segmentation else "foreground"):
            fg, i = self._fetch(self.foregrounds, i, 0, skipped)
        if segmentation and getattr(fg, "image", None) is not None:
            item = self._natural(fg, rng)
        else:
            item = self._composed(fg, i, rng, skipped)
        if segmentation:
            item["mask"] = (item["alpha"] > 0.5).float()
        meta = {**fg.meta, "index": i, "size": tuple(fg.pha.shape[:2])}
        if "bg" in item:
            meta["background"] = item.pop("bg")
        if skipped:
            meta["skipped"] = skipped
        item["meta"] = meta
        return item

    def _composed(self, fg, i: int, rng, skipped: list[str]) -> dict[str, Any]:
        """The BGMv2 path: fgr + pha and a background plate, augmented to `size`²."""
        if fg.fgr is None:
            raise ValueError(
                f"{fg.meta.get('source')} item {fg.meta.get('id')} has no foreground colour "
                "(a natural image); it can be evaluated but not composited for training"
            )
        n = len(self.backgrounds) if self.backgrounds is not None else 0
        if n == 0:
            raise ValueError(
                f"{fg.meta.get('source')} items need a background folder to be composited onto"
            )
        j = int(rng.integers(n))
        with self._decoding(self.backgrounds, "background"):
            bg, j = self._fetch(self.backgrounds, j, 1, skipped)
        replay = copy.deepcopy(rng)  # the previous frame gets the same geometry as this one
        fgr, pha, bgr = self.augment(fg.fgr, fg.pha, bg.bgr, self.size, rng)
        item = {"fgr": _chw(fgr), "alpha": _chw(pha), "bgr": _chw(bgr)}
        if self.train_trimap is not None:
            item["trimap"] = _chw(self.train_trimap(pha, rng))
        if self.prev_alpha is not None:
            previous = self._previous_frame_alpha(i, replay)
            item["prev_alpha"] = _chw(self.prev_alpha(pha, previous, rng).astype(np.float32))
        item["bg"] = f"{bg.meta['source']}/{bg.meta['id']}"
        return item

    def _natural(self, fg, rng) -> dict[str, Any]:
        """A training photo with its label (segmentation sources): image and alpha augmented
        with one geometry (`PerSampleAugment.natural`), nothing composited."""
        image, pha = self.augment.natural(fg.image, fg.pha, self.size, rng)
        item = {"image": _chw(image), "alpha": _chw(pha)}
        if self.train_trimap is not None:
            item["trimap"] = _chw(self.train_trimap(pha, rng))
        return item

    def _previous_frame_alpha(self, i: int, replay: np.random.Generator) -> np.ndarray | None:
        """The clip's previous frame through this item's augmentation; zeros on a clip's first
        frame (there is none: the temporal MODNet recipe, specs/modnet.md §5.1); None for a
        source without clips (`PreviousAlpha` synthesises one)."""
        clips = getattr(self.foregrounds, "by_clip", None)
        if not clips:
            return None
        if not any(i in r and i - 1 in r for r in clips.values()):
            return np.zeros((self.size, self.size), np.float32)
        with self._decoding(self.foregrounds, "foreground"):
            prev = self.foregrounds[i - 1]
        return self.augment.foreground(prev.fgr, prev.pha, self.size, replay)[1]

    def _decoding(self, source, job: str):
        """Reads decode at the smallest size the `job` pipeline needs (a 512² sample of an HD
        frame: half size; `decode.decode_at_least`), where the source opts in."""
        opted_in = getattr(source, "reduced_decoding", False)
        return decode_at_least(self.augment.min_source_side(job) if opted_in else None)

    def _fetch(self, source, index: int, kind: int, skipped: list[str]):
        """`source[index]`, or with `corrupt="skip"` another index if it is corrupt."""
        for attempt in range(self.max_skips + 1):
            try:
                return source[index], index
            except CorruptImageError as error:
                if self.corrupt != "skip" or attempt == self.max_skips:
                    raise
                self._record(error, skipped)
                draw = np.random.default_rng([self.seed, index, attempt, kind, 0xC0])
                index = int(draw.integers(len(source)))
        raise AssertionError("unreachable")

    def _record(self, error: CorruptImageError, skipped: list[str]) -> None:
        message = str(error)
        skipped.append(message)
        self.skipped.append(message)
        if message not in self._warned:
            self._warned.add(message)
            warnings.warn(f"skipping a corrupt image: {message}", CorruptImageWarning, stacklevel=3)


class CorruptImageWarning(UserWarning):
    """A corrupt training image was skipped (`corrupt="skip"`); the message names it."""


CORRUPT_POLICIES = ("raise", "skip")


def _chw(image: np.ndarray) -> Tensor:
    image = image[None] if image.ndim == 2 else image.transpose(2, 0, 1)
    return torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))


def collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack the tensors; keep `meta` as a list of per-sample dicts (the Batch contract)."""
    batch = default_collate([{k: v for k, v in item.items() if k != "meta"} for item in items])
    batch["meta"] = [item.get("meta", {}) for item in items]
    return batch


def seed_worker(worker_id: int) -> None:
    """DataLoader `worker_init_fn`: seed the global RNGs of a worker from the loader's generator,
    for library code that still draws from them (the datasets' own draws are seeded per item).

    PyTorch gives worker k the seed `base_seed + k`, with `base_seed` drawn from the
    DataLoader's `generator` each epoch (PyTorch "Reproducibility" notes). Never
    `cv2.setNumThreads` here: in a forked worker it tears down the parent's OpenCV thread pool
    and can hang forever.
    """
    seed = torch.initial_seed()
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 - for code that still draws from it
