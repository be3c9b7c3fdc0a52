"""The shared data layer: readers, compositing, trimaps, augmentation and the datamodule.

Layouts and errors: `sources`; I = αF + (1 − α)B: `compose`; per-sample albumentations
pipelines: `sample_augment` (BGMv2's own transforms: `transforms`, affine matrices: `geometry`);
per-batch augmentation on the device: `augment`; light sources: `lighting`; previous-frame
alpha: `temporal`; trimaps: `trimap`.
`MattingDataModule` turns foreground sources and background folders into Batch-contract
batches (DESIGN.md). Nothing here knows about methods.
"""

from mattebench.data.augment import BatchAugment
from mattebench.data.compose import composite
from mattebench.data.datamodule import MattingDataModule
from mattebench.data.datasets import CompositionDataset, collate, seed_worker
from mattebench.data.lighting import LightingAugment
from mattebench.data.sample_augment import PerSampleAugment, bgmv2_augment
from mattebench.data.temporal import PreviousAlpha
from mattebench.data.trimap import modnet_trimap, trimap_from_alpha

__all__ = [
    "BatchAugment",
    "CompositionDataset",
    "LightingAugment",
    "MattingDataModule",
    "PerSampleAugment",
    "PreviousAlpha",
    "bgmv2_augment",
    "collate",
    "composite",
    "modnet_trimap",
    "seed_worker",
    "trimap_from_alpha",
]
