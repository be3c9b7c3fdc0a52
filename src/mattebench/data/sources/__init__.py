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
    "read_alpha",
    "read_image",
    "read_rgba",
    "read_trimap",
]


def __getattr__(name: str):
    """`ensure_*` / `generate_*`: the sample generators, which live in `mattebench.data.samples`
    (run configs saved before they moved name them here). Resolved on first use (PEP 562),
    since `data.samples` imports readers from this package."""
    if name.startswith(("ensure_", "generate_")):
        import mattebench.data.samples as samples

        if name in samples.__all__:
            return getattr(samples, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
