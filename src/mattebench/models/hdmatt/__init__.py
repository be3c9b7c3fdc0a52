"""HDMatt (Yu et al., AAAI 2021): patch-based high-resolution matting with cross-patch context."""

from mattebench.models.hdmatt.cpc import CrossPatchContext, region_masks
from mattebench.models.hdmatt.model import ContextPool, HDMatt
from mattebench.models.hdmatt.stitch import blend_weights, border_weights, predict_image

__all__ = [
    "ContextPool",
    "CrossPatchContext",
    "HDMatt",
    "blend_weights",
    "border_weights",
    "predict_image",
    "region_masks",
]
