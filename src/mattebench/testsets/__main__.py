"""`python -m mattebench.testsets {build,verify} data=<config> [overrides]`.

`build` writes every test set of the data config (`data.testsets`: val, test and any other
named set) that is not on disk yet and checks the others' settings; `verify` also re-hashes
every file of every set (ignoring the verification cache) and fails on a changed, missing or
extra file and on a manifest whose samples do not hash to its hash. Overrides are Hydra's, as
for `train.py` (e.g. `paths.data_dir=/datasets`). Prints one line per set: name, samples,
hash, folder.
"""

from __future__ import annotations

import argparse
import os
import sys

import hydra
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import open_dict

from mattebench.registry import config_dir
from mattebench.testsets.manifest import TestSetError, read_manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mattebench.testsets")
    parser.add_argument("command", choices=("build", "verify"))
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. data=videomatte")
    args = parser.parse_args(argv)
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        cfg = compose("train", overrides=args.overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.hydra.runtime.cwd = os.getcwd()
        cfg.hydra.runtime.output_dir = os.getcwd()
    HydraConfig.instance().set_config(cfg)
    datamodule = hydra.utils.instantiate(cfg.data, _convert_="object")
    datamodule.prepare_data()  # a *_sample dataset is generated first
    names = list(dict.fromkeys(["val", "test", *datamodule.testsets]))
    try:
        for name in names:
            if name == "val" and datamodule.val is None:
                continue
            folder = datamodule.build_testset(name, verify=args.command == "verify")
            manifest = read_manifest(folder)
            samples = len(manifest["samples"])
            print(f"{name}: {manifest['name']}  {samples} samples  {manifest['sha256']}  {folder}")
    except TestSetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
