"""One benchmark row: a subject at one setting (size, batch, precision, memory format,
torch.compile, runtime), timed and its peak memory measured; a failing setting is a row with
its error, never the end of the run.

Settings cast a fresh copy of the method: weights and inputs to the dtype (fp16 / bf16),
its network to channels_last, its network compiled in place (`nn.Module.compile`, inductor
freezing on CPU). ONNX rows run the method's `infer` with its network step (`predict`) in ONNX
Runtime on the graph `export.py` writes for that input (CPU fp32), as `infer.py runtime=onnx`
runs it; where the graph computes something else than `infer` (`prepare_export`, e.g. BGMv2's
thresholding refiner in full mode) the row's `note` says so.
"""

from __future__ import annotations

import copy
import tempfile
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor

from mattebench.bench.subjects import Subject
from mattebench.bench.timing import DTYPES, PeakMemory, count_macs, parse_size, time_runs
from mattebench.methods.policy import net_settings


@dataclass
class Setting:
    size: str
    batch: int
    dtype: str
    channels_last: bool
    compile: bool
    runtime: str = "torch"


@dataclass
class Row:
    method: str
    size: str
    batch: int
    dtype: str
    channels_last: bool
    compile: bool
    runtime: str = "torch"
    params_m: float | None = None
    gmacs: float | None = None
    latency_ms: float | None = None
    fps: float | None = None
    peak_mem_mib: float | None = None
    note: str | None = None
    error: str | None = None


def macs(subject: Subject, size: str, device: torch.device) -> float | None:
    """GMACs of one image at `size`, fp32 (None when not countable, e.g. NumPy solvers)."""
    method = copy.deepcopy(subject.method).to(device)
    inputs = {k: v.to(device) for k, v in subject.inputs(1, *parse_size(size)).items()}
    return count_macs(Subject(subject.name, method).call(inputs))


def measure(
    subject: Subject, setting: Setting, device: torch.device, warmup: int, reps: int
) -> Row:
    row = Row(subject.name, **asdict(setting), params_m=subject.params_m)
    dtype = DTYPES[setting.dtype]
    memory_format = torch.channels_last if setting.channels_last else torch.contiguous_format
    method = copy.deepcopy(subject.method).to(device=device, dtype=dtype)
    method.net.to(memory_format=memory_format)
    inputs = {
        k: v.to(device=device, dtype=dtype, memory_format=memory_format)
        for k, v in subject.inputs(setting.batch, *parse_size(setting.size)).items()
    }
    try:
        if setting.compile:
            _compile(method.net, device)
        if setting.runtime == "onnx":
            row.note = onnx_network(method, inputs)
        call = Subject(subject.name, method).call(inputs)
        with torch.no_grad(), PeakMemory(device) as memory:
            row.latency_ms = time_runs(call, device, warmup, reps)
        row.peak_mem_mib = memory.peak
        row.fps = setting.batch * 1e3 / row.latency_ms
    except Exception as error:  # one failing setting (OOM, compile) must not end the bench
        row.error = describe(error)
    finally:
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return row


def describe(error: BaseException) -> str:
    """The error's type and first line, for a row."""
    lines = str(error).strip().splitlines() or [""]
    return f"{type(error).__name__}: {lines[0][:200]}"


def _compile(net: torch.nn.Module, device: torch.device) -> None:
    if device.type == "cpu":
        # CPU inference setting of inductor: weights frozen as constants, so batch norms fold
        # into the convolutions and oneDNN prepacks the weights
        import torch._inductor.config as inductor

        inductor.freezing = True
    net.compile()


def onnx_network(method: Any, inputs: dict[str, Tensor]) -> str | None:
    """Replaces `method.predict` by export.py's graph in ONNX Runtime, exported at the shapes
    `infer` gives `predict` for `inputs` (after the inference policy) and with the policy's
    per-size network settings; returns what the graph computes differently (or None)."""
    import onnxruntime

    from mattebench.export import exportable

    if inputs["image"].device.type != "cpu" or inputs["image"].dtype != torch.float32:
        raise ValueError("the onnx runtime rows are CPU fp32")
    seen: dict[str, Tensor] = {}
    predict = method.predict
    method.predict = lambda batch: seen.update(batch) or predict(batch)  # the policy's shapes
    with torch.no_grad():
        Subject("", method).call(inputs)()
    del method.predict
    module, differs = exportable(method)
    example = tuple(seen[key] for key in module.keys)
    settings = method.inference_policy().settings_for(*seen["image"].shape[-2:])
    with tempfile.TemporaryDirectory() as folder, torch.no_grad():
        path = f"{folder}/graph.onnx"
        # tracing warns about every Python-level shape check; the graph is fixed-shape anyway
        with net_settings(method.net, settings), warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            torch.onnx.export(module, example, path, dynamo=False, opset_version=17,
                              input_names=list(module.keys))  # fmt: skip
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    names = ("alpha", "fgr")

    def run_graph(batch: dict[str, Tensor]) -> dict[str, Tensor]:
        outputs = session.run(None, {key: batch[key].numpy() for key in module.keys})
        return {name: torch.from_numpy(out) for name, out in zip(names, outputs, strict=False)}

    method.predict = run_graph
    return differs
