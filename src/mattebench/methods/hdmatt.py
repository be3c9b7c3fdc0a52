"""HDMatt (Yu et al., AAAI 2021): crop-and-stitch matting with Cross-Patch Context.

Training samples, from each item of a batch of full training crops, one query patch around
unknown pixels and `train_candidates` context candidates from the same image (crop sizes
`crop_sizes` resized to `patch_size`, reflective padding; `models.hdmatt.crops`); CPC keeps the
top-K. The loss is DIM's, masked by the blending weights. Inference cuts any image into
overlapping query patches, builds the context pool from the whole image and stitches
(`models.hdmatt.stitch`).

Its training trimap is declared (`training_trimap`): DIM's recipe from the alpha with a random
1–30 px kernel (`train_trimap="dim"`, `data.trimap.dim_trimap`), or MODNet's (`"modnet"`); the
datamodule adds it to every training item, drawn with the item's generator.
"""

from __future__ import annotations

from functools import partial
from typing import Any, ClassVar

import torch
from torch import Tensor

from mattebench.data.trimap import dim_trimap, modnet_trimap, unknown_mask
from mattebench.losses.hdmatt import dim_loss
from mattebench.methods.base import Batch, MattingMethod, Prediction, TrimapRecipe
from mattebench.models.hdmatt import ContextPool, border_weights, predict_image
from mattebench.models.hdmatt import HDMatt as HDMattNet
from mattebench.models.hdmatt.crops import (
    context_origins,
    crop,
    crop_size,
    query_origin,
    resize,
)

#: `train_trimap` -> its recipe (`data.trimap`).
TRAIN_TRIMAPS = {"dim": dim_trimap, "modnet": modnet_trimap}


