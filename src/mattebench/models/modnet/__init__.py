"""MODNet (Ke et al., AAAI 2022), faithful to ZHKKKe/MODNet `src/models/`."""

from mattebench.models.modnet.checkpoint import (
    LoadReport,
    load_backbone_weights,
    load_official_weights,
    to_official_state_dict,
)
from mattebench.models.modnet.inference import inference_size, predict_any_size
from mattebench.models.modnet.model import MODNet

__all__ = [
    "LoadReport",
    "MODNet",
    "inference_size",
    "load_backbone_weights",
    "load_official_weights",
    "predict_any_size",
    "to_official_state_dict",
]
