"""BGMv2 (Lin et al., CVPR 2021), faithful to PeterL1n/BackgroundMattingV2 `model/`."""

from mattebench.models.bgmv2.checkpoint import load_official_weights, to_official_state_dict
from mattebench.models.bgmv2.model import MattingBase, MattingRefine

__all__ = ["MattingBase", "MattingRefine", "load_official_weights", "to_official_state_dict"]
