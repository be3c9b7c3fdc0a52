"""The comparison report on hand-made run directories: what each number is (inputs, families,
whole image beside unknown band, dtSSD on clip sets only), one table per test set, and the paired
bootstrap against the best method."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from omegaconf import OmegaConf

from mattebench.report import (
    Run,
    bootstrap_interval,
    find_runs,
    paired_differences,
    summarise,
    write_report,
)

SET = {"name": "videomatte_sample/test", "manifest_sha256": "ab" * 32, "path": "x"}


def make_run(root: Path, method: str, seed: int, sad: list[float], inputs: list[str],
             testset: dict | None = SET, dtssd: float | None = None) -> Path:  # fmt: skip
    """A finished run as train.py leaves it: config, metrics, per-sample rows, method.json."""
    path = root / f"{method}_{seed}"
    path.mkdir(parents=True)
    OmegaConf.save({"method": method, "seed": seed, "dataset": "videomatte_sample"},
                   path / "config.yaml")  # fmt: skip
    metrics = {"test/sad_unknown": float(np.mean(sad)), "test/sad_image": 2 * float(np.mean(sad)),
               "test/iou": 0.9, "params": 1_000_000, "train/steps": 30 * len(method)}  # fmt: skip
    if testset is not None:
        metrics["testset"] = testset
    if dtssd is not None:
        metrics["test/dtssd"] = dtssd
    (path / "metrics.json").write_text(json.dumps(metrics))
    (path / "method.json").write_text(json.dumps({"inputs": inputs}))
    with (path / "test_samples.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, ["id", "sad_unknown", "sad_image"])
        writer.writeheader()
        writer.writerows(
            {"id": f"clip/{i}", "sad_unknown": v, "sad_image": 2 * v} for i, v in enumerate(sad)
        )
    return path


@pytest.fixture
def comparison(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    base = rng.uniform(5, 15, 40)
    for seed in (1, 2):
        noise = rng.normal(0, 0.5, 40)
        make_run(tmp_path, "hdmatt", seed, list(base + noise), ["image", "trimap"])
        make_run(tmp_path, "bgmv2", seed, list(base + 3 + noise), ["image", "bgr"])
        # within noise of hdmatt: the same samples with symmetric noise
        jitter = rng.normal(0, 1, 40)
        make_run(tmp_path, "modnet", seed, list(base + noise + jitter - jitter.mean()), ["image"])
        make_run(tmp_path, "modnet_temporal", seed, list(base + 1 + noise),
                 ["image", "prev_alpha"])  # fmt: skip
    return tmp_path


def rows_of(report: str) -> dict[str, list[str]]:
    lines = [line for line in report.splitlines() if line.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[1:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(header, cells, strict=True))
    return rows


def test_the_table_says_what_each_number_is(comparison, tmp_path):
    report = write_report(find_runs([comparison]), tmp_path / "out").read_text()
    assert "videomatte_sample/test" in report and "abababababababab" in report
    rows = rows_of(report)
    assert rows["bgmv2"]["inputs"] == "RGB +plate"
    assert rows["hdmatt"]["inputs"] == "RGB +trimap"
    assert rows["modnet_temporal"]["inputs"] == "RGB +previous alpha"
    assert "SAD img" in rows["hdmatt"] and "SAD unk" in rows["hdmatt"]
    assert float(rows["bgmv2"]["SAD img"].split()[0]) == pytest.approx(
        2 * float(rows["bgmv2"]["SAD unk"].split()[0]), abs=0.02
    )
    assert "dtSSD" not in rows["hdmatt"]  # not a clip set
    assert rows["hdmatt"]["steps"] == "180" and rows["modnet_temporal"]["steps"] == "450"
    assert "copy the trimap's known pixels" in report
    families = [line for line in report.splitlines() if line.startswith("| **")]
    assert [f.split("**")[1] for f in families] == [
        "background matting (image + plate)",
        "trimap-based matting (image + trimap)",
        "trimap-free matting (image only)",
    ]


def test_rows_are_compared_with_the_best_by_paired_bootstrap(comparison, tmp_path):
    rows = rows_of(write_report(find_runs([comparison]), tmp_path / "out").read_text())
    versus = next(key for key in rows["hdmatt"] if key.startswith("ΔSAD"))
    assert rows["hdmatt"][versus] == "best"
    assert rows["bgmv2"][versus].startswith("+3.00") and "noise" not in rows["bgmv2"][versus]
    assert rows["modnet_temporal"][versus].startswith("+1.00")
    assert rows["modnet"][versus].endswith("within noise")


def test_paired_differences_pool_samples_and_seeds():
    def run(seed, values):
        samples = [{"id": f"s{i}", "sad_unknown": str(v)} for i, v in enumerate(values)]
        return Run(Path("."), "m", "", "d", seed, {}, samples=samples)

    a = [run(1, [1, 2, 3]), run(2, [2, 2, 2])]
    b = [run(1, [0, 0, 1]), run(2, [1, 1, 1])]
    d = paired_differences(a, b, "sad_unknown")
    assert sorted(d.tolist()) == [1, 1, 1, 1, 2, 2]  # 3 samples x 2 seeds
    assert bootstrap_interval(np.ones(10)) == (1.0, 1.0)
    low, high = bootstrap_interval(np.array([-1.0, 1.0] * 50))
    assert low < 0 < high and bootstrap_interval(np.array([1.0])) is None


def test_runs_on_different_test_sets_are_never_in_one_table(tmp_path):
    make_run(tmp_path, "hdmatt", 1, [1.0, 2.0], ["image", "trimap"])
    other = {**SET, "manifest_sha256": "cd" * 32}
    make_run(tmp_path, "modnet", 1, [1.0, 2.0], ["image"], testset=other, dtssd=3.0)
    report = write_report(find_runs([tmp_path]), tmp_path / "out").read_text()
    assert "2 different test sets" in report
    sections = report.split("## Test set")[1:]
    assert len(sections) == 2
    assert sum("| hdmatt |" in s for s in sections) == sum("| modnet |" in s for s in sections) == 1
    assert sum("dtSSD" in s.split("\n\n")[2] for s in sections) == 1  # the clip set only


def test_benchmark_rows_join_runs_by_model_config_name(comparison: Path):
    """`mattebench.bench` names rows by model config, as runs are named: no alias table. The
    fastest 512x512 row of a method is its FPS, whatever other sizes were measured."""
    bench = comparison / "bench.json"
    rows = [
        {"method": "bgmv2", "size": "512x512", "fps": 4.0, "peak_mem_mib": 900.0},
        {"method": "bgmv2", "size": "512x512", "fps": 5.0, "peak_mem_mib": 950.0},
        {"method": "bgmv2", "size": "1920x1080", "fps": 9.0, "peak_mem_mib": 2000.0},
        {"method": "bgmv2_resnet50_hd", "size": "512x512", "fps": 7.0, "peak_mem_mib": 1.0},
    ]
    bench.write_text(json.dumps({"meta": {}, "results": rows}))
    report = write_report(find_runs([comparison]), comparison, bench=bench).read_text()
    table = rows_of(report)
    assert (table["bgmv2"]["FPS"], table["bgmv2"]["peak MB"]) == ("5.0", "950.0")
    assert (table["hdmatt"]["FPS"], table["hdmatt"]["peak MB"]) == ("—", "—")


def test_families_come_from_what_the_method_declares(comparison: Path):
    """method.json's `segmentation` (MattingMethod.segmentation), not the method's name."""
    path = make_run(comparison, "my_segmenter", 1, [9.0] * 40, ["image"])
    (path / "method.json").write_text(json.dumps({"inputs": ["image"], "segmentation": True}))
    rows = summarise(find_runs([comparison]), "unknown", {})
    family = {row["method"]: row["family"] for row in rows}
    assert family["my_segmenter"] == "segmentation"
    assert family["modnet"] == "trimap-free matting (image only)"
