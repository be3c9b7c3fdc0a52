"""`HDMatt`: encoder E (shared by query and context patches) -> CPC -> decoder, one patch size.

The module sees patches only; cutting an image into query/context patches and stitching the
alpha patches back is `stitch.py` (inference) and the method (training).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import torch
from torch import Tensor, nn

from mattebench.data.trimap import is_background, is_foreground, unknown_mask
from mattebench.models.hdmatt.cpc import CrossPatchContext, region_masks
from mattebench.models.hdmatt.decoder import Decoder
from mattebench.models.hdmatt.encoder import Encoder

TRIMAP_ENCODINGS = {"onehot": 3, "single": 1}
#: ImageNet statistics, for the (optionally ImageNet-initialised) ResNet-34 (a choice).
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


class ContextPool(NamedTuple):
    """Encoded candidate context patches: 1/32 features (N,C,h,w) and region masks (N,3,h,w)."""

    features: Tensor
    regions: Tensor


class HDMatt(nn.Module):
    """Args:
    trimap_encoding: "onehot" (B/U/F channels, 6-channel input, GCA-style) or "single"
        (one channel in {0, 0.5, 1}, DIM-style, 4-channel input); a choice, spec §3.
    embed_channels: θ/φ/δ width (128 = C/2, a choice).
    top_k: K context patches (3, a choice).
    decoder_channels: decoder stage widths (a choice).
    atrous_rates: ASPP dilations (a choice).
    encoder_weights: a local timm resnet34 checkpoint (ImageNet) or None.
    """

    def __init__(
        self,
        trimap_encoding: str = "onehot",
        embed_channels: int = 128,
        top_k: int = 3,
        decoder_channels: Sequence[int] = (256, 128, 64, 64, 32),
        atrous_rates: Sequence[int] = (6, 12, 18),
        encoder_weights: str | Path | None = None,
    ) -> None:
        super().__init__()
        if trimap_encoding not in TRIMAP_ENCODINGS:
            raise ValueError(f"trimap_encoding must be one of {sorted(TRIMAP_ENCODINGS)}")
        self.trimap_encoding = trimap_encoding
        in_channels = 3 + TRIMAP_ENCODINGS[trimap_encoding]
        self.encoder = Encoder(in_channels, tuple(atrous_rates), encoder_weights)
        c = self.encoder.out_channels
        self.cpc = CrossPatchContext(c, embed_channels, top_k)
        self.decoder = Decoder(c, in_channels, decoder_channels)
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)

    @property
    def stride(self) -> int:
        return self.encoder.stride

    def network_input(self, image: Tensor, trimap: Tensor) -> Tensor:
        """(B,3,P,P) image in [0,1] + (B,1,P,P) trimap -> the encoder's input."""
        image = (image - self.mean) / self.std
        if self.trimap_encoding == "single":
            return torch.cat([image, trimap], dim=1)
        onehot = [is_background(trimap), unknown_mask(trimap), is_foreground(trimap)]
        return torch.cat([image, *(m.to(image.dtype) for m in onehot)], dim=1)

    def encode_pool(self, image: Tensor, trimap: Tensor) -> ContextPool:
        """Candidate context patches (N,3,P,P) + trimaps -> their 1/32 features and regions."""
        deep = self.encoder(self.network_input(image, trimap), skips=False).deep
        return ContextPool(deep, region_masks(trimap, deep.shape[-2:]))

    def forward(
        self, image: Tensor, trimap: Tensor, pool: ContextPool, exclude: Tensor | None = None
    ) -> Tensor:
        """Alpha (B,1,P,P) in [0,1] of query patches given a context pool.

        `pool` holds (B,N,...) per-query candidates (training) or (N,...) candidates shared by
        all queries (inference); `exclude` (B,N) marks candidates a query may not use.
        """
        if image.shape[-1] % self.stride or image.shape[-2] % self.stride:
            raise ValueError(f"patch sides must be multiples of {self.stride}, got {image.shape}")
        x = self.network_input(image, trimap)
        features = self.encoder(x)
        q_regions = region_masks(trimap, features.deep.shape[-2:])
        feats, regions = pool
        if feats.ndim == 4:
            feats = feats.expand(len(image), *feats.shape)
            regions = regions.expand(len(image), *regions.shape)
        fused = self.cpc(features.deep, q_regions, feats, regions, exclude)
        return torch.sigmoid(self.decoder(fused, features, x))