class HDMatt(MattingMethod):
    """Args:
    net: a `mattebench.models.hdmatt.HDMatt`.
    patch_size: query/context patch side (320, the training scale; a choice for testing).
    margin: overlap of neighbouring query patches and width of the blending ramp (32 px, a
        choice); also the ramp of the training loss mask.
    patch_batch: query/context patches per forward pass at inference (memory bound).
    crop_sizes: training crop sides before resizing to `patch_size` (DIM's 320/480/640).
    train_candidates: N context candidates per training query (6, a choice); CPC keeps top-K.
    train_trimap: the training trimap recipe: "dim" (kernel 1..`trimap_kernel`) or "modnet".
    trimap_kernel: largest DIM trimap kernel (30 px).
    eps: Charbonnier epsilon (1e-6).
    seed: seed of the training patch sampler; None: the run's seed (`torch.initial_seed()`,
        which train.py's seed_everything sets before the method is built).
    fixed_patches: reseed the sampler at every step, so a repeated batch gets the same patches
        and trimaps (overfitting a batch for debugging, like `data.fixed_train`).
    **kwargs: `MattingMethod` arguments (optimizer, scheduler, lr, ...).
    """

    required_keys: ClassVar[tuple[str, ...]] = ("image", "alpha", "trimap")
    training_keys: ClassVar[tuple[str, ...]] = ("fgr", "bgr")

    def __init__(
        self,
        net: HDMattNet,
        patch_size: int = 320,
        margin: int = 32,
        patch_batch: int = 8,
        crop_sizes: tuple[int, ...] = (320, 480, 640),
        train_candidates: int = 6,
        train_trimap: str = "dim",
        trimap_kernel: int = 30,
        eps: float = 1e-6,
        seed: int | None = None,
        fixed_patches: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(net=net, **kwargs)
        if patch_size % net.stride:
            raise ValueError(f"patch_size must be a multiple of {net.stride}, got {patch_size}")
        if train_trimap not in TRAIN_TRIMAPS:
            raise ValueError(
                f"train_trimap must be one of {sorted(TRAIN_TRIMAPS)}, got {train_trimap!r}"
            )
        self.patch_size, self.margin, self.patch_batch = patch_size, margin, patch_batch
        self.crop_sizes = tuple(crop_sizes)
        self.train_candidates, self.train_trimap = train_candidates, train_trimap
        self.trimap_kernel, self.eps = trimap_kernel, eps
        self.seed = torch.initial_seed() if seed is None else seed
        self.fixed_patches = fixed_patches
        self.generator = torch.Generator().manual_seed(self.seed)

    # The patch sampler's draws continue across epochs, so a resumed run must continue its
    # stream, not restart it at `seed` (kill + resume = the uninterrupted run).
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["hdmatt_generator"] = self.generator.get_state()

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        if "hdmatt_generator" in checkpoint:
            self.generator.set_state(checkpoint["hdmatt_generator"])

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        if self.fixed_patches:
            self.generator.manual_seed(self.seed)
        return super().training_step(batch, batch_idx)

    def predict(self, batch: Batch) -> Prediction:
        self.check_batch(batch, ("image", "trimap"))
        image, trimap = batch["image"], check_trimap(batch["trimap"], batch["image"])
        alphas = [
            predict_image(
                self.net, image[i : i + 1], trimap[i : i + 1].to(image.dtype),
                self.patch_size, self.margin, self.patch_batch,
            )
            for i in range(len(image))
        ]  # fmt: skip
        return {"alpha": torch.cat(alphas)}

    def training_loss(self, batch: Batch) -> dict[str, Tensor]:
        check_trimap(batch["trimap"], batch["image"])
        patches = [self._sample(batch, i) for i in range(len(batch["image"]))]
        q = {k: torch.cat([p[0][k] for p in patches]) for k in patches[0][0]}
        pool = ContextPool(*(torch.stack([p[1][j] for p in patches]) for j in range(2)))
        pred = self.net(q["image"], q["trimap"], pool)
        weights = border_weights(self.patch_size, self.margin).to(pred)
        return dim_loss(pred, q["alpha"], q["fgr"], q["bgr"], q["trimap"], weights, self.eps)

    def _sample(self, batch: Batch, i: int) -> tuple[dict[str, Tensor], tuple[Tensor, Tensor]]:
        """One query patch (its image, trimap, alpha, fgr, bgr) and its N encoded candidates."""
        keys = ("image", "trimap", "alpha", "fgr", "bgr")
        h, w = batch["image"].shape[-2:]
        trimap = batch["trimap"][i]
        size = crop_size(self.crop_sizes, h, w, self.generator)
        y, x = query_origin(unknown_mask(trimap), size, self.generator)
        query = {
            k: resize(crop(batch[k][i], y, x, size)[None], self.patch_size, k == "trimap")
            for k in keys
        }
        origins = context_origins(h, w, size, self.train_candidates, self.generator)
        ctx_image, ctx_trimap = (
            resize(torch.stack([crop(batch[k][i], cy, cx, size) for cy, cx in origins]),
                   self.patch_size, k == "trimap")
            for k in ("image", "trimap")
        )  # fmt: skip
        return query, tuple(self.net.encode_pool(ctx_image, ctx_trimap))

    def training_trimap(self) -> TrimapRecipe:
        recipe = TRAIN_TRIMAPS[self.train_trimap]
        if recipe is dim_trimap:
            return partial(dim_trimap, kernel_range=(1, self.trimap_kernel))
        return recipe


def check_trimap(trimap: Tensor, image: Tensor) -> Tensor:
    """The trimap must match the image's size and hold only 0, 0.5 and 1."""
    if trimap.shape[0] != image.shape[0] or trimap.shape[1] != 1:
        raise ValueError(f"trimap must be (B,1,H,W) for image {tuple(image.shape)}")
    if trimap.shape[-2:] != image.shape[-2:]:
        raise ValueError(
            f"trimap size {tuple(trimap.shape[-2:])} differs from image size "
            f"{tuple(image.shape[-2:])}"
        )
    valid = (trimap == 0) | (trimap == 0.5) | (trimap == 1)
    if not bool(valid.all()):
        bad = trimap[~valid][:5].tolist()
        raise ValueError(f"trimap values must be in {{0, 0.5, 1}}, found e.g. {bad}")
    return trimap
