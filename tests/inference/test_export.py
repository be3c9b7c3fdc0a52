"""ONNX (checked with onnxruntime) and TorchScript round trips on CPU at 64x64, on another
input than the traced one; tolerance: max |difference| <= 1e-4 per output. An export without
weights is refused unless asked for, and an existing file only replaced when export.py wrote it
(its sha256 in export.json) and `overwrite=true`."""

from __future__ import annotations

import json

import pytest
import torch

from mattebench.errors import UserError
from mattebench.export import export
from mattebench.models.bgmv2 import MattingBase

ATOL = 1e-4
#: The cheapest export: BGMv2 stage 1 on MobileNetV2, ONNX alone, 32x32.
CHEAP = ("model=bgmv2_base", "model.net.backbone=mobilenetv2", "height=32", "width=32",
         "formats=[onnx]")  # fmt: skip


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
                 "allow_random_weights=true", name="export")  # fmt: skip
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
                 f"atol={ATOL}", "allow_random_weights=true", name="export")  # fmt: skip
    result = export(cfg)["formats"]["onnx"]
    assert result["ok"], result


def test_random_weights_are_refused_unless_asked_for(config, tmp_path):
    out = tmp_path / "x"
    with pytest.raises(UserError, match=r"no weights to export.*allow_random_weights=true"):
        export(config(*CHEAP, f"out={out}", name="export"))
    assert not out.exists()


def test_an_existing_file_is_replaced_only_if_export_wrote_it_and_overwrite_is_set(
    config, tmp_path
):
    weights = tmp_path / "base.pth"  # model.init_weights counts as weights
    torch.save(MattingBase("mobilenetv2").state_dict(), weights)
    out = tmp_path / "x"
    common = (*CHEAP, f"out={out}", f"model.init_weights={weights}")
    report = export(config(*common, name="export"))
    graph = out / "bgmv2_base.onnx"
    assert report["formats"]["onnx"]["ok"] and set(report["files"]) == {graph.name}
    with pytest.raises(FileExistsError, match=r"already holds bgmv2_base\.onnx.*overwrite=true"):
        export(config(*common, name="export"))
    export(config(*common, "overwrite=true", name="export"))  # ours, unchanged: replaced
    graph.write_bytes(b"edited by the user")
    with pytest.raises(FileExistsError, match=r"bgmv2_base\.onnx .*did not write or which changed"):
        export(config(*common, "overwrite=true", name="export"))
    assert graph.read_bytes() == b"edited by the user"


def test_a_file_export_did_not_write_is_never_overwritten(config, tmp_path):
    out = tmp_path / "x"
    out.mkdir()
    (out / "bgmv2_base.onnx").write_text("the user's")
    common = (*CHEAP, f"out={out}", "allow_random_weights=true")
    for overwrite in ("false", "true"):
        with pytest.raises(FileExistsError, match=r"bgmv2_base\.onnx"):
            export(config(*common, f"overwrite={overwrite}", name="export"))
    assert (out / "bgmv2_base.onnx").read_text() == "the user's"
    assert not (out / "export.json").exists()
