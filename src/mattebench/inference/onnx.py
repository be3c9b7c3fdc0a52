"""`infer.py runtime=onnx onnx=<file>`: frames through the graph `export.py` wrote, in ONNX Runtime.

The exported graph is a method's whole `predict` (pre- and post-processing included, see
`mattebench.export`), with its weights, so `OnnxPredictor` stands in for the method in the
`Runner`: the same `required_keys` (the graph's input names, in the export's order) and the same
`infer(batch, previous) -> {"alpha", "fgr"}` contract (no inference policy: the graph's size is
fixed, and so is its resolution). The graph's height and width are fixed at the
export size; other frame sizes are refused with the command that exports the right one.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig
from torch import Tensor

from mattebench.errors import UserError

RUNTIMES = ("torch", "onnx")


def check_runtime(cfg: DictConfig) -> None:
    """infer.py's `runtime`, and the options that `runtime=onnx` needs or cannot honour."""
    if cfg.runtime not in RUNTIMES:
        raise UserError(f"runtime={cfg.runtime}: choose one of {list(RUNTIMES)}.")
    if cfg.runtime != "onnx":
        return
    if not cfg.get("onnx"):
        raise UserError(
            "runtime=onnx needs onnx=<the .onnx file written by export.py> (python export.py "
            "model=<method> out=<dir> height=<frame height> width=<frame width> ...)."
        )
    if cfg.precision != "fp32":
        raise UserError("runtime=onnx runs the exported fp32 graph: use precision=fp32.")


class OnnxPredictor:
    """An exported method in an onnxruntime session (CPU, or CUDA with onnxruntime-gpu and a
    CUDA device); returns tensors on the inputs' device."""

    def __init__(self, path: str | Path, threads: int | None = None) -> None:
        import onnxruntime

        self.path = Path(path)
        if self.path.is_dir():  # the out= folder of export.py
            found = sorted(self.path.glob("*.onnx"))
            if len(found) != 1:
                raise UserError(
                    f"onnx={path}: expected one .onnx file in that folder, found {len(found)}; "
                    "pass the file itself."
                )
            self.path = found[0]
        if not self.path.is_file():
            raise UserError(
                f"onnx={path} does not exist; export the method first: python export.py "
                "model=<method> out=<dir> height=<frame height> width=<frame width> "
                "[ckpt_path=... | weights=...], then pass onnx=<dir>/<name>.onnx."
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads() or os.cpu_count() or 1
        providers = [
            p
            for p in ("CUDAExecutionProvider", "CPUExecutionProvider")
            if p in onnxruntime.get_available_providers()
        ]
        self.session = onnxruntime.InferenceSession(str(self.path), options, providers=providers)
        self.required_keys = tuple(arg.name for arg in self.session.get_inputs())
        self.shapes = {arg.name: arg.shape for arg in self.session.get_inputs()}
        self.outputs = [arg.name for arg in self.session.get_outputs()]  # "alpha", "fgr"

    def to(self, device: torch.device) -> OnnxPredictor:
        """The session picked its provider when it was created; tensors move in `predict`."""
        return self

    def eval(self) -> OnnxPredictor:
        return self

    def infer(self, batch: dict[str, Tensor], previous: Tensor | None = None) -> dict[str, Tensor]:
        """`MattingMethod.infer`'s contract: a temporal graph gets its own previous alpha (zeros
        on the first frame)."""
        if "prev_alpha" in self.required_keys:
            image = batch["image"]
            zeros = torch.zeros_like(image[:, :1])
            batch = {**batch, "prev_alpha": zeros if previous is None else previous.to(image)}
        return self.predict(batch)

    def predict(self, batch: dict[str, Tensor]) -> dict[str, Tensor]:
        """The method's `predict` contract: network inputs in [0, 1] -> alpha (and fgr)."""
        device = batch["image"].device
        feed = {}
        for key in self.required_keys:
            x = batch[key]
            expected = self.shapes[key][-2:]
            if list(x.shape[-2:]) != list(expected):
                raise UserError(
                    f"{self.path.name} was exported for {expected[1]}x{expected[0]} (width x "
                    f"height) frames, these are {x.shape[-1]}x{x.shape[-2]}; export again at "
                    "this size (python export.py ... "
                    f"height={x.shape[-2]} width={x.shape[-1]}) or resize the input."
                )
            feed[key] = x.detach().float().cpu().numpy()
        results = self.session.run(self.outputs, feed)
        return {
            name: torch.from_numpy(np.asarray(value)).to(device)
            for name, value in zip(self.outputs, results, strict=True)
        }
