"""The comparison report on hand-made run directories: what each number is (inputs, families,
whole image beside unknown band, dtSSD on clip sets only), one table per test set, rows keyed by
run directory and split by config, families ranked on what they are given, intervals that
resample units and seeds (with a coverage simulation), and the reference rows to beat."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from omegaconf import OmegaConf

from mattebench.report import find_runs, interval, summarise, write_report
from mattebench.testsets import TestSet

SET = {"name": "videomatte_sample/test", "manifest_sha256": "ab" * 32, "path": "x"}


def make_run(
    root: Path,
    method: str,
    seed: int | None,
    sad: list[float],
    inputs: list[str],
    *,
    testset: dict | None = SET,
    dtssd: float | None = None,
    sad_image: list[float] | None = None,
    ids: list[str] | None = None,
    units: list[str] | None = None,
    config: dict | None = None,
    run: dict | None = None,
    name: str | None = None,
) -> Path:
    """A finished run as train.py (or, with `run`, eval.py) leaves it: config, metrics,
    per-sample rows (`sad` on the unknown band; the whole image is twice that unless given),
    method.json. `units` adds the `unit` column."""
    path = root / (name or f"{method}_{seed}")
    path.mkdir(parents=True)
    sad_image = [2 * v for v in sad] if sad_image is None else sad_image
    ids = ids or [f"clip/{i}" for i in range(len(sad))]
    cfg = {"method": method, "seed": seed, "dataset": "videomatte_sample", **(config or {})}
    OmegaConf.save(cfg, path / "config.yaml")
    metrics = {"test/sad_unknown": float(np.mean(sad)), "test/sad_image": float(np.mean(sad_image)),
               "test/iou": 0.9, "params": 1_000_000, "train/steps": 30 * len(method)}  # fmt: skip
    for key, value in (("testset", testset), ("test/dtssd", dtssd), ("run", run)):
        if value is not None:
            metrics[key] = value
    (path / "metrics.json").write_text(json.dumps(metrics))
    (path / "method.json").write_text(json.dumps({"inputs": inputs}))
    rows = [
        {"id": i, "sad_unknown": u, "sad_image": w}
        for i, u, w in zip(ids, sad, sad_image, strict=True)
    ]
    for row, unit in zip(rows, units or [None] * len(rows), strict=True):
        if unit is not None:
            row["unit"] = unit
    with (path / "test_samples.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def comparison(tmp_path: Path) -> Path:
    """Old runs: no `unit` column on an image set (no dtSSD)."""
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


def rows_of(report: str) -> dict[str, dict[str, str]]:
    """The first table's rows by their first cell (family rows included)."""
    lines = ("| " + report.split("\n\n| ", 1)[1].split("\n\n")[0]).splitlines()
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(header, cells, strict=True))
    return rows


def report_of(root: Path, out: Path, **kwargs) -> str:
    return write_report(find_runs([root]), out, **kwargs).read_text()


FAMILY = "ΔSAD vs family best [95% CI]"
OVERALL = "ΔSAD img vs best overall [95% CI]"
REFERENCE = "vs best reference [95% CI]"


def test_the_table_says_what_each_number_is(comparison, tmp_path):
    report = report_of(comparison, tmp_path / "out")
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
    assert "(ranked on SAD unk)" in families[1] and "(ranked on SAD img)" in families[2]
    html = (tmp_path / "out" / "report.html").read_text()
    assert "**" not in html and "<strong>trimap-based matting (image + trimap)</strong>" in html


def test_rows_are_compared_within_their_family_and_across_on_the_whole_image(comparison, tmp_path):
    rows = rows_of(report_of(comparison, tmp_path / "out"))
    assert rows["hdmatt"][FAMILY] == rows["bgmv2"][FAMILY] == rows["modnet"][FAMILY] == "best"
    assert rows["modnet_temporal"][FAMILY].startswith("+2.00")  # whole image: twice the band
    assert rows["hdmatt"][OVERALL] == "best"
    assert rows["bgmv2"][OVERALL].startswith("+6.00") and "noise" not in rows["bgmv2"][OVERALL]
    assert "within noise" in rows["modnet"][OVERALL]
    # old runs: no unit column, not a clip set, so every sample is its own unit, and said so
    assert rows["bgmv2"][OVERALL].endswith(
        "(40 samples × 2 seeds, paired) (units unknown: samples treated as independent)"
    )


