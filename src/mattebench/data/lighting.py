"""Lighting augmentation: point and line lights on the composite, per batch.

The temporal MODNet recipe (specs/modnet.md §5.1) superimposes, with some probability, a
simulated point or line light on the input "for backlight and strong light", with OpenCV. The
common OpenCV implementation of such lights (`add_spot_light` / `add_parallel_light` of the
widely copied noisy-lighting augmentation scripts) works on the HSV value channel: a light mask
`M` falls off from `peak` at the source (a point, or a line through the image) to `floor` far
from it, and the value channel is blended with it, `V' = t·V + (1 − t)·M`, `t` the
"transparency" (uniform in 0.5–0.85 there). Hue and saturation are kept. So a light brightens
near its source (where `M > V`) and darkens away from it where the scene is brighter than the
floor (a strong light makes the rest of the frame look darker, as an auto-exposed camera does);
`floor` ≥ every `V` gives a light that only brightens.

Keeping H and S while changing V scales the pixel's RGB by `V'/V` (HSV → RGB is linear in V at
fixed H, S; a black pixel, S = 0, becomes grey `V'`), which is how it is computed here, on the
device, without a colour-space round trip. The falloff is a Gaussian of the distance to the
point (σ = `radius` × the shorter side) or to the line (σ = `width` × the shorter side), as the
Gaussian mode of those scripts; several lights add up, capped at 1.

The light goes on the composite `image` only (not the plate `bgr`, not the labels), so a model
learns that a local change of brightness is no reason to change the matte. Every random draw
(which samples, how many lights, where, how big, how bright) comes from the CPU generator passed
to `forward` (`BatchAugment` passes its own), so a batch is reproducible from the seed whatever
the device; the masks are then built on the image's device without further randomness.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

Range = tuple[float, float]


class LightingAugment(nn.Module):
    """Point and line lights on N,3,H,W images in [0, 1], with probability `p` per sample.

    Args:
        p: probability that a sample is lit (0 = identity, consuming no random draws).
        max_lights: each lit sample gets a uniform number of lights in [1, max_lights].
        point_p: probability that a light is a point light (else a line light).
        peak: the light mask's value at the source (HSV value, [0, 1]), uniform in this range.
        floor: the mask's value far from every source, uniform in this range; below the scene's
            value it darkens there (0: the line-light script's default, 0.78: its spot light's).
        transparency: `t` of `V' = t·V + (1 − t)·M`, uniform in this range (the scripts' 0.5–0.85).
        radius: point-light Gaussian σ, as a fraction of the image's shorter side.
        width: line-light Gaussian σ across the line, as a fraction of the shorter side.
    """

    def __init__(
        self,
        p: float = 0.5,
        max_lights: int = 2,
        point_p: float = 0.5,
        peak: Range = (0.85, 1.0),
        floor: Range = (0.0, 0.8),
        transparency: Range = (0.5, 0.85),
        radius: Range = (0.15, 0.4),
        width: Range = (0.05, 0.3),
    ) -> None:
        super().__init__()
        if max_lights < 1:
            raise ValueError(f"max_lights must be >= 1, got {max_lights}")
        for name, (lo, hi) in {"peak": peak, "floor": floor, "transparency": transparency}.items():
            if not 0 <= lo <= hi <= 1:
                raise ValueError(f"{name} must be a range within [0, 1], got {(lo, hi)}")
        self.p, self.max_lights, self.point_p = p, max_lights, point_p
        self.peak, self.floor = tuple(peak), tuple(floor)
        self.transparency = tuple(transparency)
        self.radius, self.width = tuple(radius), tuple(width)

    def forward(self, image: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """`image` (N,3,H,W) with lights on the chosen samples (values stay in [0, 1])."""
        if self.p <= 0:
            return image
        n, _, h, w = image.shape
        chosen = torch.rand(n, generator=generator) < self.p
        if not chosen.any():
            return image
        params = self.draw(int(chosen.sum()), h, w, generator)
        chosen = chosen.to(image.device)
        mask = self.light_mask(params, h, w, image)
        t = params["transparency"].to(image.device, image.dtype).view(-1, 1, 1, 1)
        image = image.clone()
        image[chosen] = blend_value(image[chosen], mask, t)
        return image

    def light_mask(self, params: dict[str, Tensor], h: int, w: int, like: Tensor) -> Tensor:
        """The N,1,H,W light mask `M` in [floor, peak] for the drawn `params` (on `like`'s
        device and dtype)."""
        p = {key: value.to(like.device, like.dtype) for key, value in params.items()}
        n, side = len(p["cx"]), min(h, w)
        y = torch.arange(h, device=like.device, dtype=like.dtype).view(1, 1, h, 1)
        x = torch.arange(w, device=like.device, dtype=like.dtype).view(1, 1, 1, w)
        cx, cy = p["cx"].view(n, -1, 1, 1), p["cy"].view(n, -1, 1, 1)  # N, lights, 1, 1
        # point: distance to the centre; line: distance to the line through it at `angle`
        d_point = torch.sqrt((x - cx) ** 2 + (y - cy) ** 2)
        angle = p["angle"].view(n, -1, 1, 1)
        d_line = ((x - cx) * -torch.sin(angle) + (y - cy) * torch.cos(angle)).abs()
        is_point = p["point"].view(n, -1, 1, 1) > 0.5
        distance = torch.where(is_point, d_point, d_line)
        sigma = torch.where(is_point, p["radius"].view(n, -1, 1, 1), p["width"].view(n, -1, 1, 1))
        sigma = sigma * side
        falloff = torch.exp(-0.5 * (distance / sigma) ** 2) * p["active"].view(n, -1, 1, 1)
        rate = falloff.sum(1, keepdim=True).clamp(max=1)
        floor, peak = p["floor"].view(n, 1, 1, 1), p["peak"].view(n, 1, 1, 1)
        return floor + (peak - floor) * rate

    def draw(self, n: int, h: int, w: int, generator: torch.Generator | None) -> dict[str, Tensor]:
        """Per-sample parameters (CPU tensors): per light N x max_lights, per sample N."""
        m = self.max_lights

        def uniform(bounds: Range, *shape: int) -> Tensor:
            lo, hi = bounds
            return lo + (hi - lo) * torch.rand(n, *shape, generator=generator)

        count = torch.randint(1, m + 1, (n, 1), generator=generator)
        return {
            "active": (torch.arange(m)[None] < count).float(),
            "point": (torch.rand(n, m, generator=generator) < self.point_p).float(),
            "cx": uniform((0, w - 1), m),
            "cy": uniform((0, h - 1), m),
            "angle": uniform((0, math.pi), m),
            "radius": uniform(self.radius, m),
            "width": uniform(self.width, m),
            "peak": uniform(self.peak),
            "floor": uniform(self.floor),
            "transparency": uniform(self.transparency),
        }

    def extra_repr(self) -> str:
        return (
            f"p={self.p}, max_lights={self.max_lights}, point_p={self.point_p}, "
            f"peak={self.peak}, floor={self.floor}, transparency={self.transparency}, "
            f"radius={self.radius}, width={self.width}"
        )


def blend_value(image: Tensor, mask: Tensor, transparency: Tensor | float) -> Tensor:
    """HSV value-channel blend `V' = t·V + (1 − t)·M` at unchanged hue and saturation.

    `image` N,3,H,W RGB in [0, 1]; `mask` N,1,H,W in [0, 1]. V is the channel maximum; at fixed
    H and S every channel is proportional to V, so the RGB scales by `V'/V`; a black pixel
    (V = 0, no hue, S = 0) becomes grey `V'`, as OpenCV's HSV → RGB gives it.
    """
    value = image.amax(1, keepdim=True)
    target = transparency * value + (1 - transparency) * mask
    black = value <= 1e-6
    scaled = image * (target / value.clamp(min=1e-6))
    return torch.where(black, target.expand_as(image), scaled).clamp(0, 1)
