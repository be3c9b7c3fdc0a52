"""Inference speed of every method and variant: parameters, MACs, latency, FPS, peak memory.

    python -m mattebench.bench [--device cpu|cuda] [--quick] [--methods modnet bgmv2_mobilenetv2_hd]
        [--sizes 512x512 1920x1080] [--json out.json]

Each network runs at the sizes it targets (MODNet, Tiramisu: 512x512; BGMv2 HD variants
(backbone_scale 1/4, 80,000 refined pixels): 512x512 and 1920x1080, 4K variants (1/8, 320,000):
3840x2160; HDMatt: 512x512 and 1920x1080), batch 1 and batched, on CUDA in fp32 / fp16 / bf16
(weights and inputs cast) with channels_last and torch.compile off and on.

Networks have random weights, seeded so every setting runs the same ones: speed does not depend
on them, except BGMv2's refined patch count (`sampling` refines the top k, fewer where the
predicted error is exactly 0). MACs = FLOPs / 2 from `torch.utils.flop_counter.FlopCounterMode`
at batch 1. Latency is the median of the timed runs after warm-up (CUDA events on GPU). Peak
memory: `torch.cuda.max_memory_allocated` on GPU; on CPU the process RSS sampled every 5 ms,
which includes what earlier settings left in the allocator. Imports torch, torchvision (BGMv2's
ASPP), timm and mattebench.models only, no Hydra, Lightning or kornia: it runs on a bare CUDA
machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from mattebench.models.bgmv2 import MattingRefine
from mattebench.models.modnet import MODNet, predict_any_size

SIZES = {"512x512": (512, 512), "1920x1080": (1080, 1920), "3840x2160": (2160, 3840)}
DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


@dataclass(frozen=True)
class Variant:
    """A network, how to make its inputs (batch, height, width) and how to run it."""

    name: str
    build: Callable[[], nn.Module]
    inputs: Callable[[int, int, int], tuple[Tensor, ...]]
    call: Callable[[nn.Module, tuple[Tensor, ...]], Any]
    sizes: tuple[str, ...]


def _images(*channels: int) -> Callable[[int, int, int], tuple[Tensor, ...]]:
    return lambda b, h, w: tuple(torch.rand(b, c, h, w) for c in channels)


def _modnet(net: nn.Module, inputs: tuple[Tensor, ...]) -> Tensor:
    return predict_any_size(net, inputs[0] * 2 - 1, ref_size=None)


def _hdmatt(net: nn.Module, inputs: tuple[Tensor, ...]) -> list[Tensor]:
    from mattebench.models.hdmatt import predict_image

    image, trimap = inputs
    trimap = (trimap * 2).round() / 2
    return [predict_image(net, image[i : i + 1], trimap[i : i + 1]) for i in range(len(image))]


def _tiramisu(down: Sequence[int], bottleneck: int, growth: int) -> Callable[[], nn.Module]:
    def build() -> nn.Module:
        from mattebench.models.tiramisu import FCDenseNet

        return FCDenseNet(
            growth_rate=growth, down_blocks=down, bottleneck=bottleneck, up_blocks=down[::-1]
        )

    return build


def _hdmatt_net() -> nn.Module:
    from mattebench.models.hdmatt import HDMatt

    return HDMatt()


def variants() -> dict[str, Variant]:
    """Every benchmarked network, by name (`--methods` picks among them)."""
    found = [
        Variant("modnet", MODNet, _images(3), _modnet, ("512x512",)),
        Variant(
            "modnet_temporal", lambda: MODNet(prev_alpha=True), _images(4), _modnet, ("512x512",)
        ),
    ]
    for backbone in ("mobilenetv2", "resnet50", "resnet101"):
        for tag, scale, pixels, sizes in (
            ("hd", 0.25, 80_000, ("512x512", "1920x1080")),
            ("4k", 0.125, 320_000, ("3840x2160",)),
        ):
            found.append(
                Variant(
                    f"bgmv2_{backbone}_{tag}",
                    lambda b=backbone, s=scale, p=pixels: MattingRefine(
                        b, backbone_scale=s, refine_sample_pixels=p
                    ),
                    _images(3, 3),
                    lambda net, x: net(*x),
                    sizes,
                )
            )
    for name, down, bottleneck, growth in (
        ("tiramisu56", (4,) * 5, 4, 12),
        ("tiramisu67", (5,) * 5, 5, 16),
        ("tiramisu103", (4, 5, 7, 10, 12), 15, 16),
    ):
        found.append(
            Variant(name, _tiramisu(down, bottleneck, growth), _images(3), lambda n, x: n(*x),
                    ("512x512",))
        )  # fmt: skip
    found.append(Variant("hdmatt", _hdmatt_net, _images(3, 1), _hdmatt, ("512x512", "1920x1080")))
    return {v.name: v for v in found}


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
    error: str | None = None


def count_macs(variant: Variant, size: str, device: torch.device) -> float:
    """GMACs of one image (FlopCounterMode counts FLOPs = 2 x MACs), fp32."""
    height, width = SIZES.get(size) or parse_size(size)
    torch.manual_seed(0)  # the same weights and inputs as `measure`: BGMv2 refines as many patches
    net = variant.build().eval().to(device)
    inputs = tuple(x.to(device) for x in variant.inputs(1, height, width))
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        variant.call(net, inputs)
    return counter.get_total_flops() / 2 / 1e9


class PeakMemory:
    """CUDA: max_memory_allocated; CPU: the process RSS, sampled in a thread (MiB)."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.peak = device, 0.0
        self._stop = threading.Event()

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.device.type == "cuda":
            self.peak = torch.cuda.max_memory_allocated(self.device) / 2**20
        else:
            self._stop.set()
            self._thread.join()

    def _sample(self) -> None:
        page = 4096
        while not self._stop.wait(0.005):
            with open("/proc/self/statm") as statm:
                self.peak = max(self.peak, int(statm.read().split()[1]) * page / 2**20)


