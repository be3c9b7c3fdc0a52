"""Image panels: one row per sample, one titled column per map, the same for every method.

A panel is read without the code at hand (a PNG in `<run>/panels/`, an image in W&B), so each
column carries its title in a strip above the grid and the W&B caption lists the same titles:
input, plate or trimap (only for the methods that see one: the panel shows what the method
saw), ground truth, prediction, error, composite, then the maps the method itself declares
(`panel_maps`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import cv2
import numpy as np
import torch
from torch import Tensor
from torchvision.utils import make_grid

from mattebench.data.compose import composite

Column = tuple[str, Tensor]

PADDING = 2  # pixels between tiles, as torchvision's `make_grid` default
FONT = cv2.FONT_HERSHEY_SIMPLEX
#: The priors a method may see beside the image, shown only to the methods that see them.
PRIORS = {"bgr": "plate", "trimap": "trimap"}


def panel_columns(
    batch: Mapping[str, Tensor],
    pred: Mapping[str, Tensor],
    inputs: Collection[str],
    maps: Mapping[str, str],
    n: int,
) -> list[Column]:
    """The (title, first `n` samples) columns of a panel.

    `inputs` are the batch keys the method saw (a plate or trimap is shown only if it is one);
    `maps` are the method's extra prediction keys and their titles, shown when the prediction
    has them. The composite puts the predicted foreground (the input where the method predicts
    none) over a fixed background, so composites compare across methods.
    """
    image = batch["image"][:n].float()
    gt = batch["alpha"][:n].float()
    alpha = pred["alpha"][:n].float().clamp(0, 1)
    fgr = pred.get("fgr", batch["image"])[:n].float()
    columns = [("input", image)]
    columns += [(title, batch[key][:n].float()) for key, title in PRIORS.items() if key in inputs]
    columns += [
        ("GT alpha", gt),
        ("predicted alpha", alpha),
        ("|pred - GT|", (alpha - gt).abs()),
        ("composite", composite(fgr, alpha, _new_background(image))),
    ]
    columns += [(title, pred[key][:n].float()) for key, title in maps.items() if key in pred]
    return columns


def render(columns: list[Column]) -> Tensor:
    """The panel image (3,H,W in [0,1]): a title strip above a grid of one row per sample."""
    size = columns[0][1].shape[-2:]
    tiles = [_to_rgb(x, size) for _, x in columns]
    grid = make_grid(torch.stack(tiles, dim=1).flatten(0, 1), nrow=len(tiles), padding=PADDING)
    labels = _labels([title for title, _ in columns], width=size[1])
    strip = make_grid(labels, nrow=len(labels), padding=PADDING)[:, :-PADDING]
    return torch.cat([strip, grid], dim=1)


def caption(columns: list[Column]) -> str:
    """The W&B caption: the column titles, left to right, as in the title strip."""
    return "columns: " + " | ".join(title for title, _ in columns) + " (one row per sample)"


def _labels(titles: list[str], width: int) -> Tensor:
    """One white-on-black title tile per column, all at the largest common font scale that
    fits the tile width (floored at a legible 0.3; a longer title is clipped at its tile)."""
    widest = max(cv2.getTextSize(title, FONT, 1.0, 1)[0][0] for title in titles)
    scale = max(0.3, min(0.9 * width / widest, width / 320))
    thickness = max(1, round(scale))
    (_, text_h), baseline = cv2.getTextSize("Ag", FONT, scale, thickness)
    height = text_h + baseline + 2 * max(2, text_h // 3)
    tiles = []
    for title in titles:
        canvas = np.zeros((height, width, 3), np.uint8)
        (text_w, _), _ = cv2.getTextSize(title, FONT, scale, thickness)
        origin = (max((width - text_w) // 2, 0), (height + text_h - baseline) // 2)
        cv2.putText(canvas, title, origin, FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)
        tiles.append(torch.from_numpy(canvas).permute(2, 0, 1).float() / 255)
    return torch.stack(tiles)


def _to_rgb(x: Tensor, size: torch.Size) -> Tensor:
    if x.shape[-2:] != size:
        x = torch.nn.functional.interpolate(x, size=size, mode="nearest")
    return (x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x).clamp(0, 1).cpu()


def _new_background(like: Tensor) -> Tensor:
    """A fixed diagonal colour gradient, so composites are comparable across methods."""
    h, w = like.shape[-2:]
    ramp = torch.linspace(0, 1, h, device=like.device)[:, None] + torch.linspace(
        0, 1, w, device=like.device
    )
    ramp = ramp / 2
    return torch.stack([ramp, 0.5 * (1 - ramp), 1 - ramp])[None].to(like.dtype)
