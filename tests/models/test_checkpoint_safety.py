"""User-supplied weight files: no code runs while loading, and a wrong file is an error that says
what the file is (issue 15, defects 1 and 2)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from mattebench.errors import CheckpointError
from mattebench.methods.bgmv2 import BGMv2
from mattebench.methods.modnet import MODNet as MODNetMethod
from mattebench.models.bgmv2 import MattingBase, MattingRefine
from mattebench.models.bgmv2 import load_official_weights as load_bgmv2
from mattebench.models.checkpoints import read_checkpoint
from mattebench.models.modnet import MODNet
from mattebench.models.modnet.checkpoint import to_official_state_dict


class _RunsCode:
    """Unpickling this calls os.system: what a crafted `.pth` does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def crafted(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "code_ran"
    path = tmp_path / "pytorch_resnet50.pth"
    torch.save({"state_dict": {"backbone.conv1.weight": _RunsCode(marker)}}, path)
    return path, marker


def _bgmv2(**kwargs) -> BGMv2:
    return BGMv2(MattingBase("mobilenetv2"), optimizer=torch.optim.Adam, **kwargs)


def test_a_weight_file_cannot_run_code(crafted):
    path, marker = crafted
    with pytest.raises(CheckpointError, match=r"model\.trust_weights=true") as error:
        _bgmv2(init_weights=path)
    assert "could run code" in str(error.value)
    with pytest.raises(CheckpointError, match="trust_weights"):
        MODNetMethod(MODNet(), optimizer=torch.optim.SGD, init_weights=path)
    assert not marker.exists()


def test_a_text_file_is_not_a_checkpoint(tmp_path):
    path = tmp_path / "weights.pth"
    path.write_text("hello, these are not weights\n")
    with pytest.raises(CheckpointError, match="is not a checkpoint"):
        read_checkpoint(path)
    with pytest.raises(CheckpointError, match="is not a checkpoint"):
        _bgmv2(init_weights=path)


def test_a_modnet_checkpoint_given_to_bgmv2_is_refused_and_named(tmp_path):
    path = tmp_path / "modnet.ckpt"
    torch.save(to_official_state_dict(MODNet()), path)
    with pytest.raises(CheckpointError, match="given a MODNet checkpoint") as error:
        _bgmv2(init_weights=path)
    assert "backbone tensors did not load" in str(error.value)


def test_a_bgmv2_checkpoint_given_to_modnet_is_refused_and_named(tmp_path):
    path = tmp_path / "bgmv2.pth"
    torch.save(MattingRefine("mobilenetv2").state_dict(), path)
    with pytest.raises(CheckpointError, match="given a BGMv2 checkpoint"):
        MODNetMethod(MODNet(), optimizer=torch.optim.SGD, init_weights=path)


def test_less_than_the_backbone_is_refused_even_when_not_strict():
    state = MattingBase("mobilenetv2").state_dict()
    partial = {k: v for i, (k, v) in enumerate(state.items()) if i % 2}
    with pytest.raises(CheckpointError, match=r"backbone tensors did not load"):
        load_bgmv2(MattingBase("mobilenetv2"), partial, strict=False)
    decoder_missing = {k: v for k, v in state.items() if not k.startswith("decoder.")}
    report = load_bgmv2(MattingBase("mobilenetv2"), decoder_missing, strict=False)
    assert report.loaded == len(decoder_missing) and report.missing


def test_a_trusted_file_with_objects_loads_when_asked(tmp_path):
    path = tmp_path / "stage1.ckpt"
    state = MattingBase("mobilenetv2").state_dict()
    torch.save({"state_dict": state, "extra": Path("an object")}, path)
    with pytest.raises(CheckpointError, match="trust_weights"):
        _bgmv2(init_weights=path)
    method = _bgmv2(init_weights=path, trust_weights=True)
    torch.testing.assert_close(method.net.state_dict(), state)