def time_runs(fn: Callable[[], Any], device: torch.device, warmup: int, reps: int) -> float:
    """Median milliseconds of `reps` calls after `warmup` (compilation happens there)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        if device.type == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize(device)
            times.append(start.elapsed_time(end))
        else:
            start_s = time.perf_counter()
            fn()
            times.append((time.perf_counter() - start_s) * 1e3)
    return statistics.median(times)


def measure(
    variant: Variant, setting: Setting, device: torch.device, warmup: int, reps: int
) -> Row:
    row = Row(variant.name, **asdict(setting))
    height, width = SIZES.get(setting.size) or parse_size(setting.size)
    dtype = DTYPES[setting.dtype]
    memory_format = torch.channels_last if setting.channels_last else torch.contiguous_format
    torch.manual_seed(0)
    net = variant.build().eval()
    row.params_m = sum(p.numel() for p in net.parameters()) / 1e6
    net = net.to(device=device, dtype=dtype, memory_format=memory_format)
    inputs = tuple(
        x.to(device=device, dtype=dtype, memory_format=memory_format)
        for x in variant.inputs(setting.batch, height, width)
    )
    if setting.compile and device.type == "cpu":
        # CPU inference setting of inductor: weights frozen as constants, so batch norms fold
        # into the convolutions and oneDNN prepacks the weights
        import torch._inductor.config as inductor

        inductor.freezing = True
    runner = torch.compile(net) if setting.compile else net
    try:
        call = (
            onnx_call(variant, net, inputs)
            if setting.runtime == "onnx"
            else lambda: variant.call(runner, inputs)
        )
        with torch.no_grad(), PeakMemory(device) as memory:
            row.latency_ms = time_runs(call, device, warmup, reps)
        row.peak_mem_mib = memory.peak
        row.fps = setting.batch * 1e3 / row.latency_ms
    except Exception as error:  # one failing setting (OOM, compile) must not end the bench
        row.error = f"{type(error).__name__}: {str(error).splitlines()[0][:200]}"
    finally:
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return row


def onnx_call(variant: Variant, net: nn.Module, inputs: tuple[Tensor, ...]) -> Callable[[], Any]:
    """The variant's call exported to ONNX (fixed shapes) and run by ONNX Runtime on CPU, as
    `infer.py runtime=onnx` runs export.py's graphs. BGMv2's sampling refine is refused: its
    patch selection is data-dependent, which a traced graph would freeze."""
    import tempfile

    import onnxruntime

    if isinstance(net, MattingRefine) and net.refiner.mode != "full":
        raise ValueError("sampling refine is not exportable (export.py uses refine_mode=full)")
    if inputs[0].device.type != "cpu" or inputs[0].dtype != torch.float32:
        raise ValueError("the onnx runtime rows are CPU fp32")

    class Call(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, *x: Tensor) -> Any:
            return variant.call(self.net, x)

    with tempfile.TemporaryDirectory() as folder, torch.no_grad():
        path = f"{folder}/{variant.name}.onnx"
        torch.onnx.export(Call().eval(), inputs, path, dynamo=False, opset_version=17)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feed = {arg.name: x.numpy() for arg, x in zip(session.get_inputs(), inputs, strict=True)}
    return lambda: session.run(None, feed)


def parse_size(text: str) -> tuple[int, int]:
    """`WxH` -> (H, W)."""
    try:
        width, height = (int(n) for n in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"size {text!r} is not WIDTHxHEIGHT, e.g. 1920x1080"
        ) from None
    return height, width


def settings(variant: Variant, args: argparse.Namespace) -> list[Setting]:
    sizes = args.sizes or (variant.sizes[:1] if args.quick else variant.sizes)
    torch_settings = [
        Setting(size, batch, dtype, channels_last, compiled)
        for size in sizes
        for batch in args.batches
        for dtype in args.dtypes
        for channels_last in args.channels_last
        for compiled in args.compile
    ]
    onnx_settings = [  # ONNX Runtime on the exported fp32 graph (CPU)
        Setting(size, batch, "fp32", False, False, "onnx")
        for size in sizes
        for batch in args.batches
    ]
    return [
        *(torch_settings if "torch" in args.runtimes else []),
        *(onnx_settings if "onnx" in args.runtimes else []),
    ]


def run(args: argparse.Namespace) -> dict:
    device = torch.device(args.device)
    available = variants()
    unknown = sorted(set(args.methods or ()) - set(available))
    if unknown:
        raise SystemExit(f"unknown --methods {unknown}; choose from {sorted(available)}")
    rows = []
    for name in args.methods or available:
        variant = available[name]
        macs: dict[str, float | None] = {}
        for setting in settings(variant, args):
            if setting.size not in macs:
                macs[setting.size] = _macs(variant, setting.size, device)
            row = measure(variant, setting, device, args.warmup, args.reps)
            row.gmacs = macs[setting.size]
            rows.append(row)
            print(format_row(row), flush=True)
    return {"meta": _meta(device, args), "results": [asdict(r) for r in rows]}


def _macs(variant: Variant, size: str, device: torch.device) -> float | None:
    try:
        return count_macs(variant, size, device)
    except Exception as error:  # as in `measure`: report it and go on
        print(f"{variant.name} {size}: MACs not counted ({error})")
        return None


HEADER = (
    "| method | size | batch | dtype | channels_last | compile | runtime | params M | GMACs "
    "| latency ms | FPS | peak MiB |\n|---|---|--:|---|---|---|---|--:|--:|--:|--:|--:|"
)


def format_row(row: Row) -> str:
    def num(value: float | None, digits: int) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    cells = [
        row.method, row.size, str(row.batch), row.dtype, "on" if row.channels_last else "off",
        "on" if row.compile else "off", row.runtime, num(row.params_m, 2), num(row.gmacs, 2),
        num(row.latency_ms, 1) if row.error is None else row.error, num(row.fps, 2),
        num(row.peak_mem_mib, 0),
    ]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def _meta(device: torch.device, args: argparse.Namespace) -> dict:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    return {
        "device": str(device),
        "device_name": name or platform.machine(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "threads": torch.get_num_threads(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "args": {k: v for k, v in vars(args).items() if k != "json"},
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="first size, batch 1, 2 timed runs")
    parser.add_argument("--methods", nargs="+", help="variant names (default: all)")
    parser.add_argument("--sizes", nargs="+", help="WxH sizes instead of each method's targets")
    parser.add_argument("--batches", nargs="+", type=int, help="batch sizes (default 1 4)")
    parser.add_argument("--dtypes", nargs="+", choices=sorted(DTYPES))
    parser.add_argument("--channels-last", choices=("off", "on", "both"))
    parser.add_argument("--compile", choices=("off", "on", "both"))
    parser.add_argument(
        "--runtimes", nargs="+", choices=("torch", "onnx"), default=["torch"],
        help="onnx: ONNX Runtime on the exported graph, CPU fp32 (as infer.py runtime=onnx)",
    )  # fmt: skip
    parser.add_argument("--warmup", type=int)
    parser.add_argument("--reps", type=int)
    parser.add_argument("--json", type=Path, help="default: logs/bench/<device>.json")
    args = parser.parse_args(argv)
    cuda = args.device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        parser.error("--device cuda, but CUDA is not available; use --device cpu")
    for size in args.sizes or ():
        parse_size(size)
    # GPU: every precision and option; CPU: fp32 eager (compiling on a CPU takes minutes).
    both = {"off": [False], "on": [True], "both": [False, True]}
    args.dtypes = args.dtypes or (["fp32"] if args.quick or not cuda else list(DTYPES))
    args.channels_last = both[args.channels_last or ("both" if cuda and not args.quick else "off")]
    args.compile = both[args.compile or ("both" if cuda and not args.quick else "off")]
    args.batches = args.batches or ([1] if args.quick else [1, 4])
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick or not cuda else 5)
    args.reps = args.reps or (2 if args.quick else (20 if cuda else 3))
    args.json = args.json or Path("logs/bench") / f"{args.device.replace(':', '')}.json"
    return args


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(argv)
    print(HEADER, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        report = run(args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.json}")
    return report


if __name__ == "__main__":
    main()
