"""Native-resolution evaluation: each declared `InferencePolicy` is applied by the platform and
the prediction comes back at the ground truth's size (issue 14)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
import torch
from omegaconf import OmegaConf
from torch import nn

from mattebench.methods.base import MattingMethod
from mattebench.methods.bgmv2 import BGMv2
from mattebench.methods.modnet import MODNet
from mattebench.methods.policy import InferencePolicy, run_at_policy, working_size
from mattebench.models.bgmv2 import MattingRefine
from mattebench.models.modnet import MODNet as MODNetNet

CONF = Path(__file__).resolve().parents[2] / "conf"


class Spy(MattingMethod):
    """Predicts a constant 0.3 and records the inputs it is given."""

    required_keys: ClassVar[tuple[str, ...]] = ("image", "trimap", "alpha")

    def __init__(self, policy: InferencePolicy | None = None) -> None:
        super().__init__(net=nn.Identity(), optimizer=None)
        self.policy, self.seen = policy or InferencePolicy(), []

    def inference_policy(self) -> InferencePolicy:
        return self.policy

    def predict(self, batch):
        self.seen.append({k: v.clone() for k, v in batch.items()})
        return {"alpha": torch.full_like(batch["image"][:, :1], 0.3)}


def trimap(h: int, w: int) -> torch.Tensor:
    t = torch.zeros(1, 1, h, w)
    t[..., w // 2 :] = 1
    t[..., w // 2 - 3 : w // 2 + 3] = 0.5
    return t


def test_working_size_keeps_the_aspect_ratio_and_never_upscales():
    rule = working_size(512)
    assert rule(1000, 500) == (512, 256) and rule(300, 200) == (300, 200)
    assert working_size(None) is None


def test_padding_to_a_multiple_is_cropped_back_exactly():
    image = torch.rand(1, 3, 66, 94)
    seen = []
    out = run_at_policy(
        lambda x: seen.append(x["image"].shape[-2:]) or {"alpha": x["image"][:, :1]},
        {"image": image},
        InferencePolicy(multiple=4),
        nn.Identity(),
    )
    assert seen == [(68, 96)] and torch.equal(out["alpha"], image[:, :1])


def test_a_working_size_comes_back_at_the_ground_truth_size_with_known_pixels_copied():
    method = Spy(InferencePolicy(size=working_size(32)))
    t = trimap(40, 64)
    alpha = method.infer({"image": torch.rand(1, 3, 40, 64), "trimap": t, "alpha": t})["alpha"]
    (inputs,) = method.seen
    assert inputs["image"].shape[-2:] == (20, 32) and set(inputs) == {"image", "trimap"}
    small = inputs["trimap"]
    assert set(small.unique().tolist()) <= {0.0, 0.5, 1.0}
    # every 2x2 cell holding an unknown pixel is unknown: the band only grows
    cells = torch.nn.functional.max_pool2d(((t > 0) & (t < 1)).float(), 2)
    assert bool((small[cells > 0] == 0.5).all())
    assert alpha.shape == t.shape
    known = (t == 0) | (t == 1)
    assert torch.equal(alpha[known], t[known]) and torch.allclose(alpha[~known], torch.tensor(0.3))


def test_a_missing_declared_input_is_a_clear_error():
    with pytest.raises(KeyError, match="'trimap'"):
        Spy().infer({"image": torch.rand(1, 3, 8, 8), "alpha": torch.rand(1, 1, 8, 8)})


def test_modnet_runs_at_the_official_ref_size_rule_and_returns_the_native_size():
    method = MODNet(MODNetNet(), ref_size=64, optimizer=None).eval()
    sizes = []
    predict = method.predict
    method.predict = lambda b: sizes.append(tuple(b["image"].shape[-2:])) or predict(b)
    with torch.no_grad():
        alpha = method.infer({"image": torch.rand(1, 3, 30, 50)})["alpha"]
    assert sizes == [(64, 96)]  # short side to 64, long int(50/30*64) = 106, floored to x32
    assert alpha.shape == (1, 1, 30, 50)


def test_bgmv2_picks_backbone_scale_and_refined_pixels_by_size_for_one_pass():
    eval_sizes = OmegaConf.to_container(OmegaConf.load(CONF / "model" / "bgmv2.yaml").eval_sizes)
    net = MattingRefine("mobilenetv2", backbone_scale=0.5, refine_sample_pixels=16)
    method = BGMv2(net, eval_sizes=eval_sizes, optimizer=None).eval()
    policy = method.inference_policy()
    hd = {"backbone_scale": 0.25, "refiner.sample_pixels": 80_000}
    assert policy.settings_for(1080, 1920) == hd
    assert policy.settings_for(2500, 2000) == {**hd, "refiner.sample_pixels": 320_000}
    assert policy.settings_for(2160, 3840) == {
        "backbone_scale": 0.125,
        "refiner.sample_pixels": 320_000,
    }
    used = []
    forward = net.forward
    net.forward = lambda *a: (
        used.append((net.backbone_scale, net.refiner.sample_pixels)) or (forward(*a))
    )
    with torch.no_grad():
        pred = method.infer({"image": torch.rand(1, 3, 62, 90), "bgr": torch.rand(1, 3, 62, 90)})
    assert used == [(0.25, 80_000)]
    assert (net.backbone_scale, net.refiner.sample_pixels) == (0.5, 16)  # restored
    assert pred["alpha"].shape == (1, 1, 62, 90) and pred["fgr"].shape == (1, 3, 62, 90)


def test_bad_eval_sizes_are_refused():
    with pytest.raises(ValueError, match="eval_sizes entries take"):
        BGMv2(MattingRefine("mobilenetv2"), eval_sizes=[{"scale": 0.25}], optimizer=None)
