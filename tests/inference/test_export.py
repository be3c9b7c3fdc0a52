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
        ["model=bgmv2_mobilenetv2"],  # the sampling refine, exported as it runs
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
    assert report["differs"] is None  # the graph computes what `infer` does
    assert json.loads((tmp_path / "x" / "export.json").read_text()) == report


@pytest.mark.parametrize(("mode", "exported"), [("sampling", "sampling"), ("thresholding", "full")])
def test_bgmv2_declares_how_its_refiner_is_exported(config, tmp_path, mode, exported):
    """Sampling (a fixed top-k) exports as it runs; thresholding (a data-dependent count) as
    full, and says so."""
    from mattebench.export import exportable
    from mattebench.inference.load import load_method

    overrides = ("model=bgmv2_mobilenetv2", f"model.net.refine_mode={mode}", "out=unused")
    module, differs = exportable(load_method(config(*overrides, name="export").model))
    assert module.net.refiner.mode == exported
    assert (differs is None) == (mode == exported)


def test_the_sampling_refine_graph_picks_patches_by_its_input(config, tmp_path):
    """Fewer refined patches than the image has: the graph's top-k follows the new input's
    error map (checked on another input than the traced one)."""
    cfg = config("model=bgmv2_mobilenetv2", "model.net.refine_sample_pixels=2000",
                 f"out={tmp_path / 'x'}", "height=128", "width=128", "formats=[onnx]",
                 f"atol={ATOL}", name="export")  # fmt: skip
    result = export(cfg)["formats"]["onnx"]
    assert result["ok"], result
