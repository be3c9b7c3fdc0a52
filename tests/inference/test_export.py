"""ONNX (checked with onnxruntime) and TorchScript round trips on CPU at 64x64, on another
input than the traced one; tolerance: max |difference| <= 1e-4 per output."""

from __future__ import annotations

import json

import pytest

from mattebench.export import export

ATOL = 1e-4


@pytest.mark.parametrize(
    "overrides",
    [
        ["model=modnet"],
        ["model=modnet_temporal"],
        ["model=bgmv2_base", "model.net.backbone=mobilenetv2"],
        ["model=bgmv2_mobilenetv2"],  # refine exported in "full" mode
    ],
)
def test_round_trip_matches_pytorch(config, tmp_path, overrides):
    cfg = config(*overrides, f"out={tmp_path / 'x'}", "height=64", "width=64", f"atol={ATOL}",
                 name="export")  # fmt: skip
    report = export(cfg)
    for fmt in ("onnx", "torchscript"):
        result = report["formats"][fmt]
        assert result["ok"], result
        assert max(result["max_abs_diff"].values()) <= ATOL
    outputs = report["formats"]["onnx"]["max_abs_diff"]
    assert set(outputs) == ({"alpha", "fgr"} if "bgmv2" in overrides[0] else {"alpha"})
    name = overrides[0].removeprefix("model=")  # files are named by the model config
    assert report["formats"]["onnx"]["path"].endswith(f"/x/{name}.onnx")
    refines = overrides == ["model=bgmv2_mobilenetv2"]
    assert (report["differs"] is not None) == refines  # what the graph does unlike `infer`
    assert json.loads((tmp_path / "x" / "export.json").read_text()) == report


def test_bgmv2_declares_its_refiner_is_exported_in_full_mode(config, tmp_path):
    from mattebench.export import exportable
    from mattebench.inference.load import load_method

    cfg = config("model=bgmv2_mobilenetv2", "out=unused", name="export")
    module, differs = exportable(load_method(cfg.model))
    assert module.net.refiner.mode == "full" and differs.startswith('refiner mode "full"')
