"""`python train.py model=classical_cf data=videomatte_sample`: no fit, no checkpoint, the
same test metrics as the networks plus the classical method's cost per image."""

import json
from pathlib import Path

from mattebench.tasks import train
from tests.platform.conftest import FAST


def test_classical_method_is_tested_without_fitting(make_config):
    cfg = make_config(
        "model=classical_cf", "data=videomatte_sample", *FAST,
        "data.size=64", "model.workers=2", "callbacks=[model_checkpoint]",
    )  # fmt: skip
    metrics = train(cfg)
    run = Path(cfg.paths.output_dir)
    assert json.loads((run / "metrics.json").read_text()) == metrics
    for key in ("test/sad_unknown", "test/mse_image", "test/seconds_per_image", "test/timeouts"):
        assert key in metrics, key
    assert metrics["test/timeouts"] == 0 and metrics["test/failures"] == 0
    assert metrics["best_checkpoint"] is None
    assert not list(run.rglob("*.ckpt"))
    assert (run / "panels" / "test_epoch000.png").is_file()
