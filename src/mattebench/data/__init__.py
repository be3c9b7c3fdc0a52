"""The shared data layer: readers, compositing, trimaps, augmentation and the datamodule.

Layouts and errors: `sources`; I = αF + (1 − α)B: `compose`; BGMv2 augmentations: `augment`;
`MattingDataModule` turns foreground sources and background folders into Batch-contract
batches (DESIGN.md). Nothing here knows about methods.
"""

from mattebench.data.augment import BatchAugment, PerSampleAugment
from mattebench.data.compose import composite
from mattebench.data.datamodule import MattingDataModule
from mattebench.data.datasets import CompositionDataset, collate, seed_worker
from mattebench.data.trimap import trimap_from_alpha

__all__ = [
    "BatchAugment",
    "CompositionDataset",
    "MattingDataModule",
    "PerSampleAugment",
    "collate",
    "composite",
    "seed_worker",
    "trimap_from_alpha",
]
