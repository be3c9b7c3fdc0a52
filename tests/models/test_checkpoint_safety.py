"""User-supplied weight files: no code runs while loading, and a wrong file is an error that says
what the file is (issue 15, defects 1 and 2). Also through Lightning (`eval.py ckpt_path=`, a
`train.py ckpt_path=` resume), with `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`, which makes torch's
default load unsafe; and the refusal names an option the entry point has."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from mattebench import tasks
from mattebench.errors import CheckpointError
from mattebench.methods.bgmv2 import BGMv2
from mattebench.methods.modnet import MODNet as MODNetMethod
from mattebench.models.bgmv2 import MattingBase, MattingRefine
from mattebench.models.bgmv2 import load_official_weights as load_bgmv2
from mattebench.models.checkpoints import read_checkpoint
from mattebench.models.modnet import MODNet
from mattebench.models.modnet.checkpoint import to_official_state_dict
from tests.platform.conftest import compose_config


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


@pytest.fixture
def crafted_run(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """A Lightning-style checkpoint that runs code, in a train.py run directory, with the
    environment variable that turns torch's default load into a full unpickling."""
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    marker, run = tmp_path / "code_ran", tmp_path / "run0"
    (run / "checkpoints").mkdir(parents=True)
    OmegaConf.save(OmegaConf.create({"seed": 1}), run / "config.yaml")
    path = run / "checkpoints" / "x.ckpt"
    state = {"net.backbone.features.0.0.weight": _RunsCode(marker)}
    torch.save({"state_dict": state, "pytorch-lightning_version": "2.6.6", "epoch": 0}, path)
    yield path, marker
    GlobalHydra.instance().clear()


def _refused_in_one_line(error: pytest.ExceptionInfo, marker: Path) -> None:
    assert not marker.exists()
    message = str(error.value)
    assert "\n" not in message and "could run code" in message
    assert "No option of this command" in message and "torch.save them" in message


def test_torch_honours_an_explicit_weights_only_over_the_environment(crafted_run):
    path, marker = crafted_run
    with pytest.raises(CheckpointError) as error:
        read_checkpoint(path)
    _refused_in_one_line(error, marker)


@pytest.mark.parametrize(
    ("entry", "overrides"),
    [("eval", []), ("train", ["model=bgmv2_base", "model.net.backbone=mobilenetv2"])],
)
def test_a_checkpoint_given_to_lightning_cannot_run_code(
    crafted_run, tmp_path, monkeypatch, entry, overrides
):
    """Refused before the data, the model or the trainer exist (eval.py; a train.py resume)."""

    def never(*args, **kwargs):
        raise AssertionError("the run was set up before the checkpoint was checked")

    monkeypatch.setattr(tasks, "_instantiate", never)
    path, marker = crafted_run
    cfg = compose_config(tmp_path, [*overrides, "trainer=cpu", f"ckpt_path={path}"], entry)
    task = tasks.evaluate if entry == "eval" else tasks.train
    with pytest.raises(CheckpointError) as error:
        task(cfg)
    _refused_in_one_line(error, marker)


def test_infer_refuses_a_checkpoint_with_code_and_says_what_to_do(crafted_run, tmp_path):
    from mattebench.inference.load import load_method

    path, marker = crafted_run
    cfg = compose_config(tmp_path, ["model=bgmv2_base", "model.net.backbone=mobilenetv2",
                                    "input=x", "output=y"], "infer")  # fmt: skip
    with pytest.raises(CheckpointError) as error:
        load_method(cfg.model, path)
    _refused_in_one_line(error, marker)


@pytest.mark.parametrize("entry", ["train", "eval", "infer", "export"])
@pytest.mark.parametrize("model", ["modnet", "modnet_soc", "bgmv2_base", "bgmv2"])
def test_the_option_the_refusal_names_exists(tmp_path, entry, model):
    """`model.trust_weights=true`, the advice of every `init_weights` loader, composes as
    written (no `+`) wherever the model loads `init_weights`."""
    cfg = compose_config(tmp_path, [f"model={model}", "model.trust_weights=true"], entry)
    assert cfg.model.trust_weights is True
    GlobalHydra.instance().clear()
