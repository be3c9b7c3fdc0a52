"""`python -m mattebench.bench --quick` on CPU at a tiny size writes the report's JSON."""

from __future__ import annotations

import json
import subprocess
import sys

from mattebench import bench

FIELDS = {
    "method", "size", "batch", "dtype", "channels_last", "compile", "params_m", "gmacs",
    "latency_ms", "fps", "peak_mem_mib", "error",
}  # fmt: skip


def test_quick_cpu_bench_writes_every_field(tmp_path, capsys):
    out = tmp_path / "bench.json"
    bench.main([
        "--device", "cpu", "--quick", "--sizes", "64x64", "--warmup", "0",
        "--methods", "modnet", "bgmv2_mobilenetv2_hd", "--json", str(out),
    ])  # fmt: skip
    report = json.loads(out.read_text())
    assert report["meta"]["device"] == "cpu"
    rows = report["results"]
    assert [r["method"] for r in rows] == ["modnet", "bgmv2_mobilenetv2_hd"]
    for row in rows:
        assert set(row) >= FIELDS and row["error"] is None
        assert row["latency_ms"] > 0 and row["fps"] > 0 and row["gmacs"] > 0
        assert row["peak_mem_mib"] > 0 and row["params_m"] > 1
    assert "| modnet | 64x64 |" in capsys.readouterr().out


def test_bench_imports_no_training_stack():
    """The CUDA machine has torch and timm but no Hydra, Lightning or kornia."""
    code = (
        "import sys, mattebench.bench; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'hydra', 'omegaconf', 'lightning', 'kornia', 'torchmetrics', 'albumentations'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_onnx_runtime_rows_time_the_exported_graph(tmp_path):
    out = tmp_path / "bench.json"
    bench.main([
        "--device", "cpu", "--quick", "--sizes", "64x64", "--warmup", "0", "--runtimes", "onnx",
        "--methods", "modnet", "bgmv2_mobilenetv2_hd", "--json", str(out),
    ])  # fmt: skip
    modnet, bgmv2 = json.loads(out.read_text())["results"]
    assert modnet["runtime"] == "onnx" and modnet["error"] is None and modnet["latency_ms"] > 0
    assert "sampling refine is not exportable" in bgmv2["error"]
