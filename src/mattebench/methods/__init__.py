"""LightningModules, one per method, on the shared `MattingMethod` base.

The classical baselines (`mattebench.methods.classical`) are not imported here: they load
pymatting, whose numba kernels compile on first import.
"""

from mattebench.methods.base import MattingMethod
from mattebench.methods.bgmv2 import BGMv2
from mattebench.methods.hdmatt import HDMatt
from mattebench.methods.modnet import MODNet, MODNetSOC
from mattebench.methods.tiramisu import Tiramisu

__all__ = ["BGMv2", "HDMatt", "MODNet", "MODNetSOC", "MattingMethod", "Tiramisu"]
