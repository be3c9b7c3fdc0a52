"""`infer.py runtime=onnx`: every exportable method, exported by export.py, writes the same
mattes as the PyTorch path on the same input and weights (BGMv2's sampling refiner on both
sides: it exports as it runs, see MattingMethod.prepare_export)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from mattebench.errors import UserError
from mattebench.export import export
from mattebench.inference.load import load_method
from mattebench.inference.task import infer

# The graph is the method's `predict` at the export's fixed size; a resize of the inference
# policy (MODNet's ref_size rule) happens outside it, so MODNet is compared at native size.
METHODS = {
    "modnet": ("model=modnet", "model.ref_size=null"),
    "modnet_temporal": ("model=modnet_temporal", "model.ref_size=null"),
    "bgmv2_base": ("model=bgmv2_base", "model.net.backbone=mobilenetv2"),
    "bgmv2": ("model=bgmv2", "model.net.backbone=mobilenetv2"),
}


def seeded_checkpoint(config, overrides, path):
    """A train.py-style checkpoint of seeded random weights (BN statistics included, so the
    normalisation is not the identity), loaded by both paths."""
    torch.manual_seed(0)
    method = load_method(config(*overrides, "input=x", "output=y").model)
    state = method.state_dict()
    for key, value in state.items():
        if key.endswith("running_var"):
            value.uniform_(0.5, 2.0)
        elif key.endswith("running_mean"):
            value.normal_(0, 0.1)
    torch.save({"state_dict": state}, path)
    return path


@pytest.mark.parametrize("name", METHODS)
def test_onnx_runtime_writes_the_mattes_of_the_pytorch_path(name, config, inputs, tmp_path):
    overrides = METHODS[name]
    ckpt = seeded_checkpoint(config, overrides, tmp_path / "w.ckpt")
    report = export(config(*overrides, f"out={tmp_path / 'export'}", f"ckpt_path={ckpt}",
                           "height=64", "width=64", "formats=[onnx]", name="export"))  # fmt: skip
    assert report["formats"]["onnx"]["ok"], report
    source = inputs["video"] if name == "modnet_temporal" else inputs["folder"]
    common = (
        *overrides,
        f"input={source}",
        "device=cpu",
        "outputs=[alpha,fgr]",
        "keep_frames=true",
    )
    if name.startswith("bgmv2"):
        common = (*common, f"bgr={inputs['plate']}")
    torch_out = infer(config(*common, f"output={tmp_path / 'torch'}", f"ckpt_path={ckpt}"))
    onnx_out = infer(
        config(*common, f"output={tmp_path / 'onnx'}", "runtime=onnx",
               f"onnx={report['formats']['onnx']['path']}")
    )  # fmt: skip
    kinds = ("alpha", "fgr") if name.startswith("bgmv2") else ("alpha",)
    frames = sorted((tmp_path / "onnx" / "alpha").glob("*.png"))
    assert len(frames) == 3
    for kind in kinds:
        for frame in frames:
            ours = cv2.imread(str(onnx_out.frame_path(kind, frame.stem)), cv2.IMREAD_UNCHANGED)
            reference = cv2.imread(
                str(torch_out.frame_path(kind, frame.stem)), cv2.IMREAD_UNCHANGED
            )
            # max |diff| <= 1e-4 before 8-bit rounding: at most one level apart
            assert np.abs(ours.astype(int) - reference.astype(int)).max() <= 1, (kind, frame)
            assert reference.std() > 0  # the weights produce a non-constant output


def test_onnx_runtime_refuses_frames_of_another_size(config, inputs, tmp_path):
    base = METHODS["bgmv2_base"]
    report = export(config(*base, f"out={tmp_path / 'export'}", "height=32", "width=32",
                           "formats=[onnx]", "allow_random_weights=true",
                           name="export"))  # fmt: skip
    graph = report["formats"]["onnx"]["path"]
    cfg = config(*base, f"input={inputs['image']}", f"bgr={inputs['plate']}", "device=cpu",
                 f"output={tmp_path / 'out'}", "runtime=onnx", f"onnx={graph}")  # fmt: skip
    with pytest.raises(UserError, match=r"exported for 32x32.*height=64 width=64"):
        infer(cfg)


def test_onnx_runtime_without_a_graph_says_how_to_export_one(config, inputs, tmp_path):
    common = (*METHODS["bgmv2_base"], f"input={inputs['image']}", f"output={tmp_path / 'out'}")
    with pytest.raises(UserError, match=r"needs onnx=.*python export.py"):
        infer(config(*common, "runtime=onnx"))
    with pytest.raises(UserError, match=r"does not exist.*python export.py"):
        infer(config(*common, "runtime=onnx", f"onnx={tmp_path / 'missing.onnx'}"))
    with pytest.raises(UserError, match=r"choose one of \['torch', 'onnx'\]"):
        infer(config(*common, "runtime=tensorrt"))
