"""`MattingDataModule`: foreground sources + background folders -> Batch-contract batches.

Per-sample work (decode, BGMv2 per-sample augmentation, trimaps) runs in DataLoader workers;
per-batch work (crop, shadow, composite, noise, plate jitter and misalignment) runs on the
training device in `on_after_batch_transfer`, as BGMv2's `train_base.py` does it on the GPU.
It names no method: every batch carries the same keys (DESIGN.md, "Batch"), and what a method
needs on top in training it reads from the method's declarations (`configure_for`): the trimap
recipe its loss needs and the multiple its input sides must be.
Validation and test read only built test sets (`mattebench.testsets`): files written once per
protocol, identical for every method and run, at their native resolution.
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from lightning.pytorch import LightningDataModule
from torch.utils.data import DataLoader, Sampler

from mattebench.data.augment import BatchAugment
from mattebench.data.compose import composite
from mattebench.data.datasets import CompositionDataset, collate, seed_worker
from mattebench.data.sample_augment import PerSampleAugment, bgmv2_augment
from mattebench.data.sampling import EpochSampler
from mattebench.data.sources.base import Source
from mattebench.data.temporal import PreviousAlpha
from mattebench.data.trimap import TrimapRecipe
from mattebench.testsets.build import ensure
from mattebench.testsets.dataset import TestSet
from mattebench.testsets.protocols import Protocol, default_protocol

_STAGES = {  # stage -> the (foreground, background) attributes it reads
    "fit": (("train", "train_backgrounds"), ("val", "val_backgrounds")),
    "validate": (("val", "val_backgrounds"),),
    "test": (("test", "test_backgrounds"),),
    "predict": (("test", "test_backgrounds"),),
}


class MattingDataModule(LightningDataModule):
    """Composites foregrounds onto backgrounds on the fly, BGMv2-style, for any method.

    Args:
        train, val, test: foreground sources (e.g. `VideoMatteFrames`); any may be None.
        train_backgrounds, val_backgrounds, test_backgrounds: `BackgroundFolder`s, one per
            foreground source given.
        sample: called in `prepare_data` (once per node) to generate a `*_sample` dataset, e.g.
            `functools.partial(ensure_videomatte_sample, root)`; None for real datasets.
        size: side of the square samples (BGMv2 base 512, refine 2048).
        batch_size: global batch size, split across devices (BGMv2 `train_refine.py` divides
            its batch of 4 by the number of GPUs).
        num_workers, pin_memory, persistent_workers: DataLoader settings.
        val_samples: read this many samples of the built validation set (`TestSet`'s
            `limit`: evenly spread images, or the first frames of every clip); None for all.
        test_samples: likewise for the test set (None: all, the default).
        seed: seeds the training stream: order, sample draws, batch draws, each a function of
            (seed, epoch, index) so that workers and resuming do not change it (`sampling`).
        eval_seed: the seed the val/test sets are built with; apart from `seed` so that a
            multirun over seeds evaluates every run on the same files.
        sample_augment: a `PerSampleAugment` (the data configs declare its albumentations
            pipelines), or keyword arguments of `bgmv2_augment` (default: BGMv2 base at `size`).
        batch_augment: a `BatchAugment` or its keyword arguments (default: BGMv2 base).
        fixed_train: augment each training sample the same way every epoch (draws seeded by the
            sample, per-batch draws by the batch's samples), e.g. to overfit a batch; the
            augmentation still applies.
        corrupt: `"raise"` (default) or `"skip"`: a training image that cannot be decoded is
            replaced by another sample drawn deterministically, with a warning naming it; the
            files skipped so far are counted in `skipped` (file message -> times). Evaluation
            always raises (the error names the file).
        testsets: the test-set protocols (`mattebench.testsets`), keyed `val`, `test` and any
            other named set (e.g. `test_hd`), built from the val (resp. test) source into
            `<testset_root>/<name>/` on first use; a split without one gets
            `default_protocol` of its source.
        testset_root: where the sets are built (default: `testsets/` beside the source).
        test_set: which entry of `testsets` the test stage reads (default `test`).
        plate: the plate plate-based methods get from sets that have one: `"perturbed"` (the
            BGMv2 protocol, default) or `"clean"`.
        prev_alpha: a `PreviousAlpha` or its keyword arguments: add `prev_alpha` to every
            training item (temporal methods); None (default) leaves it out. Never at
            validation or test: a temporal method gets its own previous prediction there.
        epoch_images: an epoch is this many training images drawn at random (several passes
            when the source holds fewer), so per-epoch schedules run per so many images (the
            greenScreen.ai COCO recipe: 500); None (default): one pass over the source.

    A source whose items carry their own image or background (`self_contained = True`, e.g.
    `AIM500`, `Composition1K(split="test")`, `COCOPerson`) needs no background folder. A
    segmentation source (`segmentation = True`: `COCOPerson`) can also be trained on: its photos
    are augmented with their masks (no compositing) and its batches carry `mask`.
    """

    def __init__(
        self,
        train: Source | None = None,
        val: Source | None = None,
        test: Source | None = None,
        train_backgrounds: Source | None = None,
        val_backgrounds: Source | None = None,
        test_backgrounds: Source | None = None,
        sample: Callable[[], Any] | None = None,
        size: int = 512,
        batch_size: int = 8,
        num_workers: int = 4,
        val_samples: int | None = 50,
        test_samples: int | None = None,
        seed: int = 0,
        eval_seed: int = 0,
        sample_augment: PerSampleAugment | Mapping | None = None,
        batch_augment: BatchAugment | Mapping | None = None,
        pin_memory: bool = True,
        persistent_workers: bool = False,
        fixed_train: bool = False,
        corrupt: str = "raise",
        testsets: Mapping[str, Protocol | Mapping] | None = None,
        testset_root: str | Path | None = None,
        test_set: str = "test",
        plate: str = "perturbed",
        prev_alpha: PreviousAlpha | Mapping | None = None,
        epoch_images: int | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(
            "size",
            "batch_size",
            "num_workers",
            "val_samples",
            "test_samples",
            "seed",
            "eval_seed",
            "fixed_train",
            "corrupt",
            "test_set",
            "plate",
        )
        self.train, self.val, self.test = train, val, test
        self.train_backgrounds, self.val_backgrounds = train_backgrounds, val_backgrounds
        self.test_backgrounds = test_backgrounds
        self.sample = sample
        self.size, self.batch_size, self.num_workers = size, batch_size, num_workers
        self.val_samples, self.test_samples = val_samples, test_samples
        self.seed, self.eval_seed = seed, eval_seed
        if not isinstance(sample_augment, PerSampleAugment):
            sample_augment = bgmv2_augment(size, **(sample_augment or {}))
        self.sample_augment = sample_augment
        self.batch_augment = _build(batch_augment, BatchAugment)
        self.pin_memory = pin_memory and torch.cuda.is_available()
        self.persistent_workers = persistent_workers and num_workers > 0
        self.fixed_train = fixed_train
        self.corrupt = corrupt
        self.testsets = dict(testsets or {})
        self.testset_root = Path(testset_root) if testset_root is not None else None
        self.test_set, self.plate = test_set, plate
        self.prev_alpha = _build(prev_alpha, PreviousAlpha) if prev_alpha is not None else None
        self.train_trimap: TrimapRecipe | None = None
        self.crop_multiple = self.batch_augment.crop_multiple  # the data config's own
        if epoch_images is not None and epoch_images < 1:
            raise ValueError(f"epoch_images must be >= 1 or null (one pass), got {epoch_images}")
        self.epoch_images = epoch_images
        self._skipped: Counter[str] = Counter()
        self.datasets: dict[str, CompositionDataset | TestSet] = {}

    def prepare_data(self) -> None:
        if self.sample is not None:
            self.sample()

    def configure_for(self, method: Any) -> None:
        """Serve `method`'s declared training needs (`MattingMethod`): its training trimap recipe
        on every training item (`training_trimap()`), and training crops whose sides are
        multiples of its `input_multiple` (and of any `batch_augment.crop_multiple` the data
        config asks for). `setup` calls it with the trainer's method (`trainer.fit` sets up
        again, so a datamodule set up before the method existed is served too); call it
        yourself when feeding batches to a method without a Trainer. A module that declares
        neither (not a `MattingMethod`) gets no trimap and any crop side."""
        recipe = getattr(method, "training_trimap", None)
        self.train_trimap = recipe() if recipe is not None else None
        if "train" in self.datasets:
            self.datasets["train"].train_trimap = self.train_trimap
        multiple = getattr(method, "input_multiple", 1)
        self.batch_augment.crop_multiple = math.lcm(self.crop_multiple, multiple)

    def setup(self, stage: str | None = None) -> None:
        """Scan the sources the stage needs (a missing dataset fails here, before training);
        in a Trainer, first take its method's declared needs (`configure_for`)."""
        method = getattr(self.trainer, "lightning_module", None)
        if method is not None:
            self.configure_for(method)
        pairs = _STAGES[stage] if stage else tuple(p for ps in _STAGES.values() for p in ps)
        for split, bg_name in pairs:
            foregrounds, backgrounds = getattr(self, split), getattr(self, bg_name)
            if foregrounds is None:
                optional = stage is None or (stage == "fit" and split == "val")
                if optional:
                    continue
                raise ValueError(f"MattingDataModule({split}=...) is needed to {stage}")
            if backgrounds is None and not getattr(foregrounds, "self_contained", False):
                raise ValueError(f"MattingDataModule({split}=...) needs {bg_name}=...")
            foregrounds.scan()
            if backgrounds is not None:
                backgrounds.scan()
            if split not in self.datasets:
                self.datasets[split] = (
                    self._dataset(foregrounds)
                    if split == "train"
                    else self._testset(split, foregrounds, backgrounds)
                )

    @property
    def _rank(self) -> int:
        return self.trainer.global_rank if self.trainer is not None else 0

    def _dataset(self, foregrounds) -> CompositionDataset:
        return CompositionDataset(
            foregrounds,
            self.train_backgrounds,
            self.sample_augment,
            self.size,
            seed=_derive(self.seed, 1),  # items are seeded by (seed, epoch, index): see sampling
            fixed=self.fixed_train,
            corrupt=self.corrupt,
            prev_alpha=self.prev_alpha,
            train_trimap=self.train_trimap,
        )

    # --- test sets ---

    def protocol(self, name: str, foregrounds) -> Protocol:
        """The protocol of the set `name` (`val`, `test`, ...): configured, or the default."""
        protocol = self.testsets.get(name)
        if protocol is None:
            return default_protocol(foregrounds, f"{foregrounds.name.replace('/', '_')}_{name}")
        if isinstance(protocol, Mapping):
            raise TypeError(f"testsets.{name} must be a Protocol; give it a _target_")
        return protocol

    def build_testset(self, name: str, verify: bool = False) -> Path:
        """Build (or check the settings of) the set `name`; `val` reads the val source, any
        other the test source; `verify` re-hashes every file (`ensure`). Returns its folder."""
        split = "val" if name == "val" else "test"
        foregrounds = getattr(self, split)
        if foregrounds is None:
            raise ValueError(f"MattingDataModule({split}=...) is needed to build test set {name}")
        backgrounds = getattr(self, f"{split}_backgrounds")
        foregrounds.scan()
        if backgrounds is not None:
            backgrounds.scan()
        protocol = self.protocol(name, foregrounds)
        root = self.testset_root or Path(foregrounds.root) / "testsets"
        return ensure(protocol, foregrounds, backgrounds, root, self.eval_seed, verify=verify)

    def _testset(self, split: str, foregrounds, backgrounds) -> TestSet:
        """The set `split` reads, its files verified against its manifest before anything is
        scored (through the set's cache: a file checked before, unchanged since, costs a `stat`)."""
        name = self.test_set if split == "test" else split
        folder = self.build_testset(name)
        limit = self.val_samples if split == "val" else self.test_samples
        return TestSet(folder, plate=self.plate, limit=limit, verify=True)

    def testset_info(self, split: str = "test") -> dict[str, Any]:
        """The set `split`'s results were computed on: `name`, `manifest_sha256` (of the
        samples and files read), `path`, `samples` (read) `of` (in the set), `plate`, and
        `verified` (its files were checked against that hash before scoring)."""
        dataset = self.datasets.get(split)
        if not isinstance(dataset, TestSet):
            raise RuntimeError(f"no {split} test set: call setup() with the matching stage first")
        return dataset.info()

    # --- loaders ---

    def train_dataloader(self) -> DataLoader:
        # drop_last: a last batch of 1 breaks BatchNorm in training (BGMv2 issue #123)
        if "train" not in self.datasets:
            raise RuntimeError("no train dataset: call setup('fit') first")
        world = self.trainer.world_size if self.trainer is not None else 1
        sampler = EpochSampler(
            len(self.datasets["train"]),
            _derive(self.seed, 4),
            num_samples=self.epoch_images,
            num_replicas=world,
            rank=self._rank,
        )
        return self._loader("train", drop_last=True, sampler=sampler)

    def val_dataloader(self) -> DataLoader | list:
        return self._loader("val") if self.val is not None else []

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")

    def predict_dataloader(self) -> DataLoader:
        return self._loader("test")

    def _loader(
        self,
        split: str,
        drop_last: bool = False,
        sampler: Sampler | None = None,
    ) -> DataLoader:
        if split not in self.datasets:
            raise RuntimeError(f"no {split} dataset: call setup() with the matching stage first")
        dataset = self.datasets[split]
        varied = isinstance(dataset, TestSet) and not dataset.same_size
        return DataLoader(
            dataset,
            batch_size=1 if varied else self.batch_size_per_device,
            sampler=sampler,
            drop_last=drop_last,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.persistent_workers,
            collate_fn=collate,
            worker_init_fn=seed_worker,
            generator=torch.Generator().manual_seed(_derive(self.seed, self._rank, 3)),
        )

    @property
    def skipped(self) -> Counter[str]:
        """Corrupt training files skipped so far (their error message -> times), all workers.

        Counted from the batches' `meta["skipped"]` as they pass `on_after_batch_transfer`, so
        skips in DataLoader worker processes are included.
        """
        return Counter(self._skipped)

    @property
    def batch_size_per_device(self) -> int:
        world = self.trainer.world_size if self.trainer is not None else 1
        if self.batch_size % world:
            raise ValueError(f"batch_size {self.batch_size} is not divisible by {world} devices")
        return self.batch_size // world

    # --- on the device ---

    def on_after_batch_transfer(self, batch: dict, dataloader_idx: int) -> dict:
        """Training: the BGMv2 per-batch augmentation; otherwise the plain composite.

        Batches that already hold an `image` and neither `fgr` nor `bgr` (real photos, e.g.
        COCO person) are never composited: in training they get only the batch crop
        (`BatchAugment.crop`, which resizes every 4-D tensor, labels with nearest).
        """
        for meta in batch.get("meta", []):
            self._skipped.update(meta.get("skipped", ()))
        if self.trainer is not None and self.trainer.training:
            # Seeded by the batch's items (and epoch), like the items themselves: the same
            # draws whatever the workers, and again after a resume (see `sampling`).
            epoch = () if self.fixed_train else (self.trainer.current_epoch,)
            self.batch_augment.manual_seed(_derive(self.seed, 2, *epoch, *_indices(batch)))
            if _is_natural(batch):  # a real photo (segmentation): nothing to composite
                return self.batch_augment.crop(dict(batch))
            return self.batch_augment(batch)
        if "image" not in batch:
            batch = {**batch, "image": composite(batch["fgr"], batch["alpha"], batch["bgr"])}
        return batch

    # --- checkpoints ---

    def state_dict(self) -> dict[str, Any]:
        """Saved in Lightning checkpoints. The training stream needs no saved generator state
        (every draw is a function of seed, epoch and index), so this records what a resume must
        agree with, and the corrupt files skipped so far (so counts add up across a resume)."""
        return {
            "seed": self.seed,
            "epoch_images": self.epoch_images,
            "skipped": dict(self._skipped),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key in ("seed", "epoch_images"):
            if key in state and state[key] != getattr(self, key):
                warnings.warn(
                    f"resuming with data.{key}={getattr(self, key)}, but the checkpoint was "
                    f"trained with {state[key]}: the run will not continue the same data stream.",
                    stacklevel=2,
                )
        self._skipped = Counter(state.get("skipped", {}))


def _build(value, cls):
    if value is None:
        return cls()
    if isinstance(value, Mapping):
        return cls(**value)
    return value


def _is_natural(batch: dict) -> bool:
    return "image" in batch and "fgr" not in batch and "bgr" not in batch


def _indices(batch: dict) -> list[int]:
    return [meta.get("index", 0) for meta in batch.get("meta", [])]


def _derive(*keys: int) -> int:
    """A 63-bit seed from several integers (seed, rank, purpose), independent per purpose."""
    return int(np.random.SeedSequence(list(keys)).generate_state(2, np.uint64)[0] >> 1)
