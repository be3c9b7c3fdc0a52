"""benchmarks/gpu.py on the CPU: its rows, its time budget and error isolation, merged runs."""

import argparse
import json
from pathlib import Path

import pytest
import torch

from benchmarks import gpu

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "gpu_h200.json"


def make_run(tmp_path: Path, budget: float = 100.0) -> gpu.Run:
    args = argparse.Namespace(out=tmp_path, budget=budget, tiny=True, data_dir=None,
                              fdr_dir=tmp_path / "fdr", only=None, fit_steps=0)  # fmt: skip
    return gpu.Run(args, torch.device("cpu"))


def test_speed_row_static_and_official_refiner_refine_the_same_patches(tmp_path):
    run = make_run(tmp_path)
    variant = gpu.variants()["bgmv2_mobilenetv2_hd"]
    static = gpu.speed_row(run, variant, "64x48", "fp32")
    official = gpu.speed_row(run, variant, "64x48", "fp32", static=False)
    assert "error" not in static and "error" not in official
    assert (static["patches"], official["patches"]) == ("static", "nonzero")
    assert 0 < static["refined"] == official["refined"] <= 80_000 // 16
    assert static["fps"] == pytest.approx(1e3 / static["latency_ms"])


def test_a_failing_part_is_recorded_and_a_part_over_budget_skipped(tmp_path):
    run = make_run(tmp_path, budget=50)
    calls = []

    def broken(run):
        calls.append("broken")
        raise RuntimeError("CUDA out of memory\nmore lines")

    run.part("broken", 10, broken)
    run.part("too long", 60, lambda run: calls.append("too long"))
    run.part("next", 10, lambda run: calls.append("next"))
    assert calls == ["broken", "next"]
    written = json.loads((tmp_path / "gpu.json").read_text())
    assert written["errors"] == [{"part": "broken", "error": "RuntimeError: CUDA out of memory"}]
    assert [s["part"] for s in written["skipped"]] == ["too long"]


def test_merge_replaces_rows_of_a_rerun_and_keeps_the_rest():
    row = {"method": "bgmv2", "size": 1024, "batch": 8, "precision": "16-mixed"}
    first = {"meta": {"time": "t1"}, "train": [row | {"error": "Index put"}, row | {"size": 512}],
             "refiner": [{"mode": "eager"}]}  # fmt: skip
    second = {"meta": {"time": "t2"}, "train": [row | {"step_ms": 117.0}],
              "refiner": [{"mode": "eager"}]}  # fmt: skip
    merged = gpu.merge([first, second])
    assert merged["meta"]["runs"] == ["t1", "t2"]
    assert merged["train"] == [row | {"step_ms": 117.0}, row | {"size": 512}]
    assert len(merged["refiner"]) == 2


def test_tables_show_every_committed_speed_row():
    results = json.loads(RESULTS.read_text())
    text = gpu.tables(results)
    assert results["meta"]["gpu"] in text.splitlines()[0]
    for row in results["speed"]:
        cell = row["error"][:80] if "error" in row else f"{row['latency_ms']:.2f}"
        assert f"| {row['method']} | {row['size']} | {row['dtype']} |" in text
        assert cell in text
