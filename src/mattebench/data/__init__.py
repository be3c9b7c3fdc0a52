"""The shared data layer: readers, compositing, trimaps, augmentation and the datamodule.

Layouts and errors: `sources`; I = αF + (1 − α)B: `compose`; BGMv2 and MODNet augmentations:
`augment`; light sources: `lighting`; previous-frame alpha: `temporal`; trimaps: `trimap`.
`MattingDataModule` turns foreground sources and background folders into Batch-contract
batches (DESIGN.md). Nothing here knows about methods.
"""

from mattebench.data.augment import BatchAugment, PerSampleAugment, RescaleCrop
from mattebench.data.compose import composite
from mattebench.data.datamodule import MattingDataModule
from mattebench.data.datasets import CompositionDataset, collate, seed_worker
from mattebench.data.lighting import LightingAugment
from mattebench.data.temporal import PreviousAlpha
from mattebench.data.trimap import modnet_trimap, trimap_from_alpha

__all__ = [
    "BatchAugment",
    "CompositionDataset",
    "LightingAugment",
    "MattingDataModule",
    "PerSampleAugment",
    "PreviousAlpha",
    "RescaleCrop",
    "collate",
    "composite",
    "modnet_trimap",
    "seed_worker",
    "trimap_from_alpha",
]
