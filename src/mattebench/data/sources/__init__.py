"""Readers, one per on-disk dataset layout, and generators of small samples in those layouts.

Readers touch the disk only in `scan()` or on first use, so Hydra can build them before a
`*_sample` dataset is generated.
"""

from mattebench.data.sources.backgrounds import BackgroundFolder
from mattebench.data.sources.base import (
    Background,
    CorruptImageError,
    DatasetLayoutError,
    DatasetNotFoundError,
    Foreground,
    Source,
    read_image,
)
from mattebench.data.sources.synthetic import ensure_videomatte_sample, generate_videomatte_sample
from mattebench.data.sources.videomatte import VideoMatteFrames, VideoMatteVideos

__all__ = [
    "Background",
    "BackgroundFolder",
    "CorruptImageError",
    "DatasetLayoutError",
    "DatasetNotFoundError",
    "Foreground",
    "Source",
    "VideoMatteFrames",
    "VideoMatteVideos",
    "ensure_videomatte_sample",
    "generate_videomatte_sample",
    "read_image",
]
