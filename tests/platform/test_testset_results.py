"""One checkpoint, one test set, three ways to score it: `train.py`'s test, `eval.py`, and
`infer.py` outputs scored by the evaluator against the built set — the same numbers."""

import csv
import json
from pathlib import Path

import cv2
import pytest

from mattebench.evaluate import evaluate_folder
from mattebench.inference.task import infer
from mattebench.tasks import evaluate, train
from mattebench.testsets import read_manifest
from tests.platform.conftest import FAST

MODEL = "model=bgmv2_mobilenetv2"
TEST_KEYS = [
    f"test/{m}_{r}" for m in ("sad", "mse", "grad", "conn", "mad") for r in ("unknown", "image")
]


@pytest.mark.slow  # ~100 s on two cores: a training run, an eval run, one infer run per sample
def test_train_eval_and_scored_infer_outputs_agree_on_the_built_test_set(make_config, tmp_path):
    cfg = make_config(MODEL, *FAST, "trainer.max_epochs=1", "trainer.limit_train_batches=2",
                      "callbacks=[model_checkpoint]")  # fmt: skip
    trained = train(cfg)
    testset = trained["testset"]
    assert testset["name"] == "videomatte_sample_heldout_256x192" and testset["samples"] == 2
    run = Path(cfg.paths.output_dir)
    assert json.loads((run / "metrics.json").read_text())["testset"] == testset

    checkpoint = trained["best_checkpoint"]
    eval_cfg = make_config(MODEL, *FAST, f"ckpt_path={checkpoint}", config_name="eval")
    evaluated = evaluate(eval_cfg)
    assert evaluated["testset"] == testset
    for key in TEST_KEYS:
        assert evaluated[key] == pytest.approx(trained[key], rel=1e-6), key

    with (run / "test_samples.csv").open() as f:
        rows = {row["id"].split("/", 1)[1]: row for row in csv.DictReader(f)}
    folder = Path(testset["path"])
    samples = {s["id"]: s for s in read_manifest(folder)["samples"]}
    out = tmp_path / "infer"
    for sample_id in rows:
        files = samples[sample_id]["files"]
        infer(make_config(
            MODEL, f"input={folder / files['image']}", f"bgr={folder / files['bgr']}",
            f"output={out / samples[sample_id]['clip']}", f"ckpt_path={checkpoint}",
            "device=cpu", "outputs=[alpha]", config_name="infer",
        ))  # fmt: skip
    scored = evaluate_folder(
        out, None, testset=folder, pred_kind="alpha", region="unknown", allow_missing=True
    )
    assert scored["testset"]["name"] == testset["name"] and set(scored["images"]) == set(rows)
    for sample_id, row in rows.items():
        # the only difference: infer.py stores alpha as 8-bit PNG (rounding <= 0.5/255 a pixel)
        unknown = _unknown_pixels(folder / samples[sample_id]["files"]["trimap"])
        bound = unknown * 0.5 / 255 / 1000 + 1e-6
        assert abs(scored["images"][sample_id]["sad"] - float(row["sad_unknown"])) <= bound


def _unknown_pixels(path: Path) -> int:
    return int((cv2.imread(str(path), cv2.IMREAD_GRAYSCALE) == 128).sum())
