"""LightningModules, one per method, on the shared `MattingMethod` base."""

from mattebench.methods.base import MattingMethod
from mattebench.methods.bgmv2 import BGMv2
from mattebench.methods.modnet import MODNet, MODNetSOC

__all__ = ["BGMv2", "MODNet", "MODNetSOC", "MattingMethod"]
