"""Readers, one per on-disk dataset layout (the generated samples: `mattebench.data.samples`).

Readers touch the disk only in `scan()` or on first use, so Hydra can build them before a
`*_sample` dataset is generated.
"""

from mattebench.data.decode import read_alpha, read_image, read_rgba, read_trimap
from mattebench.data.sources.aim500 import AIM500
from mattebench.data.sources.backgrounds import BackgroundFolder
from mattebench.data.sources.base import (
    Background,
    CorruptImageError,
    DatasetLayoutError,
    DatasetNotFoundError,
    Foreground,
    Sample,
    Source,
)
from mattebench.data.sources.coco import COCOPerson
from mattebench.data.sources.composition1k import Composition1K
from mattebench.data.sources.distinctions import Distinctions646
from mattebench.data.sources.folders import ForegroundFolders
from mattebench.data.sources.photomatte import PhotoMatte85
from mattebench.data.sources.videomatte import VideoMatteFrames, VideoMatteVideos

__all__ = [
    "AIM500",
    "Background",
    "BackgroundFolder",
    "COCOPerson",
    "Composition1K",
    "CorruptImageError",
    "DatasetLayoutError",
    "DatasetNotFoundError",
    "Distinctions646",
    "Foreground",
    "ForegroundFolders",
    "PhotoMatte85",
    "Sample",
    "Source",
    "VideoMatteFrames",
    "VideoMatteVideos",
    "ensure_aim500_sample",
    "ensure_all",
    "ensure_coco_person_sample",
    "ensure_composition1k_sample",
    "ensure_distinctions646_sample",
    "ensure_folders_sample",
    "ensure_photomatte85_sample",
    "ensure_videomatte_sample",
    "generate_aim500_sample",
    "generate_coco_person_sample",
    "generate_composition1k_sample",
    "generate_distinctions646_sample",
    "generate_folders_sample",
    "generate_photomatte85_sample",
    "generate_videomatte_sample",
    "read_alpha",
    "read_image",
    "read_rgba",
    "read_trimap",
]

#: The sample generators live in `mattebench.data.samples`; the `*_sample` configs name them
#: here. Resolved on first use (PEP 562): `data.samples` imports readers from this package.
_SAMPLES = (
    "ensure_aim500_sample",
    "ensure_all",
    "ensure_coco_person_sample",
    "ensure_composition1k_sample",
    "ensure_distinctions646_sample",
    "ensure_folders_sample",
    "ensure_photomatte85_sample",
    "ensure_videomatte_sample",
    "generate_aim500_sample",
    "generate_coco_person_sample",
    "generate_composition1k_sample",
    "generate_distinctions646_sample",
    "generate_folders_sample",
    "generate_photomatte85_sample",
    "generate_videomatte_sample",
)


def __getattr__(name: str):
    if name in _SAMPLES:
        import mattebench.data.samples as samples

        return getattr(samples, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
