"""Tiramisu method: targets, ignored pixels, the loss, predictions at any size, param groups."""

from functools import partial

import pytest
import torch
import torch.nn.functional as F

from mattebench.methods.tiramisu import Tiramisu
from mattebench.models.tiramisu import fc_densenet56


def method(**kwargs) -> Tiramisu:
    torch.manual_seed(0)
    defaults = {
        "optimizer": partial(torch.optim.RMSprop, alpha=0.9, eps=1e-3),
        "scheduler": partial(torch.optim.lr_scheduler.ExponentialLR, gamma=0.995),
        "lr": 1e-3,
    }
    return Tiramisu(**{"net": fc_densenet56(), **defaults, **kwargs})


def alpha_with_a_soft_edge(h=4, w=4):
    alpha = torch.zeros(1, 1, h, w)
    alpha[..., :, : w // 2] = 1.0
    alpha[..., 0, 0], alpha[..., 0, w - 1] = 0.7, 0.2
    return alpha


@pytest.mark.parametrize("size", [(7, 9), (45, 70), (64, 64)])
def test_predictions_keep_the_input_size(size):
    tiramisu = method().eval()
    batch = {"image": torch.rand(2, 3, *size)}
    with torch.no_grad():
        soft = tiramisu.predict(batch)["alpha"]
        tiramisu.output = "hard"
        hard = tiramisu.predict(batch)["alpha"]
    assert soft.shape == hard.shape == (2, 1, *size)
    assert soft.min() > 0 and soft.max() < 1
    assert set(hard.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(hard, (soft > 0.5).float())


def test_target_is_the_mask_if_there_is_one_else_alpha_above_a_half():
    alpha = alpha_with_a_soft_edge()
    tiramisu = method()
    assert torch.equal(tiramisu.target({"alpha": alpha}), (alpha[:, 0] > 0.5).long())
    mask = torch.zeros_like(alpha)
    assert not tiramisu.target({"alpha": alpha, "mask": mask}).any()


def test_the_ignore_band_leaves_the_soft_edge_out_of_the_loss():
    alpha = alpha_with_a_soft_edge(32, 32)
    tiramisu = method(ignore_band=(0.05, 0.95), ignore_index=255)
    target = tiramisu.target({"alpha": alpha})
    assert target[0, 0, 0] == 255 and target[0, 0, 31] == 255
    assert (target != 255).sum() == 32 * 32 - 2
    batch = {"image": torch.rand(2, 3, 32, 32), "alpha": alpha.expand(2, -1, -1, -1)}
    target = tiramisu.target(batch)
    torch.manual_seed(1)
    loss = tiramisu.training_loss(batch)["loss"]
    torch.manual_seed(1)
    logits = tiramisu.logits(batch["image"])
    valid = target != 255
    expected = -logits.log_softmax(1).gather(1, target.clamp(max=1)[:, None])[:, 0][valid].mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_a_batch_with_every_pixel_ignored_has_a_zero_loss_not_nan():
    tiramisu = method(ignore_band=(0.0, 1.0))
    batch = {"image": torch.rand(2, 3, 32, 32), "alpha": torch.full((2, 1, 32, 32), 0.5)}
    loss = tiramisu.training_loss(batch)["loss"]
    assert loss.item() == 0.0
    loss.backward()


def test_training_lowers_the_loss_on_one_batch():
    tiramisu = method(lr=1e-3)
    alpha = torch.zeros(2, 1, 32, 32)
    alpha[..., 8:24, 10:20] = 1.0
    batch = {"image": alpha.expand(-1, 3, -1, -1) * 0.6 + 0.2, "alpha": alpha}
    optimizer = tiramisu.configure_optimizers()["optimizer"]
    losses = []
    for _ in range(8):
        loss = tiramisu.training_loss(batch)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_weight_decay_on_conv_weights_and_bn_scales_only():
    tiramisu = method(weight_decay=2e-4)
    decay, no_decay = tiramisu.parameter_groups()
    assert decay["weight_decay"] == 2e-4 and no_decay["weight_decay"] == 0.0
    names = {id(p): n for n, p in tiramisu.net.named_parameters()}
    assert all(names[id(p)].endswith("weight") for p in decay["params"])
    assert all(names[id(p)].endswith("bias") for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(names)
    config = tiramisu.configure_optimizers()
    assert isinstance(config["optimizer"], torch.optim.RMSprop)
    assert config["lr_scheduler"].gamma == 0.995


def test_logits_come_from_the_reflect_padded_image_cropped_back():
    tiramisu = method(pad_multiple=32).eval()
    image = torch.rand(1, 3, 40, 33)
    with torch.no_grad():
        padded = tiramisu.net(F.pad(image, (0, 31, 0, 24), mode="reflect"))[..., :40, :33]
        assert torch.allclose(tiramisu.logits(image), padded)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"output": "probability"}, "output must be one of"),
        ({"net": fc_densenet56(n_classes=3)}, "n_classes=2"),
        ({"ignore_band": (0.9, 0.1)}, "ignore_band"),
        ({"ignore_index": 1}, "must not be a class"),
        ({"pad_multiple": 0}, "pad_multiple"),
        ({"lr": {"net": 1e-3}}, "one learning rate"),
    ],
)
def test_bad_settings_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        method(**kwargs).parameter_groups()


def test_a_batch_without_alpha_names_the_missing_key():
    with pytest.raises(KeyError, match="alpha"):
        method().training_step({"image": torch.rand(1, 3, 32, 32)}, 0)
