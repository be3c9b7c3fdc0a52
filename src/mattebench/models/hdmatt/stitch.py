"""Crop-and-stitch inference: overlapping query patches, blended by distance to patch borders.

Blending (a choice, spec §3/§5): w(p) = min(1, (d(p) + 1) / margin), d = distance in pixels to
the nearest border of the patch that lies inside the image (image borders do not count), and
α(x) = Σ_i w_i(x) α_i(x) / Σ_i w_i(x). d is a min over the two axes, so w is the min of two 1-D
ramps and is computed analytically per patch.

Memory stays bounded by the image: one numerator and one weight-sum buffer of the image's size,
the context pool's 1/32 features (one non-overlapping grid of patch-size cells, encoded once per
image, `batch` cells at a time) and `batch` query patches in flight. Query patches without an
unknown pixel are never run: they cannot change a pixel of the unknown band (every patch that
covers an unknown pixel is run, so its weight sum is unchanged), and known pixels are copied
from the trimap.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from mattebench.data.trimap import unknown_mask
from mattebench.models.hdmatt.model import ContextPool, HDMatt


def starts(length: int, patch: int, step: int) -> list[int]:
    """Patch origins along one axis of `length` (>= patch): every `step`, the last flush with
    the end."""
    last = length - patch
    return sorted({*range(0, last, step), last})


def ramp(start: int, patch: int, length: int, margin: int) -> Tensor:
    """1-D weights min(1, (d + 1) / margin) of a patch at `start` on an axis of `length`."""
    d = torch.full((patch,), float("inf"))
    pos = torch.arange(patch, dtype=torch.float32)
    if start > 0:
        d = torch.minimum(d, pos)
    if start + patch < length:
        d = torch.minimum(d, patch - 1 - pos)
    return ((d + 1) / margin).clamp(max=1.0)


def blend_weights(y: int, x: int, patch: int, size: tuple[int, int], margin: int) -> Tensor:
    """(patch, patch) blending weights of the patch at (y, x) in an image of `size`."""
    wy = ramp(y, patch, size[0], margin)
    wx = ramp(x, patch, size[1], margin)
    return torch.minimum(wy[:, None], wx[None, :])


def border_weights(patch: int, margin: int) -> Tensor:
    """Blending weights with all four borders counted: the training loss mask."""
    return blend_weights(1, 1, patch, (patch + 2, patch + 2), margin)


class Stitcher:
    """Accumulates weighted alpha patches into one output and one weight-sum buffer."""

    def __init__(self, size: tuple[int, int], patch: int, margin: int, device=None) -> None:
        self.size, self.patch, self.margin = size, patch, margin
        self.num = torch.zeros(size, device=device)
        self.den = torch.zeros(size, device=device)

    def add(self, alpha: Tensor, y: int, x: int) -> None:
        w = blend_weights(y, x, self.patch, self.size, self.margin).to(self.num.device)
        window = (slice(y, y + self.patch), slice(x, x + self.patch))
        self.num[window] += w * alpha.reshape(self.patch, self.patch).float()
        self.den[window] += w

    def result(self) -> Tensor:
        """Blended alpha (H, W); 0 where no patch was added."""
        return self.num / self.den.clamp_min(1e-12)


def pad_to(x: Tensor, height: int, width: int) -> Tensor:
    """Pad the bottom/right of (..., H, W) to at least height x width (reflect when it can,
    replicate for pads as large as the image)."""
    ph, pw = max(0, height - x.shape[-2]), max(0, width - x.shape[-1])
    if ph == pw == 0:
        return x
    mode = "reflect" if ph < x.shape[-2] and pw < x.shape[-1] else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


@torch.no_grad()
def encode_grid(
    model: HDMatt, image: Tensor, trimap: Tensor, patch: int, batch: int
) -> tuple[ContextPool, list[tuple[int, int]]]:
    """The context pool: non-overlapping patch-size cells tiling the (padded) image."""
    cells = [
        (y, x)
        for y in starts(image.shape[-2], patch, patch)
        for x in starts(image.shape[-1], patch, patch)
    ]
    feats, regions = [], []
    for i in range(0, len(cells), batch):
        chunk = cells[i : i + batch]
        pool = model.encode_pool(_crops(image, chunk, patch), _crops(trimap, chunk, patch))
        feats.append(pool.features)
        regions.append(pool.regions)
    return ContextPool(torch.cat(feats), torch.cat(regions)), cells


@torch.no_grad()
def predict_image(
    model: HDMatt, image: Tensor, trimap: Tensor, patch: int = 320, margin: int = 32, batch: int = 8
) -> Tensor:
    """Alpha (1,1,H,W) of one image (1,3,H,W) with its trimap (1,1,H,W), any size.

    Query patches step by `patch - margin`; a query may not take as context the grid cell that
    holds its centre (the candidates are the grid minus the query).
    """
    if margin < 1 or margin >= patch:
        raise ValueError(f"margin must be in [1, patch), got {margin} for patch {patch}")
    h, w = image.shape[-2:]
    image, trimap = pad_to(image, patch, patch), pad_to(trimap, patch, patch)
    size = tuple(image.shape[-2:])
    pool, cells = encode_grid(model, image, trimap, patch, batch)
    unknown = unknown_mask(trimap)
    queries = [
        (y, x)
        for y in starts(size[0], patch, patch - margin)
        for x in starts(size[1], patch, patch - margin)
        if unknown[..., y : y + patch, x : x + patch].any()
    ]
    origins = torch.tensor(cells, device=image.device).view(1, -1, 2)
    stitcher = Stitcher(size, patch, margin, image.device)
    for i in range(0, len(queries), batch):
        chunk = queries[i : i + batch]
        centres = torch.tensor(chunk, device=image.device).view(-1, 1, 2) + patch // 2
        inside = (centres >= origins) & (centres < origins + patch)
        alpha = model(
            _crops(image, chunk, patch), _crops(trimap, chunk, patch), pool, inside.all(-1)
        )
        for a, (y, x) in zip(alpha, chunk, strict=True):
            stitcher.add(a, y, x)
    alpha = torch.where(unknown[0, 0], stitcher.result(), trimap[0, 0])
    return alpha[:h, :w].reshape(1, 1, h, w)


def _crops(x: Tensor, origins: list[tuple[int, int]], patch: int) -> Tensor:
    return torch.cat([x[..., y : y + patch, x0 : x0 + patch] for y, x0 in origins])
