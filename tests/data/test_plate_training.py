"""The test protocol's plate perturbation in training (`BatchAugment(plate=...)`): the same rule
as the stored test plates, on the plate only, reproducible from the batch seed."""

from __future__ import annotations

import numpy as np
import torch

from mattebench.data.augment import BatchAugment
from mattebench.testsets.plate import PlatePerturbation

#: BGMv2's own plate augmentations off, so only the protocol's perturbation changes the plate.
QUIET = {"crop_scale": (1.0, 1.0), "shadow_p": 0, "noise_p": 0, "jitter_p": 0, "misalign_p": 0}


def batch(n: int = 4, size: int = 48) -> dict:
    torch.manual_seed(0)
    bgr = torch.full((n, 3, size, size), 0.5)
    return {"fgr": torch.rand(n, 3, size, size), "alpha": torch.rand(n, 1, size, size), "bgr": bgr}


def test_the_plate_gets_the_test_sets_perturbation_and_the_composite_does_not():
    b = batch()
    out = BatchAugment(**QUIET, plate={}, seed=3)(b)
    clean = BatchAugment(**QUIET, seed=3)(b)
    assert torch.equal(out["image"], clean["image"]) and torch.equal(clean["bgr"], b["bgr"])
    stds = out["bgr"].flatten(1).std(1)
    rule = PlatePerturbation()
    assert ((stds > 0.8 * rule.noise_std[0]) & (stds < 1.1 * rule.noise_std[1])).all(), stds
    assert len(set(stds.tolist())) == len(stds)  # one draw per plate
    levels = out["bgr"] * 255
    assert torch.equal(levels, levels.round())  # through uint8, as a stored plate


def test_it_is_the_stored_plates_rule_and_seeded():
    b = batch(2)
    first = BatchAugment(**QUIET, plate={"noise_std": (0.1, 0.1)}, seed=5)(b)["bgr"]
    again = BatchAugment(**QUIET, plate={"noise_std": (0.1, 0.1)}, seed=5)(b)["bgr"]
    assert torch.equal(first, again)
    flat = PlatePerturbation(shift=0, gamma=(1.15, 1.15), noise_mean=0, noise_std=(0, 0))
    darker = BatchAugment(**QUIET, plate=flat)(b)["bgr"]
    expected = flat(np.full((48, 48, 3), 128, np.uint8), np.random.default_rng(0))
    assert torch.equal(darker[0], torch.from_numpy(expected).permute(2, 0, 1) / 255)
