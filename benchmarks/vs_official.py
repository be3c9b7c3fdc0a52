"""CPU inference against the official implementations, same weights, outputs checked, side by side.

    python -m benchmarks.vs_official --bgmv2 <BackgroundMattingV2 checkout> --modnet <MODNet
        checkout> [--runtimes eager channels_last onnx bf16 compile] [--repeats 5]

The official code is imported from the local checkouts given on the command line (never copied
into this repository): BGMv2's `model/` package (github.com/PeterL1n/BackgroundMattingV2, also
the `backgroundmattingv2==1.0` sdist) and MODNet's `src/models/` package
(github.com/ZHKKKe/MODNet). Each comparison builds our network with seeded random weights
(batch-norm statistics randomised too, so no layer is the identity), loads the very same tensors
into the official network through the official checkpoint layout (`to_official_state_dict`),
checks the outputs agree, and times both in one process, alternating, median of the repeats
after a warm-up. Like with like: BGMv2 ResNet-50 and MobileNetV2 at 1920x1080 with the HD
settings (backbone_scale 1/4, `sampling` refine of 80,000 pixels) on both sides, MODNet's
`inference=True` forward at 512x512.

Runtimes for our side (the official side always runs as its repository does: fp32 eager):
- `eager`: fp32, contiguous, the code of `mattebench.models` as trained and evaluated.
- `channels_last`: the same in NHWC memory format (oneDNN's native layout on CPU).
- `compile`: `torch.compile` of the channels_last network (inductor with freezing: batch norms
  folded, weights prepacked; CPU C++ kernels; compiling takes minutes).
- `bf16`: CPU autocast to bfloat16 (needs AVX512-BF16 or AMX to be fast); approximate, so the
  table shows its difference instead of a match.
- `onnx`: ONNX Runtime (CPU provider, the same threads) on the graph exported here at the
  case's size. BGMv2 is exported in `sampling` mode, like with like: at inference its refiner
  takes the top k patches with static shapes (no `nonzero`) and crops them with one gather.

Every table line gives both ratios: wall time, and process CPU time (all threads), which other
jobs on the same cores disturb less; the load averages before and after are printed with it.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import torch
from torch import Tensor, nn

from mattebench.models.bgmv2 import MattingRefine
from mattebench.models.bgmv2.checkpoint import to_official_state_dict as bgmv2_official_state
from mattebench.models.modnet import MODNet
from mattebench.models.modnet.checkpoint import OFFICIAL_PREFIX
from mattebench.models.modnet.checkpoint import to_official_state_dict as modnet_official_state

RUNTIMES = ("eager", "channels_last", "compile", "bf16", "onnx")
#: Largest |difference| of alpha accepted as the same output (fp32 runtimes).
ATOL = 1e-4


def import_package(name: str, init: Path) -> ModuleType:
    """Imports the package whose `__init__.py` is `init` under `name`, so that its relative
    imports work and its generic name (`model`, `models`) cannot clash with anything else."""
    if not init.is_file():
        raise SystemExit(f"{init} not found: pass the root of the official checkout.")
    spec = importlib.util.spec_from_file_location(
        name, init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def randomise_norm_statistics(net: nn.Module, seed: int) -> None:
    """Fresh batch norms are the identity in eval mode; random statistics make every layer count."""
    generator = torch.Generator().manual_seed(seed)
    for module in net.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.running_var is not None:
            shape = module.running_var.shape
            module.running_mean.copy_(torch.randn(shape, generator=generator) * 0.1)
            module.running_var.copy_(torch.rand(shape, generator=generator) * 1.5 + 0.5)


class Case:
    """One model at one size: ours and the official network with the same weights."""

    def __init__(
        self,
        name: str,
        ours: nn.Module,
        official: nn.Module,
        inputs: tuple[Tensor, ...],
        call: Callable[..., Tensor],
    ) -> None:
        self.name, self.ours, self.official, self.inputs, self.call = (
            name,
            ours.eval(),
            official.eval(),
            inputs,
            call,
        )

    def alpha(self, net: nn.Module, inputs: tuple[Tensor, ...] | None = None) -> Tensor:
        return self.call(net, *(inputs or self.inputs))


def bgmv2_case(root: Path, backbone: str, height: int, width: int, seed: int) -> Case:
    official_pkg = import_package("bgmv2_official", root / "model" / "__init__.py")
    settings = {"backbone_scale": 0.25, "refine_mode": "sampling", "refine_sample_pixels": 80_000}
    torch.manual_seed(seed)
    ours = MattingRefine(backbone, **settings)
    randomise_norm_statistics(ours, seed)
    official = official_pkg.MattingRefine(backbone, **settings)
    official.load_state_dict(bgmv2_official_state(ours), strict=True)
    generator = torch.Generator().manual_seed(seed)
    bgr = torch.rand(1, 3, height, width, generator=generator)
    src = bgr.clone()  # a plate and a frame with a subject: the refiner has edges to refine
    src[..., height // 4 :, width // 3 : 2 * width // 3] = torch.rand(
        1, 3, height - height // 4, 2 * width // 3 - width // 3, generator=generator
    )
    return Case(
        f"BGMv2 {backbone} {width}x{height} (sampling, 80k px)",
        ours,
        official,
        (src, bgr),
        lambda net, s, b: net(s, b)[0],
    )


def modnet_case(root: Path, size: int, seed: int) -> Case:
    import_package("modnet_official", root / "src" / "models" / "__init__.py")
    from modnet_official.modnet import MODNet as OfficialMODNet

    torch.manual_seed(seed)
    ours = MODNet()
    randomise_norm_statistics(ours, seed)
    official = OfficialMODNet(backbone_pretrained=False)
    state = modnet_official_state(ours)
    official.load_state_dict({k.removeprefix(OFFICIAL_PREFIX): v for k, v in state.items()})
    image = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1
    return Case(f"MODNet {size}x{size}", ours, official, (image,), lambda net, x: net(x, True)[2])


def runner(case: Case, runtime: str, workdir: Path) -> Callable[[], Tensor]:
    """A call of our network in `runtime`."""
    net, inputs = case.ours, case.inputs
    if runtime == "eager":
        return lambda: case.alpha(net)
    if runtime == "channels_last":  # a copy: Module.to converts in place, the others stay NCHW
        net_cl = copy.deepcopy(net).to(memory_format=torch.channels_last)
        inputs_cl = tuple(x.contiguous(memory_format=torch.channels_last) for x in inputs)
        return lambda: case.alpha(net_cl, inputs_cl)
    if runtime == "compile":
        # freezing: weights become constants, so batch norms fold into the convolutions and
        # oneDNN prepacks the weights (the CPU inference setting of inductor); NHWC as above
        import torch._inductor.config as inductor

        inductor.freezing = True
        compiled = torch.compile(copy.deepcopy(net).to(memory_format=torch.channels_last))
        inputs_cl = tuple(x.contiguous(memory_format=torch.channels_last) for x in inputs)
        return lambda: case.alpha(compiled, inputs_cl)
    if runtime == "bf16":

        def bf16() -> Tensor:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                return case.alpha(net).float()

        return bf16
    if runtime == "onnx":
        return onnx_runner(case, workdir)
    raise ValueError(runtime)


def onnx_runner(case: Case, workdir: Path) -> Callable[[], Tensor]:
    import onnxruntime

    class Alpha(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = case.ours

        def forward(self, *inputs: Tensor) -> Tensor:
            return case.alpha(self.net, inputs)

    path = workdir / f"{abs(hash(case.name))}.onnx"
    with warnings_off():
        torch.onnx.export(Alpha().eval(), case.inputs, str(path), dynamo=False, opset_version=17)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    # no spinning after a run: idle threads would take the cores from the next side timed
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [arg.name for arg in session.get_inputs()]
    feed = {name: x.numpy() for name, x in zip(names, case.inputs, strict=True)}
    return lambda: torch.from_numpy(session.run(None, feed)[0])


@contextlib.contextmanager
def warnings_off():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def compare(case: Case, runtimes: list[str], repeats: int, workdir: Path) -> list[dict]:
    """Every runtime against the official network: all of them built and warmed up (compiled)
    first, then `repeats` rounds that each run the official network and every runtime once, so
    that a change of the machine's load between rounds hits all sides alike; medians."""
    with torch.no_grad():
        reference = case.alpha(case.official)
        sides: dict[str, Callable[[], Tensor]] = {"official": lambda: case.alpha(case.official)}
        diffs: dict[str, float] = {}
        for runtime in runtimes:
            sides[runtime] = runner(case, runtime, workdir)
            # also the warm-up (and the compilation)
            diffs[runtime] = float((sides[runtime]() - reference).abs().max())
        wall: dict[str, list[float]] = {side: [] for side in sides}
        cpu: dict[str, list[float]] = {side: [] for side in sides}
        for _ in range(repeats):
            for side, fn in sides.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                fn()
                wall[side].append(time.perf_counter() - start)
                cpu[side].append(time.process_time() - start_cpu)
    official_s, official_cpu = (
        statistics.median(wall["official"]),
        statistics.median(cpu["official"]),
    )
    rows = []
    for runtime in runtimes:
        ours_s, ours_cpu = statistics.median(wall[runtime]), statistics.median(cpu[runtime])
        rows.append(
            {
                "case": case.name,
                "runtime": runtime,
                "official_ms": 1e3 * official_s,
                "ours_ms": 1e3 * ours_s,
                "ratio": official_s / ours_s,
                "cpu_ratio": official_cpu / ours_cpu,
                "max_abs_diff": diffs[runtime],
                "match": runtime == "bf16" or diffs[runtime] <= ATOL,
            }
        )
        print(format_row(rows[-1]), flush=True)
    return rows


