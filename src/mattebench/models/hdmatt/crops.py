"""Training patches: the query crop around unknown pixels and context crops from the same image.

The DIM recipe (spec §3/§5): square crops of 320/480/640 px at random positions, resized to the
patch size; parts outside the image are filled by reflection. Crop sizes shrink in proportion
when the training image is smaller than the largest crop (a choice). The query is centred on a
random unknown pixel (DIM's CropAroundUnknown); context candidates are uniform over the image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def reflect_indices(start: int, size: int, length: int, device=None) -> Tensor:
    """Indices start..start+size-1 mirrored into [0, length) (reflect, edge not repeated)."""
    i = torch.arange(start, start + size, device=device)
    if length == 1:
        return torch.zeros_like(i)
    period = 2 * (length - 1)
    i = i.remainder(period)
    return torch.where(i >= length, period - i, i)


def crop(x: Tensor, y: int, x0: int, size: int) -> Tensor:
    """(C,H,W) -> (C,size,size) window at (y, x0), reflected where it leaves the image."""
    ys = reflect_indices(y, size, x.shape[-2], x.device)
    xs = reflect_indices(x0, size, x.shape[-1], x.device)
    return x[:, ys[:, None], xs[None, :]]


def resize(x: Tensor, size: int, label: bool = False) -> Tensor:
    """(N,C,s,s) -> (N,C,size,size); labels (trimaps) with nearest."""
    if x.shape[-1] == size:
        return x
    if label:
        return F.interpolate(x, size=(size, size), mode="nearest")
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


def crop_size(choices: tuple[int, ...], height: int, width: int, generator: torch.Generator) -> int:
    """One of `choices`, scaled by min(1, min(H, W) / max(choices))."""
    scale = min(1.0, min(height, width) / max(choices))
    pick = choices[int(torch.randint(len(choices), (1,), generator=generator))]
    return max(1, round(pick * scale))


def query_origin(unknown: Tensor, size: int, generator: torch.Generator) -> tuple[int, int]:
    """Top-left of a `size` crop centred on a random unknown pixel (any pixel if none)."""
    h, w = unknown.shape[-2:]
    candidates = unknown.reshape(-1).nonzero().flatten()
    if len(candidates) == 0:
        candidates = torch.arange(h * w, device=unknown.device)
    flat = int(candidates[torch.randint(len(candidates), (1,), generator=generator)])
    return flat // w - size // 2, flat % w - size // 2


def context_origins(
    height: int, width: int, size: int, n: int, generator: torch.Generator
) -> list[tuple[int, int]]:
    """`n` top-lefts whose crops' centres are uniform over the image."""
    ys = torch.randint(height, (n,), generator=generator) - size // 2
    xs = torch.randint(width, (n,), generator=generator) - size // 2
    return list(zip(ys.tolist(), xs.tolist(), strict=True))
