"""timm encoders: feature wiring from `feature_info`, weights only from a local file."""

import pytest
import timm
import torch
from timm.models import _builder

from mattebench.models.backbones import create_encoder
from mattebench.models.bgmv2.encoder import Encoder


def test_bgmv2_encoder_channels_come_from_timm():
    assert Encoder("resnet50").channels == [2048, 512, 256, 64, 6]
    assert Encoder("mobilenetv2", in_channels=4).channels == [320, 32, 24, 16, 4]


def test_local_weights_file_never_downloads(tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("tried to download weights")

    monkeypatch.setattr(_builder, "load_state_dict_from_hf", no_network)
    monkeypatch.setattr(_builder, "load_state_dict_from_url", no_network)
    full = timm.create_model("resnet18", pretrained=False)
    path = tmp_path / "resnet18.pth"
    torch.save(full.state_dict(), path)

    encoder = create_encoder("resnet18", in_chans=6, output_stride=16, weights=path)
    assert torch.equal(encoder.layer1[0].conv1.weight, full.layer1[0].conv1.weight)
    assert encoder.conv1.weight.shape == (64, 6, 7, 7)  # adapted by timm from 3 channels
    assert encoder.feature_info.reduction() == [2, 4, 8, 16, 16]


def test_missing_weights_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        create_encoder("resnet18", weights=tmp_path / "absent.pth")