def test_intervals_cover_the_true_difference_where_frame_intervals_do_not():
    """Simulated clip sets: frames share their clip's effect, each training run (seed) shifts
    its method's every sample. The hierarchical interval covers the true difference about 95 %
    of the time; resampling frames x seeds as independent covers it far less often."""
    rng = np.random.default_rng(0)
    clips, frames, seeds, truth, repeats = 20, 10, 5, 0.5, 300
    unit = np.repeat(np.arange(clips), frames)
    covered = np.zeros(2)

    def method(mean: float, difficulty: np.ndarray) -> np.ndarray:  # seeds x samples
        per_clip = difficulty + rng.normal(0, 1.0, clips)  # how this method fares on each clip
        per_seed = rng.normal(0, 0.3, (seeds, 1))  # its training run
        return mean + per_clip[unit] + per_seed + rng.normal(0, 0.5, (seeds, unit.size))

    for _ in range(repeats):
        difficulty = rng.normal(0, 2, clips)  # shared by both methods: cancels when paired
        a, b = method(truth, difficulty), method(0.0, difficulty)
        new = interval(a, b, unit, paired_seeds=True, resamples=500)
        old = np.percentile(_frame_bootstrap(a - b, rng, 500), [2.5, 97.5])
        covered += [new[0] <= truth <= new[1], old[0] <= truth <= old[1]]
    new_rate, old_rate = covered / repeats
    assert 0.88 <= new_rate <= 0.99
    assert old_rate < 0.7


