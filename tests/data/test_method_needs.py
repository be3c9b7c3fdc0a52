"""The datamodule serves what a method declares (issue 17): its training trimap recipe and the
multiple its input sides must be, read from the method, never from a method name in `data/`."""

from __future__ import annotations

import pytest
import torch

from mattebench.registry import build_method
from tests.data.test_datamodule import datamodule, first_batch


@pytest.mark.parametrize(
    ("name", "trimap", "multiple"),
    [("modnet", True, 32), ("modnet_soc", False, 32), ("hdmatt", True, 1),
     ("bgmv2_mobilenetv2", False, 4)],
)  # fmt: skip
def test_training_batches_carry_the_declared_trimap_and_multiple(sources, name, trimap, multiple):
    method = build_method(name)
    assert (method.training_trimap() is not None) == trimap
    assert method.input_multiple == multiple
    dm = datamodule(sources, size=100)  # 100 is a multiple of neither 32 nor 4
    dm.configure_for(method)
    dm.setup("fit")
    batch = first_batch(dm, "train")
    assert ("trimap" in batch) == trimap
    if trimap:
        assert set(torch.unique(batch["trimap"]).tolist()) <= {0.0, 0.5, 1.0}
        assert (batch["trimap"] == 0.5).any()
    h, w = batch["image"].shape[-2:]
    assert h % multiple == 0 and w % multiple == 0 and h > 0


def test_a_datamodule_set_up_before_the_method_existed_is_served_too(sources):
    """train.py checks the data before it builds the method; `trainer.fit` sets up again."""
    dm = datamodule(sources, size=100)
    dm.setup("fit")
    dm.configure_for(build_method("modnet"))
    batch = first_batch(dm, "train")
    assert "trimap" in batch and batch["image"].shape[-1] % 32 == 0


def test_a_crop_off_the_multiple_is_a_clear_error():
    method = build_method("modnet")
    batch = {"image": torch.rand(2, 3, 48, 48), "alpha": torch.rand(2, 1, 48, 48)}
    batch["trimap"] = torch.full_like(batch["alpha"], 0.5)
    with pytest.raises(ValueError, match="multiples of 32"):
        method.training_step(batch, 0)
