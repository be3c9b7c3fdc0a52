"""`model=hdmatt` learns through the real Hydra configs on the generated Composition-1K sample
(its fast dev run is in test_train.py's matrix over every model config)."""

import pytest

from mattebench.tasks import train
from tests.platform.conftest import FAST, logged

#: Small patches so that a CPU run takes seconds (the default is 320).
SMALL = ["model=hdmatt", "data=composition1k_sample", "model.patch_size=64", "model.margin=16"]


@pytest.mark.slow  # long: 15 HDMatt training steps (the longest test of `make test` otherwise)
def test_overfitting_a_batch_lowers_the_loss(make_config):
    cfg = make_config(
        *SMALL, "debug=overfit", *FAST, "model.lr=1e-3", "model.scheduler=null",
        "model.train_candidates=2", "model.net.top_k=1", "model.fixed_patches=true",
        "trainer.overfit_batches=1", "trainer.max_epochs=15", "trainer.log_every_n_steps=1",
    )  # fmt: skip
    train(cfg)
    losses = logged(cfg, "train/loss")
    assert len(losses) == 15
    assert sum(losses[-5:]) / 5 < 0.6 * sum(losses[:5]) / 5
