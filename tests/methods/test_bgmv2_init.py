"""BGMv2's sample-run initialisations: the alpha output (`init_alpha_bias`) and the plate
difference in the first convolution (`init_plate_difference`)."""

from __future__ import annotations

import torch

from mattebench.methods.bgmv2 import BGMv2
from mattebench.models.bgmv2 import MattingBase


def test_alpha_bias_starts_every_pixel_inside_the_clamp():
    torch.manual_seed(0)
    default = BGMv2(MattingBase("mobilenetv2"), optimizer=torch.optim.Adam).eval()
    torch.manual_seed(0)
    started = BGMv2(MattingBase("mobilenetv2"), optimizer=torch.optim.Adam, init_alpha_bias=0.5)
    started.eval()
    batch = {"image": torch.rand(2, 3, 64, 64), "bgr": torch.rand(2, 3, 64, 64)}
    with torch.no_grad():
        raw_default = default.net.predict(batch["image"], batch["bgr"])[:, 0]
        raw = started.net.predict(batch["image"], batch["bgr"])[:, 0]
    torch.testing.assert_close(raw, raw_default + 0.5 - default.net.decoder.conv4.bias[0])
    assert (raw_default <= 0).float().mean() > 0.2  # the default: many pixels pass no gradient
    assert ((raw > 0) & (raw < 1)).all()  # every pixel's alpha gets a gradient
    others = started.net.decoder.conv4.bias[1:]
    torch.testing.assert_close(others, default.net.decoder.conv4.bias[1:])


def test_plate_difference_start_shows_where_the_image_leaves_the_plate():
    torch.manual_seed(0)
    method = BGMv2(
        MattingBase("mobilenetv2"), optimizer=torch.optim.Adam, init_plate_difference=True
    )
    stem = method.net.backbone.body.conv_stem
    bgr = torch.rand(1, 3, 32, 32)
    image = bgr.clone()
    image[..., 8:16, 8:16] = 1 - image[..., 8:16, 8:16]  # the "person": where they differ
    with torch.no_grad():
        out = stem(torch.cat([image, bgr], 1))[0, :6]
    window_mean = torch.nn.functional.avg_pool2d(image - bgr, 3, 2, 1, count_include_pad=True)
    torch.testing.assert_close(out, torch.cat([window_mean[0], -window_mean[0]]))
    assert out[:, 9:, 9:].abs().max() < 1e-6 and out[:, 4:8, 4:8].abs().amin() > 0
    assert stem.weight[6:].abs().sum() > 0  # the other filters keep their initialisation
