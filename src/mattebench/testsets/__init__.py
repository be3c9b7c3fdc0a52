"""Test sets are files: built once per protocol, identical for every method and every run.

`python -m mattebench.testsets build data=<config>` (or the datamodule, on first use) writes
the val and test sets of a data config to `<testset_root>/<name>/`: input image, GT alpha and
foreground, trimap, plates (clean, and perturbed for plate-based methods), clip structure and a
`manifest.json` with every sample (and its independent `unit`), a sha256 per file and the
set's hash over both. Evaluation reads only these files (`TestSet`), at native resolution,
after verifying them against that hash. Protocols: `protocols.py`; the format: `manifest.py`.
"""

# The data layer first: its datamodule imports this package's modules.
import mattebench.data  # noqa: F401
from mattebench.testsets.build import ensure, settings
from mattebench.testsets.dataset import TestSet
from mattebench.testsets.manifest import GENERATOR_VERSION, TestSetError, read_manifest
from mattebench.testsets.plate import PlatePerturbation
from mattebench.testsets.protocols import (
    BGMv2Composites,
    Built,
    Motion,
    Prepared,
    Protocol,
    VideoMatteClips,
    default_protocol,
)

__all__ = [
    "GENERATOR_VERSION",
    "BGMv2Composites",
    "Built",
    "Motion",
    "PlatePerturbation",
    "Prepared",
    "Protocol",
    "TestSet",
    "TestSetError",
    "VideoMatteClips",
    "default_protocol",
    "ensure",
    "read_manifest",
    "settings",
]
