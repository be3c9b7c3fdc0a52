"""How a method sees an evaluation image, and how its prediction returns to the ground truth.

Metrics are computed at the ground truth's resolution, and each method runs at the resolution its
authors evaluate it at (issue 14). A method *declares* an `InferencePolicy`; `MattingMethod.infer`
applies it with `run_at_policy`, the one place where evaluation inputs are resized and padded:

- `size`: the network input size for an (h, w) image (MODNet's official `ref_size` rule, a
  working size for Tiramisu and the classical solvers); None keeps the native resolution.
- `multiple`: sides are replicate-padded to a multiple of it and the outputs cropped back (BGMv2's
  refiner needs multiples of 4).
- `mode`: the resampling of image, plate and previous alpha on the way in and of the prediction
  on the way back (MODNet's demo uses "area" both ways).
- `net_settings`: settings of the network that depend on the input size, as BGMv2's
  `backbone_scale` and refined pixels (1/4 and 80,000 up to HD, 1/8 and 320,000 for 4K); each
  entry is `{"max_pixels": N or None, "<attribute path in the net>": value, ...}` and the first
  entry whose `max_pixels` covers the network input applies for that forward pass only.

Trimaps are resized by area and every cell that mixes labels becomes unknown, so the band a
method sees only grows; the returned `alpha` and `fgr` are resampled to the ground truth's size.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mattebench.data.trimap import quantise_trimap, resize_trimap, unknown_mask

SizeRule = Callable[[int, int], tuple[int, int]]
MODES = ("bilinear", "area", "bicubic")


@dataclass(frozen=True)
class InferencePolicy:
    size: SizeRule | None = None
    multiple: int = 1
    mode: str = "bilinear"
    net_settings: Sequence[Mapping[str, Any]] = ()

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"InferencePolicy mode must be one of {MODES}, got {self.mode!r}.")
        if self.multiple < 1:
            raise ValueError(f"InferencePolicy multiple must be >= 1, got {self.multiple}.")
        for entry in self.net_settings:
            if "max_pixels" not in entry:
                raise ValueError(
                    f"each net_settings entry needs max_pixels (null = any size), got {entry}."
                )

    def settings_for(self, h: int, w: int) -> dict[str, Any]:
        """The net settings of the first entry whose `max_pixels` covers h x w."""
        for entry in self.net_settings:
            if entry["max_pixels"] is None or h * w <= entry["max_pixels"]:
                return {k: v for k, v in entry.items() if k != "max_pixels"}
        return {}


def working_size(max_side: int | None) -> SizeRule | None:
    """A working-size rule: the longer side at most `max_side` (aspect ratio kept, never
    upscaled); None = native."""
    if max_side is None:
        return None

    def rule(h: int, w: int) -> tuple[int, int]:
        if max(h, w) <= max_side:
            return h, w
        scale = max_side / max(h, w)
        return max(1, round(h * scale)), max(1, round(w * scale))

    return rule


def run_at_policy(
    predict: Callable[[dict[str, Tensor]], dict[str, Tensor]],
    inputs: dict[str, Tensor],
    policy: InferencePolicy,
    net: nn.Module,
) -> dict[str, Tensor]:
    """`predict(inputs)` at the policy's size; `alpha` and `fgr` come back at the input size."""
    h, w = inputs["image"].shape[-2:]
    size = policy.size(h, w) if policy.size is not None else (h, w)
    resized = {key: _resize(key, value, size, policy.mode) for key, value in inputs.items()}
    padded = {key: _pad(value, policy.multiple) for key, value in resized.items()}
    with net_settings(net, policy.settings_for(*padded["image"].shape[-2:])):
        pred = predict(padded)
    out = {}
    for key, value in pred.items():
        if value.shape[-2:] == padded["image"].shape[-2:]:
            value = value[..., : size[0], : size[1]]
        if key in ("alpha", "fgr") and value.shape[-2:] != (h, w):
            value = _resample(value, (h, w), policy.mode).clamp(0, 1)
        out[key] = value
    return out


@contextlib.contextmanager
def net_settings(net: nn.Module, settings: Mapping[str, Any]) -> Iterator[None]:
    """Set attributes of `net` ("refiner.sample_pixels": 320000) for one forward pass."""
    saved = []
    try:
        for path, value in settings.items():
            owner_path, _, name = path.rpartition(".")
            owner = net.get_submodule(owner_path) if owner_path else net
            if not hasattr(owner, name):
                raise AttributeError(
                    f"net_settings names {path!r}, which {type(net).__name__} does not have."
                )
            saved.append((owner, name, getattr(owner, name)))
            setattr(owner, name, value)
        yield
    finally:
        for owner, name, value in reversed(saved):
            setattr(owner, name, value)


def copy_known(alpha: Tensor, trimap: Tensor) -> Tensor:
    """Alpha with the trimap's known pixels copied (what trimap-based evaluations do)."""
    return torch.where(unknown_mask(trimap), alpha, quantise_trimap(trimap).to(alpha.dtype))


def _resize(key: str, x: Tensor, size: tuple[int, int], mode: str) -> Tensor:
    if x.shape[-2:] == size:
        return x
    if key == "trimap":
        return resize_trimap(x, size)
    return _resample(x, size, mode).clamp(0, 1)


def _resample(x: Tensor, size: tuple[int, int], mode: str) -> Tensor:
    if mode == "area":
        return F.interpolate(x, size=size, mode="area")
    downscale = size[0] < x.shape[-2] or size[1] < x.shape[-1]
    return F.interpolate(x, size=size, mode=mode, align_corners=False, antialias=downscale)


def _pad(x: Tensor, multiple: int) -> Tensor:
    h, w = x.shape[-2:]
    pad_h, pad_w = -h % multiple, -w % multiple
    if not (pad_h or pad_w):
        return x
    return F.pad(x, (0, pad_w, 0, pad_h), mode="replicate")