HEADER = (
    "| model, size | our runtime | official ms | ours ms | official / ours | same, CPU time "
    "| max abs diff |\n|---|---|--:|--:|--:|--:|--:|"
)


def format_row(row: dict) -> str:
    check = "approx." if row["runtime"] == "bf16" else ("ok" if row["match"] else "MISMATCH")
    return (
        f"| {row['case']} | {row['runtime']} | {row['official_ms']:.0f} | {row['ours_ms']:.0f} | "
        f"{row['ratio']:.2f}x | {row['cpu_ratio']:.2f}x | {row['max_abs_diff']:.1e} ({check}) |"
    )


def load_text() -> str:
    """The machine's load averages: other jobs on the same cores move every ratio."""
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def onnxruntime_version() -> str:
    try:
        import onnxruntime
    except ImportError:
        return "not installed"
    return onnxruntime.__version__


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bgmv2", type=Path, help="root of a BackgroundMattingV2 checkout")
    parser.add_argument("--modnet", type=Path, help="root of a MODNet checkout")
    parser.add_argument("--runtimes", nargs="+", choices=RUNTIMES, default=["eager", "onnx"])
    parser.add_argument("--backbones", nargs="+", default=["resnet50", "mobilenetv2"])
    parser.add_argument("--hd", default="1920x1080", help="BGMv2 size, WxH")
    parser.add_argument("--modnet-size", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--threads", type=int, help="intra-op threads of both sides (default: torch's)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if not (args.bgmv2 or args.modnet):
        parser.error("give --bgmv2 <checkout> and/or --modnet <checkout>")
    width, height = (int(n) for n in args.hd.lower().split("x"))
    cases: list[Callable[[], Case]] = []
    if args.bgmv2:
        cases += [
            lambda b=b: bgmv2_case(args.bgmv2, b, height, width, args.seed) for b in args.backbones
        ]
    if args.modnet:
        cases.append(lambda: modnet_case(args.modnet, args.modnet_size, args.seed))
    print(
        f"CPU ({os.cpu_count()} cores), {torch.get_num_threads()} threads, torch "
        f"{torch.__version__}, onnxruntime {onnxruntime_version()}, median of {args.repeats} "
        f"rounds (official and every runtime once per round) after a warm-up; load average "
        f"(1, 5, 15 min) {load_text()}\n{HEADER}",
        flush=True,
    )
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for make in cases:
            rows += compare(make(), args.runtimes, args.repeats, Path(workdir))
    print(f"load average after: {load_text()}", flush=True)
    bad = [r for r in rows if not r["match"]]
    if bad:
        raise SystemExit(
            f"outputs differ beyond {ATOL}: {[(r['case'], r['runtime']) for r in bad]}"
        )
    return rows


if __name__ == "__main__":
    main()