def _frame_bootstrap(differences: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """The report's old interval: samples x seeds pooled and resampled one by one."""
    pooled = differences.ravel()
    return pooled[rng.integers(0, pooled.size, (n, pooled.size))].mean(axis=1)


def test_interval_basics():
    unit = np.repeat(np.arange(4), 3)
    ones = np.ones((2, 12))
    assert interval(ones, 0 * ones, unit, paired_seeds=True) == (1.0, 1.0)
    signs = np.array([[-1.0, 1.0] * 6])
    low, high = interval(signs, 0 * signs, unit, paired_seeds=False)
    assert low < 0 < high
    assert interval(ones, ones, np.zeros(12, int), paired_seeds=True) is None  # one unit


def clip_runs(root: Path, method: str, seed: int, shift: float, rng, inputs=("image",), **kw):
    """A run on a clip set of 5 clips x 8 frames, ids `<set>/<clip>/<frame>`."""
    ids = [f"videomatte_sample/test/{c:04d}/{f:04d}" for c in range(5) for f in range(8)]
    clip = np.repeat(rng.normal(0, 1, 5), 8)
    values = 10 + shift + clip + rng.normal(0, 0.2, 40)
    return make_run(root, method, seed, list(values), list(inputs), ids=ids, dtssd=1.0,
                    sad_image=list(values), **kw)  # fmt: skip


def test_a_two_seed_comparison_shows_per_seed_values_and_what_intervals_rest_on(tmp_path):
    rng = np.random.default_rng(1)
    units = [f"clip{c}" for c in range(5) for _ in range(8)]
    for seed in (1, 2):
        clip_runs(tmp_path, "modnet", seed, 0.0, rng, units=units)
        clip_runs(tmp_path, "modnet_temporal", seed, 0.5, rng, inputs=("image", "prev_alpha"),
                  units=units)  # fmt: skip
    clip_runs(tmp_path, "modnet_soc", 1, 1.0, rng, units=units)
    rows = rows_of(report_of(tmp_path, tmp_path / "out"))
    seeds = [json.loads((tmp_path / f"modnet_{s}" / "metrics.json").read_text()) for s in (1, 2)]
    assert rows["modnet"]["ranked SAD per seed"] == (
        f"s1 {seeds[0]['test/sad_image']:.2f} · s2 {seeds[1]['test/sad_image']:.2f}"
    )
    assert rows["modnet_temporal"][FAMILY].endswith("(5 clips × 2 seeds, paired)")
    assert rows["modnet_soc"][FAMILY].endswith(
        "(5 clips × 1 vs 2 seeds: a 1-seed row's training variance not covered)"
    )
    assert "dtSSD" in rows["modnet"]


def test_old_clip_runs_take_their_units_from_the_sample_ids(tmp_path):
    rng = np.random.default_rng(2)
    clip_runs(tmp_path, "modnet", 1, 0.0, rng)
    clip_runs(tmp_path, "modnet_temporal", 1, 0.5, rng, inputs=("image", "prev_alpha"))
    rows = rows_of(report_of(tmp_path, tmp_path / "out"))
    assert rows["modnet_temporal"][FAMILY].endswith(
        "(5 clips × 1 seed: training variance not covered)"
    )


def test_evaluations_of_different_checkpoints_of_one_method_are_all_used(tmp_path):
    """eval.py runs with the seed of the run they evaluated (`metrics.json["run"]`) and that
    run's config; before, all had seed 42 and one was dropped from the pairing."""
    trained = {}
    for name in ("a", "b"):
        trained[name] = tmp_path / "train" / name
        trained[name].mkdir(parents=True)
        OmegaConf.save({"method": "modnet", "seed": 1, "model": {"lr": 0.01}},
                       trained[name] / "config.yaml")  # fmt: skip
    evals = tmp_path / "evals"
    old_eval = {"model": {"lr": 0.01}}  # eval.yaml's own config: seed 42 for every checkpoint
    for name, sad in (("a", 10.0), ("b", 12.0)):
        run = {"checkpoint": "best.ckpt", "trained_in": str(trained[name]), "seed": 1}
        make_run(evals, "modnet", 42, [sad / 2] * 8, ["image"], config=old_eval, run=run,
                 name=f"eval_{name}")  # fmt: skip
    elsewhere = {"checkpoint": "/downloads/modnet.ckpt", "trained_in": None, "seed": None}
    make_run(evals, "modnet", None, [7.0] * 8, ["image"], config=old_eval, run=elsewhere,
             name="eval_downloaded")  # fmt: skip
    make_run(evals, "modnet_temporal", 1, [6.0] * 8, ["image", "prev_alpha"])
    rows = rows_of(report_of(evals, tmp_path / "out"))
    assert rows["modnet"]["runs"] == "3"
    assert rows["modnet"]["ranked SAD per seed"] == "s1 11.00 (2 runs) · s? (eval_downloaded) 14.00"
    assert rows["modnet"]["SAD img"].startswith("12.50 ± ")  # mean over the two seeds
    assert rows["modnet_temporal"][FAMILY] == "best"
    assert rows["modnet"][FAMILY].startswith("+0.50")  # 12.5 - 12: every run used


def test_runs_that_differ_in_more_than_the_seed_never_share_a_row(tmp_path):
    def config(path: Path, lr: float, seed: int) -> dict:
        """What differs between any two runs (paths, names) besides what defines them."""
        checkpoints = {"model_checkpoint": {"dirpath": str(path / "checkpoints")}}
        return {"model": {"lr": lr}, "run_name": f"modnet_s{seed}",
                "paths": {"output_dir": str(path)}, "callbacks": checkpoints}  # fmt: skip

    for lr, seeds in ((0.01, (1, 2)), (0.001, (1,))):
        for seed in seeds:
            path = tmp_path / f"modnet_{lr}_{seed}"
            make_run(tmp_path, "modnet", seed, [5.0 + seed + 100 * lr] * 8, ["image"],
                     config=config(path, lr, seed), name=path.name)  # fmt: skip
    report = report_of(tmp_path, tmp_path / "out")
    rows = rows_of(report)
    assert rows["modnet [model.lr=0.01]"]["runs"] == "2"
    assert rows["modnet [model.lr=0.001]"]["runs"] == "1"
    assert "**Rows split by:** model.lr (modnet)." in report


def test_families_are_ranked_on_what_they_are_given(tmp_path):
    """A near-constant trimap-free matte has a small error on the trimap's band and a large one
    on the whole frame: it must not rank above a trimap method, nor above a real matte."""
    for seed in (1, 2):
        make_run(tmp_path, "hdmatt", seed, [5.0 + seed] * 8, ["image", "trimap"],
                 sad_image=[5.0 + seed] * 8)  # fmt: skip
        make_run(tmp_path, "constant", seed, [3.0 + seed] * 8, ["image"],
                 sad_image=[40.0 + seed] * 8)  # fmt: skip
        make_run(tmp_path, "modnet", seed, [6.0 + seed] * 8, ["image"],
                 sad_image=[10.0 + seed] * 8)  # fmt: skip
    rows = rows_of(report_of(tmp_path, tmp_path / "out"))
    assert rows["hdmatt"][FAMILY] == rows["modnet"][FAMILY] == "best"
    assert rows["constant"][FAMILY].startswith("+30.00")
    assert rows["hdmatt"][OVERALL] == "best" and rows["constant"][OVERALL].startswith("+35.00")


def test_summarise_takes_families_from_what_the_method_declares(comparison: Path):
    """method.json's `segmentation` (MattingMethod.segmentation), not the method's name."""
    path = make_run(comparison, "my_segmenter", 1, [9.0] * 40, ["image"])
    (path / "method.json").write_text(json.dumps({"inputs": ["image"], "segmentation": True}))
    rows = summarise(find_runs([comparison]), {})
    family = {row["method"]: row["family"] for row in rows}
    assert family["my_segmenter"] == "segmentation"
    assert family["modnet"] == "trimap-free matting (image only)"


def tiny_testset(folder: Path) -> dict:
    """A built test set by hand: 3 foregrounds (units) x 2 composites, 24x32, with trimaps and
    plates; returns its `TestSet.info()` as runs record it."""
    samples, files = [], {}
    rng = np.random.default_rng(0)
    for fg in range(3):
        ramp = np.clip((np.arange(32) - 18 - 2 * fg) / 8, 0, 1)  # 0, then up to 1 in 8 columns
        for k in range(2):
            sid = f"fg{fg}_{k}"
            alpha = np.tile(ramp, (24, 1))
            bgr = rng.uniform(0, 1, (24, 32, 3))
            image = alpha[..., None] * np.array([0.9, 0.5, 0.1]) + (1 - alpha[..., None]) * bgr
            trimap = np.where(alpha == 0, 0, np.where(alpha == 1, 255, 128))
            trimap[:, 14:18] = 128  # the band is wider than the transition
            arrays = {"image": image, "alpha": alpha, "trimap": trimap / 255, "bgr": bgr}
            entry = {"id": sid, "files": {}, "size": [24, 32], "unit": f"fg{fg}"}
            for role, array in arrays.items():
                name = f"{role}/{sid}.png"
                (folder / role).mkdir(parents=True, exist_ok=True)
                pixels = np.round(array * 255).astype(np.uint8)
                cv2.imwrite(str(folder / name), pixels[..., ::-1] if pixels.ndim == 3 else pixels)
                entry["files"][role] = name
                files[name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
            samples.append(entry)
    manifest = {"name": "tiny", "samples": samples, "files": files, "sha256": ""}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    manifest["sha256"] = TestSet(folder).info()["manifest_sha256"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return TestSet(folder).info()


def test_reference_rows_are_scored_on_the_test_set_and_flag_what_they_beat(tmp_path):
    info = tiny_testset(tmp_path / "tiny")
    dataset = TestSet(tmp_path / "tiny")
    alphas = [item["alpha"][0].double().numpy() for item in dataset]
    bands = [item["trimap"][0].numpy() == 0.5 for item in dataset]
    empty = [a.sum() / 1000 for a in alphas]  # SAD of alpha = 0, by hand
    trimap_alone = [np.abs(0.5 - a)[b].sum() / 1000 for a, b in zip(alphas, bands, strict=True)]
    ids = [f"tiny/{s['id']}" for s in dataset.samples]
    units = [s["unit"] for s in dataset.samples]
    runs = tmp_path / "runs"
    common = {"testset": info, "ids": ids, "units": units}
    make_run(runs, "modnet", 1, [0.0] * 6, ["image"], sad_image=[e / 5 for e in empty], **common)
    make_run(runs, "lazy_free", 1, [0.0] * 6, ["image"], sad_image=[e + 0.05 for e in empty],
             **common)  # fmt: skip
    make_run(runs, "lazy_trimap", 1, [t + 0.01 for t in trimap_alone], ["image", "trimap"],
             sad_image=[t + 0.01 for t in trimap_alone], **common)  # fmt: skip
    make_run(runs, "bgmv2", 1, [0.0] * 6, ["image", "bgr"], sad_image=[0.0] * 6, **common)
    report = report_of(runs, tmp_path / "out")
    rows = rows_of(report)
    assert float(rows["reference: empty matte (α = 0)"]["SAD img"]) == pytest.approx(
        np.mean(empty), abs=0.005
    )
    assert float(rows["reference: trimap alone"]["SAD unk"]) == pytest.approx(
        np.mean(trimap_alone), abs=0.005
    )
    assert rows["reference: trimap alone"][REFERENCE] == "reference"
    assert rows["modnet"][REFERENCE].startswith("beats empty matte (α = 0): -")
    assert rows["lazy_free"][REFERENCE].startswith("⚠ does not beat empty matte (α = 0): +0.05")
    assert rows["lazy_free"][REFERENCE].endswith(
        "(3 units × 1 seed: training variance not covered)"
    )
    assert rows["lazy_trimap"][REFERENCE].startswith("⚠ does not beat trimap alone: +0.01")
    assert rows["bgmv2"][REFERENCE].startswith("beats plate difference > 0.1")
    assert "reference: constant α = 0.5" in rows

    # cached beside the report: a moved test set still has its references there, not elsewhere
    (tmp_path / "tiny").rename(tmp_path / "moved")
    assert "reference: trimap alone" in rows_of(report_of(runs, tmp_path / "out"))
    moved = report_of(runs, tmp_path / "elsewhere")
    assert "reference: trimap alone" not in rows_of(moved)
    assert "trimap alone, plate difference > 0.1" in moved and "skipped (test set " in moved


def test_runs_on_different_test_sets_are_never_in_one_table(tmp_path):
    make_run(tmp_path, "hdmatt", 1, [1.0, 2.0], ["image", "trimap"])
    other = {**SET, "manifest_sha256": "cd" * 32}
    make_run(tmp_path, "modnet", 1, [1.0, 2.0], ["image"], testset=other, dtssd=3.0)
    report = report_of(tmp_path, tmp_path / "out")
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
    table = rows_of(report_of(comparison, comparison, bench=bench))
    assert (table["bgmv2"]["FPS"], table["bgmv2"]["peak MB"]) == ("5.0", "950.0")
    assert (table["hdmatt"]["FPS"], table["hdmatt"]["peak MB"]) == ("—", "—")


def test_a_unit_that_is_the_sample_id_is_no_unit(tmp_path):
    """Records write an item without a unit as its own id: samples are then independent, and
    the report says so rather than claiming units."""
    ids = [f"photos/{i}" for i in range(12)]
    make_run(tmp_path, "modnet", 1, [1.0 + i % 3 for i in range(12)], ["image"], ids=ids,
             units=ids)  # fmt: skip
    make_run(tmp_path, "modnet_temporal", 1, [2.0 + i % 2 for i in range(12)],
             ["image", "prev_alpha"], ids=ids, units=ids)  # fmt: skip
    rows = rows_of(report_of(tmp_path, tmp_path / "out"))
    assert rows["modnet_temporal"][FAMILY].endswith(
        "(12 samples × 1 seed: training variance not covered) "
        "(units unknown: samples treated as independent)"
    )
