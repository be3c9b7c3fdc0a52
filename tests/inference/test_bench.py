"""`python -m mattebench.bench` on CPU at a tiny size: methods by model config name, built and
called as evaluation does, rows with every field, ONNX rows, Ctrl-C keeps the finished rows."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mattebench.bench import cli, measure
from mattebench.registry import model_names

FIELDS = {
    "method", "size", "batch", "dtype", "channels_last", "compile", "runtime", "params_m",
    "gmacs", "latency_ms", "fps", "peak_mem_mib", "note", "error",
}  # fmt: skip
TINY = ["--device", "cpu", "--quick", "--sizes", "64x64", "--warmup", "0", "--reps", "1"]


def bench(tmp_path, *args: str) -> dict:
    out = tmp_path / "bench.json"
    cli.main([*TINY, *args, "--json", str(out)])
    return json.loads(out.read_text())


def test_quick_cpu_bench_writes_every_field(tmp_path, capsys):
    report = bench(tmp_path, "--methods", "bgmv2_mobilenetv2", "tiramisu56")
    assert report["meta"]["device"] == "cpu" and report["meta"]["complete"]
    rows = report["results"]
    assert [r["method"] for r in rows] == ["bgmv2_mobilenetv2", "tiramisu56"]
    for row in rows:
        assert set(row) == FIELDS and row["error"] is None
        assert row["latency_ms"] > 0 and row["fps"] > 0 and row["gmacs"] > 0
        assert row["peak_mem_mib"] > 0 and row["params_m"] > 1
    assert "| tiramisu56 | 64x64 |" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("name", model_names())
def test_every_model_config_is_benchmarked_by_its_name(tmp_path, name):
    (row,) = bench(tmp_path, "--methods", name)["results"]
    assert row["method"] == name and row["error"] is None, row
    assert row["latency_ms"] > 0


def test_unknown_name_lists_the_model_configs(capsys):
    with pytest.raises(SystemExit):
        cli.parse_args(["--methods", "bgmv2_resnet50_hd"])
    error = capsys.readouterr().err
    assert "bgmv2_resnet50_hd" in error and "bgmv2_base" in error


def test_timing_imports_no_training_stack():
    """`benchmarks/gpu.py` reuses the timing helpers on a CUDA machine without Hydra,
    Lightning or kornia."""
    code = (
        "import sys, mattebench.bench.timing; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'hydra', 'omegaconf', 'lightning', 'kornia', 'torchmetrics', 'albumentations'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_onnx_rows_run_the_exported_graph_inside_infer(tmp_path):
    rows = bench(tmp_path, "--runtimes", "onnx", "--methods", "bgmv2_mobilenetv2")["results"]
    (bgmv2,) = rows
    assert bgmv2["runtime"] == "onnx" and bgmv2["error"] is None and bgmv2["latency_ms"] > 0
    assert bgmv2["note"] is None  # the sampling refine exports as it runs


def test_interrupt_writes_the_rows_finished(tmp_path, monkeypatch):
    measured = measure.measure

    def stop_at_the_second(subject, *args):
        if subject.name == "tiramisu56":
            raise KeyboardInterrupt
        return measured(subject, *args)

    monkeypatch.setattr(measure, "measure", stop_at_the_second)
    report = bench(tmp_path, "--methods", "bgmv2_mobilenetv2", "tiramisu56")
    assert not report["meta"]["complete"]
    assert [r["method"] for r in report["results"]] == ["bgmv2_mobilenetv2"]
