"""timm encoders for matting decoders: multi-scale features, never a hub download.

Decoders are wired with `encoder.feature_info.channels()` / `.reduction()` rather than hard-coded
channel lists, so swapping the backbone is a constructor argument. Weights come only from a local
file (`weights=`): timm's pretrained config is pointed at that file, and timm's own loader then
adapts the first convolution to `in_chans` and drops the classifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import timm
from torch import nn


def create_encoder(
    name: str,
    *,
    in_chans: int = 3,
    output_stride: int = 32,
    out_indices: Sequence[int] | None = None,
    weights: str | Path | None = None,
) -> nn.Module:
    """A timm model with `features_only=True`: `forward(x)` returns a list of feature maps.

    Args:
        name: timm model name, e.g. "resnet50", "mobilenetv2_100".
        in_chans: input channels; with `weights`, timm adapts the pretrained first convolution.
        output_stride: 8, 16 or 32; timm dilates the later stages instead of striding.
        out_indices: which feature levels to return (timm's default: all five).
        weights: a local timm-layout checkpoint of `name` (e.g. ImageNet weights), or None for
            random initialisation. A missing file raises instead of falling back to a download.
    """
    kwargs: dict = {"features_only": True, "in_chans": in_chans, "output_stride": output_stride}
    if out_indices is not None:
        kwargs["out_indices"] = tuple(out_indices)
    if weights is None:
        return timm.create_model(name, pretrained=False, **kwargs)
    path = Path(weights)
    if not path.is_file():
        raise FileNotFoundError(f"backbone weights file not found: {path}")
    # `source=""` keeps timm on its 'file' branch even for configs whose default source is the hub.
    overlay = {"file": str(path), "source": ""}
    return timm.create_model(name, pretrained=True, pretrained_cfg_overlay=overlay, **kwargs)
