"""FC-DenseNet: the spec's parameter and layer counts, any input size, the upsampling rule."""

import pytest
import torch
from torch import nn

from mattebench.models.tiramisu import (
    BatchNorm,
    DenseBlock,
    FCDenseNet,
    fc_densenet56,
    fc_densenet67,
    fc_densenet103,
)

VARIANTS = {56: fc_densenet56, 67: fc_densenet67, 103: fc_densenet103}
#: specs/tiramisu.md §3, measured on bfortuner/pytorch_tiramisu: trainable, 11 and 2 classes
PARAMETERS = {56: (1_376_795, 1_375_058), 67: (3_463_243, 3_460_642), 103: (9_322_091, 9_319_778)}


def trainable(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


@pytest.mark.parametrize("depth", sorted(VARIANTS))
def test_parameter_and_layer_counts_match_the_spec(depth):
    camvid, person = PARAMETERS[depth]
    assert trainable(VARIANTS[depth](n_classes=11)) == camvid
    net = VARIANTS[depth]()
    assert trainable(net) == person
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    assert len(convs) == depth  # the name counts conv + deconv layers


def test_channel_counts_of_fc_densenet103():
    net = fc_densenet103()
    assert [b.out_channels for b in net.down] == [112, 192, 304, 464, 656]
    # only new maps go up: bottleneck 15*16, then each up-block's 16*n; the last keeps its stack
    assert net.bottleneck.out_channels == 240
    assert [t.deconv.in_channels for t in net.unpool] == [240, 192, 160, 112, 80]
    assert [b.out_channels for b in net.up] == [192, 160, 112, 80, 256]
    assert net.classifier.in_channels == 256


def test_only_the_new_maps_of_a_dense_block_are_passed_up():
    block = DenseBlock(8, growth_rate=4, n_layers=3, dropout=0.0, new_only=True).eval()
    full = DenseBlock(8, growth_rate=4, n_layers=3, dropout=0.0, new_only=False).eval()
    full.load_state_dict(block.state_dict())
    x = torch.randn(2, 8, 5, 5)
    new, stack = block(x), full(x)
    assert new.shape[1] == 12 and stack.shape[1] == 20
    assert torch.equal(stack[:, :8], x) and torch.allclose(stack[:, 8:], new)


@pytest.mark.parametrize("size", [(32, 32), (37, 50), (61, 33)])
def test_logits_keep_any_input_size_from_32(size):
    net = fc_densenet56().eval()
    with torch.no_grad():
        assert net(torch.rand(2, 3, *size)).shape == (2, 2, *size)
    with pytest.raises(ValueError, match="at least 32"):
        net(torch.rand(1, 3, 31, 64))


def test_he_uniform_init_and_zero_biases():
    net = fc_densenet56()
    conv = net.down[2].layers[3][2]
    bound = (6 / (conv.in_channels * 9)) ** 0.5
    assert conv.weight.abs().max() <= bound and conv.weight.abs().max() > 0.9 * bound
    assert all(not m.bias.any() for m in net.modules() if isinstance(m, nn.Conv2d))


def test_batch_statistics_at_eval_leave_the_running_averages_alone():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 32, 32) * 3 + 2
    official = fc_densenet56(batch_stats_at_eval=True).eval()
    running = fc_densenet56().eval()
    running.load_state_dict(official.state_dict())
    before = {k: v.clone() for k, v in official.state_dict().items()}
    with torch.no_grad():
        out = official(x)
        assert not torch.allclose(out, running(x))
        # batch statistics: one image's output depends on the others in the batch
        assert not torch.allclose(official(x[:2])[:1], out[:1], atol=1e-5)
    assert all(torch.equal(v, official.state_dict()[k]) for k, v in before.items())
    assert all(m.batch_stats_at_eval for m in official.modules() if isinstance(m, BatchNorm))


def test_mismatched_paths_are_a_clear_error():
    with pytest.raises(ValueError, match="same length"):
        FCDenseNet(down_blocks=(4, 4), up_blocks=(4,))
