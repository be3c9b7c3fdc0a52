"""The perturbed background plate of the BGMv2 test protocol.

A plate-based method is never tested with the exact background of its composite: BGMv2's paper
(specs/bgmv2.md §3, "Test protocol") perturbs the plate with a sub-pixel shift (±0.3 px), a
gamma (0.85–1.15) and Gaussian noise (μ = ±0.02, "0.08 ≤ σ² ≤ 0.15"). The paper writes the
training noise of `train_base.py` (std up to 0.03 on [0, 1] images) as "σ² ≤ 0.03", so its
"σ²" is read here the same way: the noise's standard deviation on [0, 1] images. A plate is
one capture, so one set of draws serves a whole clip.

The same rule can perturb training plates (`BatchAugment(plate=...)`, off in BGMv2's recipe):
a run trained only on BGMv2's weaker training noise meets this perturbation first at test.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch import Tensor


@dataclass(frozen=True)
class PlatePerturbation:
    """Draw ranges of the perturbation (the paper's values by default)."""

    shift: float = 0.3
    gamma: tuple[float, float] = (0.85, 1.15)
    noise_mean: float = 0.02
    noise_std: tuple[float, float] = (0.08, 0.15)

    def __post_init__(self) -> None:
        assert self.shift >= 0, f"shift must be >= 0, got {self.shift}"
        assert 0 < self.gamma[0] <= self.gamma[1], f"gamma must be 0 < lo <= hi, got {self.gamma}"
        assert 0 <= self.noise_std[0] <= self.noise_std[1], f"bad noise_std {self.noise_std}"

    def __call__(self, bgr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The perturbed copy of an H,W,3 uint8 plate (uint8, same size)."""
        dx, dy = rng.uniform(-self.shift, self.shift, size=2)
        gamma = rng.uniform(*self.gamma)
        mean = rng.uniform(-self.noise_mean, self.noise_mean)
        std = rng.uniform(*self.noise_std)
        h, w = bgr.shape[:2]
        shift = np.float32([[1, 0, dx], [0, 1, dy]])
        plate = cv2.warpAffine(
            bgr.astype(np.float32) / 255, shift, (w, h), flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )  # fmt: skip
        plate = np.clip(plate, 0, 1) ** gamma
        plate = plate + rng.normal(mean, std, size=plate.shape)
        return np.round(np.clip(plate, 0, 1) * 255).astype(np.uint8)

    def batch(self, bgr: Tensor, generator: torch.Generator) -> Tensor:
        """Each plate of an N,3,H,W batch in [0, 1] perturbed as a stored test plate is (through
        uint8, one draw per plate), the draws seeded from `generator`; same device and dtype."""
        rng = np.random.default_rng(int(torch.randint(2**62, (), generator=generator)))
        plates = (bgr.detach() * 255).round().clamp(0, 255).to("cpu", torch.uint8)
        out = [self(p.permute(1, 2, 0).numpy(), rng) for p in plates]
        stacked = torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2)
        return stacked.to(device=bgr.device, dtype=bgr.dtype) / 255
