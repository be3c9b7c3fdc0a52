"""The shared data layer: readers, decoding, compositing, trimaps, augmentation, the datamodule.

One home per idea: files -> arrays (extensions, image / matte / trimap readers, the RGBA rule):
`decode`; I = αF + (1 − α)B: `compose`; what a trimap value means, and trimaps from alpha:
`trimap`; one reader per on-disk layout: `sources`; generated stand-ins in those layouts:
`samples`; per-sample albumentations pipelines: `sample_augment` (BGMv2's own transforms:
`transforms`, affine matrices: `geometry`); per-batch augmentation on the device: `augment`;
light sources: `lighting`; previous-frame alpha: `temporal`.
`MattingDataModule` turns foreground sources and background folders into Batch-contract
batches (DESIGN.md). Nothing here knows about methods.

The names below load on first use (PEP 562), so importing one pure module such as
`mattebench.data.trimap` (model code does) does not import Lightning with the datamodule.
"""

from importlib import import_module

#: Public name -> the submodule that defines it.
_EXPORTS = {
    "BatchAugment": "augment",
    "CompositionDataset": "datasets",
    "LightingAugment": "lighting",
    "MattingDataModule": "datamodule",
    "PerSampleAugment": "sample_augment",
    "PreviousAlpha": "temporal",
    "bgmv2_augment": "sample_augment",
    "collate": "datasets",
    "composite": "compose",
    "modnet_trimap": "trimap",
    "seed_worker": "datasets",
    "trimap_from_alpha": "trimap",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
