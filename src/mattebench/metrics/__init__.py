"""Matting metrics with the official Deep Image Matting definitions (and the mmagic 1.x ones).

`SAD`, `MSE`, `GradientError`, `ConnectivityError`, `MAD` score images, `DtSSD` scores clips,
`MattingMetrics` bundles the image metrics under stable names; `functional` has per-image
versions of each. Facts and sources: specs/metrics.md.
"""

from mattebench.metrics.collection import METRICS, MattingMetrics
from mattebench.metrics.image import MAD, MSE, SAD, ConnectivityError, GradientError, MattingMetric
from mattebench.metrics.inputs import CONVENTIONS, Convention
from mattebench.metrics.video import DtSSD

__all__ = [
    "CONVENTIONS",
    "MAD",
    "METRICS",
    "MSE",
    "SAD",
    "ConnectivityError",
    "Convention",
    "DtSSD",
    "GradientError",
    "MattingMetric",
    "MattingMetrics",
]
