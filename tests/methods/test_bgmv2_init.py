"""BGMv2's sample-run initialisation of the alpha output (`init_alpha_bias`)."""

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
