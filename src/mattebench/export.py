"""ONNX and TorchScript export of any method, verified against PyTorch on the same input.

`python export.py model=<method> out=<dir> [ckpt_path=... | weights=...] [height=.. width=..]`

Each method is wrapped in `PredictModule`: tensors in (the method's network inputs, in the order
of its `required_keys`: image, bgr, trimap, prev_alpha; all in [0, 1]), tensors out (alpha, and
fgr where predicted), through the same `predict` as training and evaluation, so pre- and
post-processing (MODNet's [-1, 1] normalisation and padding to a multiple of 32) are inside the
graph. ONNX uses the TorchScript-based exporter (`dynamo=False`; the dynamo exporter would need
onnxscript), shapes fixed at the export size except the batch axis. Before tracing, each method
puts itself in the state its graph holds (`MattingMethod.prepare_export`): a fixed-shape graph
cannot pick a data-dependent amount of work, so e.g. BGMv2's "thresholding" refiner switches
to "full" mode; what that changes is
logged and recorded in `export.json` (`differs`).

A method without weights (`ckpt_path`, `weights` or `model.init_weights`) is refused unless
`allow_random_weights=true`, as in infer.py. `export.json` also records the sha256 of every
file an export wrote (`files`); an existing file where an export would write is refused unless
`overwrite=true`, and even then only a file recorded there that still has its recorded content
is replaced: a file of the user's is never overwritten.
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig
from torch import Tensor, nn

from mattebench.data.trimap import quantise_trimap
from mattebench.inference.load import load_method, require_weights
from mattebench.inference.runner import network_inputs
from mattebench.methods.base import INPUT_CHANNELS, MattingMethod
from mattebench.testsets.manifest import file_hash

log = logging.getLogger(__name__)

FORMATS = ("onnx", "torchscript")
SUFFIXES = {"onnx": ".onnx", "torchscript": ".pt"}
RECORD = "export.json"


class PredictModule(nn.Module):
    """`method.predict` with positional tensors in and a tuple of tensors out. Only the plain
    network is a submodule: tracing walks submodules, and a LightningModule's `trainer`
    property raises outside a Trainer."""

    def __init__(self, method: MattingMethod) -> None:
        super().__init__()
        self.net = method.net
        object.__setattr__(self, "method", method)
        self.keys = network_inputs(method)

    def forward(self, *inputs: Tensor) -> tuple[Tensor, ...]:
        pred = self.method.predict(dict(zip(self.keys, inputs, strict=True)))
        return tuple(pred[key] for key in ("alpha", "fgr") if key in pred)


def exportable(method: MattingMethod) -> tuple[PredictModule, str | None]:
    """The method as its graph holds it (`prepare_export`), and what that graph computes
    differently from `infer` (None: nothing)."""
    differs = method.prepare_export()
    if differs:
        log.info("%s is exported with %s.", type(method).__name__, differs)
    return PredictModule(method).eval(), differs


def example_inputs(
    keys: tuple[str, ...], batch: int, height: int, width: int, seed: int = 0
) -> tuple[Tensor, ...]:
    """A fixed random input per key (the benchmark's too); trimaps hold the three levels."""
    generator = torch.Generator().manual_seed(seed)
    inputs = []
    for key in keys:
        x = torch.rand(batch, INPUT_CHANNELS[key], height, width, generator=generator)
        inputs.append(quantise_trimap(x) if key == "trimap" else x)
    return tuple(inputs)


def export_onnx(module: PredictModule, inputs: tuple[Tensor, ...], path: Path, opset: int) -> Path:
    outputs = [f"out{i}" for i in range(len(module(*inputs)))]
    names = ["alpha", "fgr"][: len(outputs)]
    torch.onnx.export(
        module, inputs, str(path), dynamo=False, opset_version=opset,
        input_names=list(module.keys), output_names=names,
        dynamic_axes={name: {0: "batch"} for name in (*module.keys, *names)},
    )  # fmt: skip
    return path


def run_onnx(path: Path, inputs: tuple[Tensor, ...]) -> list[np.ndarray]:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {arg.name: x.numpy() for arg, x in zip(session.get_inputs(), inputs, strict=True)}
    return session.run(None, feed)


def export_torchscript(module: PredictModule, inputs: tuple[Tensor, ...], path: Path) -> Path:
    """`torch.jit.trace`: `predict` takes a dict and branches in Python, which `script` cannot
    compile; the trace fixes those branches for the export size."""
    torch.jit.trace(module, inputs, check_trace=False).save(str(path))
    return path


def run_torchscript(path: Path, inputs: tuple[Tensor, ...]) -> list[np.ndarray]:
    return [t.numpy() for t in torch.jit.load(str(path))(*inputs)]


def verify(reference: tuple[Tensor, ...], exported: list[np.ndarray], atol: float) -> dict:
    """Largest absolute difference per output, against `atol`."""
    diffs = {
        name: float(np.abs(ref.numpy() - out).max())
        for name, ref, out in zip(("alpha", "fgr"), reference, exported, strict=False)
    }
    return {"max_abs_diff": diffs, "atol": atol, "ok": all(d <= atol for d in diffs.values())}


def export(cfg: DictConfig) -> dict:
    """Exports to each of `cfg.formats` and verifies on another random input than the traced
    one (a graph that froze a data-dependent branch shows up); writes `<out>/export.json`. A
    format that fails is reported there, the others still run."""
    unknown = sorted(set(cfg.formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"formats={list(cfg.formats)}: unknown {unknown}; choose from {FORMATS}.")
    out = Path(cfg.out)
    targets = {fmt: f"{cfg.name}{SUFFIXES[fmt]}" for fmt in cfg.formats}
    files = earlier_files(out, [*targets.values(), RECORD], cfg.overwrite)
    method = load_method(cfg.model, cfg.get("ckpt_path"), cfg.get("weights"))
    require_weights(cfg, method, "export")
    module, differs = exportable(method)
    shape = (cfg.batch_size, cfg.height, cfg.width)
    inputs = example_inputs(module.keys, *shape)
    checks = example_inputs(module.keys, *shape, seed=1)
    with torch.no_grad():
        reference = module(*checks)
    steps = {
        "onnx": (lambda p: export_onnx(module, inputs, p, cfg.opset), run_onnx),
        "torchscript": (lambda p: export_torchscript(module, inputs, p), run_torchscript),
    }
    report = {"inputs": list(module.keys), "shape": list(shape), "differs": differs, "formats": {}}
    out.mkdir(parents=True, exist_ok=True)
    for fmt in cfg.formats:
        save, load = steps[fmt]
        path = out / targets[fmt]
        try:
            # Tracing warns about every Python-level shape check; `verify` is the real test.
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                save(path)
                result = {"path": str(path), **verify(reference, load(path, checks), cfg.atol)}
        except Exception as error:  # an architecture the format cannot express: say which, go on
            log.exception("%s export failed", fmt)
            result = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        if path.is_file():  # also a partly written file: ours to replace next time
            files[path.name] = file_hash(path)
        report["formats"][fmt] = result
        log.info("%s: %s", fmt, result)
    report["files"] = dict(sorted(files.items()))
    (out / RECORD).write_text(json.dumps(report, indent=2) + "\n")
    return report


def earlier_files(out: Path, names: list[str], overwrite: bool) -> dict[str, str]:
    """The files (name -> sha256) that earlier exports to `out` recorded and that still hold
    what they wrote, after refusing an existing file among `names` (what this export writes)
    unless `overwrite`, and even then one that is not among them (the user's, or changed)."""
    recorded = _recorded(out)
    ours = {
        name: digest
        for name, digest in (recorded or {}).items()
        if (out / name).is_file() and file_hash(out / name) == digest
    }
    taken = [name for name in names if (out / name).exists()]
    if taken and not overwrite:
        raise FileExistsError(
            f"out={out} already holds {', '.join(taken)}. Choose another out folder, or set "
            "overwrite=true to replace the files an earlier export.py wrote there."
        )
    foreign = [n for n in taken if n not in ours and not (n == RECORD and recorded is not None)]
    if foreign:
        raise FileExistsError(
            f"out={out} holds {', '.join(foreign)} where export.py would write, which it did not "
            f"write or which changed since ({RECORD} records the sha256 of what it wrote); they "
            "are never overwritten. Move them or choose another out folder."
        )
    return ours


def _recorded(out: Path) -> dict[str, str] | None:
    """`files` of `<out>/export.json`, or None where there is no such record of export.py."""
    try:
        files = json.loads((out / RECORD).read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return files if isinstance(files, dict) else None
