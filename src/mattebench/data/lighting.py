"""Lighting augmentation: point and line light sources added to the composite, per batch.

Real footage has lights the composite never saw (a lamp behind the subject, a window's bright
band across the wall); adding them to the composite `image` (not to the plate `bgr`, not to the
foreground labels) teaches a model that a local brightening is no reason to change the matte.

Each chosen sample gets 1..`max_lights` lights, each a point (radial falloff) with probability
`point_p`, otherwise a line (a bright band along a random line, soft profile across it). Both
profiles are the smooth, compactly supported bump `(1 - (d / r)^2)_+^2`, so a light never
darkens and pixels farther than its radius (or half-width) are left exactly unchanged. Light
maps are summed, multiplied by a tinted colour and added; the result is clamped to [0, 1].

Every random draw (which samples, how many lights, where, how big, how bright, what colour)
comes from the CPU generator passed to `forward` (`BatchAugment` passes its own), so a batch is
reproducible from the seed whatever the device; the light maps are then built on the image's
device without further randomness.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

Range = tuple[float, float]


class LightingAugment(nn.Module):
    """Adds point and line lights to N,3,H,W images in [0, 1] with probability `p` per sample.

    Args:
        p: probability that a sample is lit (0 = identity, consuming no random draws).
        max_lights: each lit sample gets a uniform number of lights in [1, max_lights].
        point_p: probability that a light is a point light (else a line light).
        intensity: peak added brightness, uniform in this range.
        radius: point-light radius (where the falloff reaches 0), as a fraction of the image's
            shorter side.
        width: line-light half-width (profile reaches 0), fraction of the shorter side.
        tint: colour saturation of a light: each channel is scaled by a factor uniform in
            [1 - tint, 1], then the colour is normalised to a maximum of 1 (0 = white lights).
    """

    def __init__(
        self,
        p: float = 0.5,
        max_lights: int = 2,
        point_p: float = 0.5,
        intensity: Range = (0.1, 0.5),
        radius: Range = (0.1, 0.4),
        width: Range = (0.02, 0.1),
        tint: float = 0.3,
    ) -> None:
        super().__init__()
        if max_lights < 1:
            raise ValueError(f"max_lights must be >= 1, got {max_lights}")
        self.p, self.max_lights, self.point_p = p, max_lights, point_p
        self.intensity, self.radius, self.width = tuple(intensity), tuple(radius), tuple(width)
        self.tint = tint

    def forward(self, image: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """`image` (N,3,H,W) with lights added to the chosen samples, clamped to [0, 1]."""
        if self.p <= 0:
            return image
        n = len(image)
        chosen = torch.rand(n, generator=generator) < self.p
        if not chosen.any():
            return image
        chosen = chosen.to(image.device)
        light = self.light_map(image[chosen], generator)
        image = image.clone()
        image[chosen] = (image[chosen] + light).clamp(0, 1)
        return image

    def light_map(self, image: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The (non-negative) N,C,H,W light to add to `image`; draws its parameters."""
        n, c, h, w = image.shape
        side = min(h, w)
        params = self.draw(n, h, w, generator)
        y = torch.arange(h, device=image.device, dtype=image.dtype).view(1, h, 1)
        x = torch.arange(w, device=image.device, dtype=image.dtype).view(1, 1, w)
        total = image.new_zeros(n, c, h, w)
        for k in range(self.max_lights):
            p = {key: value[:, k].to(image.device, image.dtype) for key, value in params.items()}
            cx, cy = p["cx"].view(n, 1, 1), p["cy"].view(n, 1, 1)
            # point: distance to the centre; line: distance to the line through it at `angle`
            d_point = torch.sqrt((x - cx) ** 2 + (y - cy) ** 2) / (p["radius"] * side).view(n, 1, 1)
            nx, ny = -torch.sin(p["angle"]).view(n, 1, 1), torch.cos(p["angle"]).view(n, 1, 1)
            d_line = ((x - cx) * nx + (y - cy) * ny).abs() / (p["width"] * side).view(n, 1, 1)
            is_point = p["point"].view(n, 1, 1) > 0.5
            shape = bump(torch.where(is_point, d_point, d_line))
            strength = (p["intensity"] * p["active"]).view(n, 1, 1, 1)
            colour = p["colour"] if c == 3 else p["colour"][:, :1].expand(n, c)
            total = total + strength * colour.view(n, c, 1, 1) * shape[:, None]
        return total

    def draw(self, n: int, h: int, w: int, generator: torch.Generator | None) -> dict[str, Tensor]:
        """Per-sample, per-light parameters (CPU tensors, N x max_lights[, 3])."""
        m = self.max_lights

        def uniform(lo: float, hi: float, *shape: int) -> Tensor:
            return lo + (hi - lo) * torch.rand(n, m, *shape, generator=generator)

        count = torch.randint(1, m + 1, (n, 1), generator=generator)
        colour = uniform(1 - self.tint, 1.0, 3)
        return {
            "active": (torch.arange(m)[None] < count).float(),
            "point": (torch.rand(n, m, generator=generator) < self.point_p).float(),
            "cx": uniform(0, w - 1),
            "cy": uniform(0, h - 1),
            "angle": uniform(0, math.pi),
            "radius": uniform(*self.radius),
            "width": uniform(*self.width),
            "intensity": uniform(*self.intensity),
            "colour": colour / colour.amax(-1, keepdim=True),
        }

    def extra_repr(self) -> str:
        return (
            f"p={self.p}, max_lights={self.max_lights}, point_p={self.point_p}, "
            f"intensity={self.intensity}, radius={self.radius}, width={self.width}, "
            f"tint={self.tint}"
        )


def bump(d: Tensor) -> Tensor:
    """`(1 - d^2)_+^2`: 1 at d = 0, smooth, exactly 0 for |d| >= 1."""
    return (1 - d * d).clamp(min=0) ** 2
