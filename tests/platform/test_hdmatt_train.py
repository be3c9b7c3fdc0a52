"""`model=hdmatt` through the real Hydra configs on the generated Composition-1K sample."""

import json
from pathlib import Path

from mattebench.tasks import train
from tests.platform.conftest import FAST, logged

#: Small patches so that a CPU run takes seconds (the default is 320).
SMALL = ["model=hdmatt", "data=composition1k_sample", "model.patch_size=64", "model.margin=16"]
KEYS = {
    f"test/{m}_{r}" for m in ("sad", "mse", "grad", "conn", "mad") for r in ("unknown", "image")
}


def test_fast_dev_run_reports_the_shared_metrics(make_config):
    cfg = make_config(*SMALL, "debug=fdr", *FAST)
    metrics = train(cfg)
    assert set(metrics) >= KEYS
    assert json.loads((Path(cfg.paths.output_dir) / "metrics.json").read_text()) == metrics


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
