"""The GPU numbers (issue 20) in one prepared run: speed, syncs, precision, memory, training.

    python -m benchmarks.gpu --out logs/gpu             # on a CUDA machine, about 7 minutes
    python -m benchmarks.gpu --tables benchmarks/results/gpu_h200.json   # the README tables again

GPU time is scarce, so the parts run in order of value and each is independent: a failing row or
part is recorded (`error`) and the next one runs, `--budget` seconds bound the whole run (a part
that would not fit is skipped), and `OUT/gpu.json` is rewritten after every row.

1. speed: BGMv2-ResNet-50 (HD variant at 1920x1080, 4K variant at 3840x2160), BGMv2-MobileNetV2,
   MODNet at 512x512, batch 1; fp32 / fp16 / bf16 (weights and inputs cast), channels_last,
   eager or replayed as a CUDA graph; BGMv2 with the refiner's static patch selection and with the
   official `nonzero` one (`Refiner.static_patches`).
2. syncs: host synchronisations in one BGMv2 forward (`torch.cuda.set_sync_debug_mode`).
3. precision: fp16 / bf16 (autocast, as `trainer=gpu` evaluates, and weights cast, as the speed
   rows run) against fp32 (TF32 off) on the sample's test frames, through `MattingMethod.infer`.
4. hdmatt: crop-and-stitch seconds and peak memory at 2048² and 5000² (`benchmarks.hdmatt_speed`).
5. train: training steps per second at batch 8 (the method's own loss and optimiser), fp32 and
   16-mixed / bf16-mixed (autocast + GradScaler, as Lightning's precision plugins).
6. fdr: `train.py trainer=gpu debug=fdr` (16-mixed fast-dev-run) of each trainable method,
   one subprocess each, in parallel.
7. compile: `torch.compile` (and a CUDA graph of the compiled network) for BGMv2-R50 and MODNet;
   last, because compiling takes the longest.

Networks have random weights (seeded: every setting runs the same ones), as in `mattebench.bench`,
whose timing and peak-memory helpers (`mattebench.bench.timing`, torch only) this reuses. Parts 1,
2 and 7 time bare networks from a short explicit list (`variants`), so they run on a CUDA machine
without Hydra or Lightning; `mattebench.bench` builds every method by its model config instead.
Parts 3, 5 and 6 compose the Hydra configs (carry hydra-core, omegaconf, antlr4 and kornia wheels
to a bare CUDA machine).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from mattebench.bench.timing import DTYPES, SIZES, PeakMemory, parse_size, time_runs
from mattebench.data.trimap import quantise_trimap
from mattebench.models.bgmv2 import MattingRefine
from mattebench.models.modnet import MODNet

ROOT = Path(__file__).resolve().parents[1]
FDR_METHODS = (
    "bgmv2_base", "bgmv2", "bgmv2_mobilenetv2", "modnet", "modnet_temporal", "modnet_soc",
    "hdmatt", "tiramisu",
)  # fmt: skip
PRECISION_METHODS = ("bgmv2", "bgmv2_mobilenetv2", "modnet")
# (config, crop size): BGMv2's base recipe crops 256-512, its refine recipe 1024-2048; MODNet 512.
TRAIN_CASES = (("bgmv2_base", 512), ("bgmv2", 1024), ("bgmv2", 2048), ("modnet", 512))


@dataclass(frozen=True)
class Variant:
    """A bare network, how to make its inputs (batch, height, width) and how to call it."""

    name: str
    build: Callable[[], nn.Module]
    inputs: Callable[[int, int, int], tuple[Tensor, ...]]
    call: Callable[[nn.Module, tuple[Tensor, ...]], Any]


def _images(*channels: int) -> Callable[[int, int, int], tuple[Tensor, ...]]:
    return lambda b, h, w: tuple(torch.rand(b, c, h, w) for c in channels)


def variants() -> dict[str, Variant]:
    """The networks of the speed, syncs and compile parts: BGMv2 (`model=bgmv2`, and its
    MobileNetV2 backbone) at its HD (backbone 1/4, 80,000 refined pixels) and 4K (1/8, 320,000)
    settings, and MODNet's network on a [-1, 1] input (`model=modnet`)."""
    found = [
        Variant("modnet", MODNet, _images(3), lambda net, x: net(x[0] * 2 - 1, inference=True)[2])
    ]
    for backbone in ("mobilenetv2", "resnet50"):
        for tag, scale, pixels in (("hd", 0.25, 80_000), ("4k", 0.125, 320_000)):
            build = lambda b=backbone, s=scale, p=pixels: MattingRefine(  # noqa: E731
                b, backbone_scale=s, refine_sample_pixels=p
            )
            found.append(Variant(f"bgmv2_{backbone}_{tag}", build, _images(3, 3),
                                 lambda net, x: net(*x)))  # fmt: skip
    return {v.name: v for v in found}


class Run:
    """Results, the time budget, the JSON file and the run's settings, shared by the parts."""

    def __init__(self, args: argparse.Namespace, device: torch.device) -> None:
        self.out, self.budget, self.tiny, self.device = args.out, args.budget, args.tiny, device
        self.data = [f"paths.data_dir={args.data_dir.resolve()}"] if args.data_dir else []
        self.fdr_dir = args.fdr_dir.resolve()
        self.only, self.fit_steps = set(args.only or ()), args.fit_steps
        self.start = time.monotonic()
        self.results: dict[str, Any] = {"meta": meta(device)}
        args.out.mkdir(parents=True, exist_ok=True)

    def wanted(self, name: str) -> bool:
        """`--only` restricts the train, fdr and compile parts to these names."""
        return not self.only or name in self.only

    def left(self) -> float:
        return self.budget - (time.monotonic() - self.start)

    def add(self, part: str, row: dict) -> None:
        self.results.setdefault(part, []).append(row)
        (self.out / "gpu.json").write_text(json.dumps(self.results, indent=1) + "\n")
        print(part, json.dumps(row), flush=True)

    def part(self, name: str, needs: float, fn: Callable[[Run], None]) -> None:
        """Runs one part if `needs` seconds are left; an exception ends the part, not the run."""
        if self.left() < needs:
            self.add("skipped", {"part": name, "left_s": round(self.left())})
            return
        started = time.monotonic()
        try:
            fn(self)
        except Exception as error:
            self.add("errors", {"part": name, "error": describe(error)})
        self.add("parts", {"part": name, "seconds": round(time.monotonic() - started, 1)})


def describe(error: BaseException) -> str:
    lines = str(error).strip().splitlines() or [""]
    return f"{type(error).__name__}: {lines[0][:300]}"


def meta(device: torch.device) -> dict:
    info: dict[str, Any] = {"torch": torch.__version__, "cuda": torch.version.cuda}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info |= {"gpu": props.name, "sms": props.multi_processor_count,
                 "memory_gib": round(props.total_memory / 2**30, 1)}  # fmt: skip
        with contextlib.suppress(Exception):
            info["driver"] = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version,clocks.max.sm", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=20,
            ).stdout.strip()  # fmt: skip
    info |= {"cudnn_benchmark": torch.backends.cudnn.benchmark,
             "conv_tf32": torch.backends.cudnn.allow_tf32,
             "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
             "time": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}  # fmt: skip
    return info


def release(run: Run) -> None:
    """Give the cached blocks of the last row back, so each row's peak memory is its own."""
    if run.device.type == "cuda":
        torch.cuda.empty_cache()


# --- 1. speed ---------------------------------------------------------------------------------


def graphed(fn: Callable[[], Any]) -> Callable[[], Any]:
    """`fn` captured once as a CUDA graph (after warm-up on a side stream); returns its replay.
    Capture fails on any host sync or data-dependent shape, which is what it shows."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        fn()
    return graph.replay


def speed_row(
    run: Run, variant: Variant, size: str, dtype: str, *, channels_last: bool = False,
    mode: str = "eager", static: bool = True, batch: int = 1,
) -> dict:  # fmt: skip
    """One timed setting: mode "eager", "graph", "compile" or "compile+graph"."""
    row: dict[str, Any] = {"method": variant.name, "size": size, "batch": batch, "dtype": dtype,
                           "channels_last": channels_last, "mode": mode}  # fmt: skip
    if variant.name.startswith("bgmv2"):
        row["patches"] = "static" if static else "nonzero"
    height, width = SIZES.get(size) or parse_size(size)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    torch.manual_seed(0)
    net = variant.build().eval()
    if hasattr(net, "refiner"):
        net.refiner.static_patches = static
    net = net.to(device=run.device, dtype=DTYPES[dtype], memory_format=memory_format)
    inputs = tuple(
        x.to(device=run.device, dtype=DTYPES[dtype], memory_format=memory_format)
        for x in variant.inputs(batch, height, width)
    )
    runner = torch.compile(net, dynamic=False) if mode.startswith("compile") else net
    warmup, reps = (1, 2) if run.tiny else (10, 50)
    try:
        with torch.no_grad(), PeakMemory(run.device) as memory:
            started = time.monotonic()
            outputs = variant.call(runner, inputs)
            if mode.startswith("compile"):
                row["compile_s"] = round(time.monotonic() - started, 1)
            if hasattr(net, "refiner"):  # patches refined per image (fewer where error is 0)
                row["refined"] = int(outputs[-1].sum().item()) // batch
            fn = lambda: variant.call(runner, inputs)  # noqa: E731
            if mode.endswith("graph"):
                started = time.monotonic()
                fn = graphed(fn)
                row["capture_s"] = round(time.monotonic() - started, 1)
            row["latency_ms"] = time_runs(fn, run.device, warmup, reps)
        row["fps"] = batch * 1e3 / row["latency_ms"]
        row["peak_mib"] = memory.peak
    except Exception as error:  # an OOM, a failed capture or compile ends this row only
        row["error"] = describe(error)
    return row


def speed_cases(tiny: bool) -> Iterator[tuple[str, str, str, dict]]:
    """(variant, size, dtype, options) in order of value."""
    hd, uhd = ("64x48", "128x96") if tiny else ("1920x1080", "3840x2160")
    small = "64x64" if tiny else "512x512"
    for name, size in (("bgmv2_resnet50_hd", hd), ("bgmv2_resnet50_4k", uhd)):
        yield name, size, "fp32", {}
        yield name, size, "fp32", {"static": False}
        yield name, size, "fp16", {}
        yield name, size, "fp16", {"static": False}
        yield name, size, "bf16", {}
        yield name, size, "fp16", {"channels_last": True}
        yield name, size, "fp32", {"mode": "graph"}
        yield name, size, "fp16", {"mode": "graph"}
        yield name, size, "fp16", {"mode": "graph", "channels_last": True}
        yield name, size, "bf16", {"mode": "graph", "channels_last": True}
    for name, size in (("modnet", small),):
        yield name, size, "fp32", {}
        yield name, size, "fp16", {}
        yield name, size, "bf16", {}
        yield name, size, "fp16", {"channels_last": True}
        yield name, size, "fp32", {"mode": "graph"}
        yield name, size, "fp16", {"mode": "graph"}
        yield name, size, "fp16", {"mode": "graph", "channels_last": True}
        yield name, size, "bf16", {"mode": "graph", "channels_last": True}
    for name, size in (("bgmv2_mobilenetv2_hd", hd), ("bgmv2_mobilenetv2_4k", uhd)):
        yield name, size, "fp32", {}
        yield name, size, "fp16", {}
        yield name, size, "fp16", {"mode": "graph"}
        yield name, size, "fp16", {"mode": "graph", "channels_last": True}


def speed(run: Run) -> None:
    found = variants()
    for name, size, dtype, options in speed_cases(run.tiny):
        if options.get("mode", "eager").endswith("graph") and run.device.type != "cuda":
            continue
        run.add("speed", speed_row(run, found[name], size, dtype, **options))
        release(run)


def compiled(run: Run) -> None:
    found = variants()
    hd, uhd, small = ("64x48", "128x96", "64x64") if run.tiny else ("1920x1080", "3840x2160",
                                                                      "512x512")  # fmt: skip
    modes = ("compile", "compile+graph") if run.device.type == "cuda" else ("compile",)
    for name, size in (("bgmv2_resnet50_hd", hd), ("modnet", small), ("bgmv2_resnet50_4k", uhd)):
        for mode in modes if run.wanted(name) else ():
            if run.left() < 60:
                run.add("skipped", {"part": f"compile {name} {mode}", "left_s": round(run.left())})
                continue
            run.add("speed", speed_row(run, found[name], size, "fp16", channels_last=True,
                                       mode=mode))  # fmt: skip


def refiner(run: Run) -> None:
    """Static vs official patch selection, BGMv2-R50 HD fp16 channels_last: eager twice each
    (the spread between repeats is the noise), and compiled (the official path breaks the graph
    at `nonzero`)."""
    variant = variants()["bgmv2_resnet50_hd"]
    size = "64x48" if run.tiny else "1920x1080"
    modes = ("eager", "eager", "compile") if run.device.type == "cuda" else ("eager",)
    for mode in modes:
        for static in (True, False):
            row = speed_row(run, variant, size, "fp16", channels_last=True, mode=mode,
                            static=static)  # fmt: skip
            run.add("refiner", row)
            release(run)


# --- 2. syncs ---------------------------------------------------------------------------------


def syncs(run: Run) -> None:
    """Synchronising CUDA calls in one forward of BGMv2-R50 HD, static vs official selection."""
    if run.device.type != "cuda":
        raise RuntimeError("counting host syncs needs --device cuda")
    variant = variants()["bgmv2_resnet50_hd"]
    height, width = (48, 64) if run.tiny else (1080, 1920)
    torch.manual_seed(0)
    net = variant.build().eval().to(run.device)
    src, bgr = (x.to(run.device) for x in variant.inputs(1, height, width))
    for static in (True, False):
        net.refiner.static_patches = static
        with torch.no_grad():
            net(src, bgr)  # warm-up: cuDNN and allocator set-up are not the network's
            torch.cuda.synchronize()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                torch.cuda.set_sync_debug_mode("warn")
                try:
                    net(src, bgr)
                finally:
                    torch.cuda.set_sync_debug_mode("default")
        found = [str(w.message).splitlines()[0][:120] for w in caught
                 if "called a synchronizing CUDA operation" in str(w.message)]  # fmt: skip
        run.add("syncs", {"patches": "static" if static else "nonzero", "syncs": len(found),
                          "first": found[:3]})  # fmt: skip


# --- 3. precision -----------------------------------------------------------------------------


def compose(overrides: list[str]) -> Any:
    """The Hydra config `train.py <overrides>` would run with, rooted at this checkout."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(str(ROOT / "conf"), version_base="1.3"):
        return hydra_compose("train", overrides=[*overrides, f"paths.root_dir={ROOT}"])


def method(name: str, run: Run, fit_steps: int = 0) -> nn.Module:
    """The method of `model=name` with random weights (seeded), after `fit_steps` training steps
    (fp32, its own loss and optimiser) on the sample's unaugmented training composites."""
    import hydra

    cfg = compose([f"model={name}", "data=videomatte_sample", *run.data])
    torch.manual_seed(0)
    net = hydra.utils.instantiate(cfg.model).to(run.device)
    if not fit_steps:
        return net
    datamodule = hydra.utils.instantiate(cfg.data)
    datamodule.prepare_data()
    datamodule.configure_for(net)  # its training trimap and crop multiple (no Trainer here)
    datamodule.setup("fit")
    optimizer = optimizer_of(net)
    net.train()
    for step, batch in enumerate(forever(datamodule.train_dataloader)):
        batch = {k: v.to(run.device) if isinstance(v, Tensor) else v for k, v in batch.items()}
        loss = net.training_loss(datamodule.on_after_batch_transfer(batch, 0))["loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step + 1 == fit_steps:
            return net


def forever(loader: Callable[[], Any]) -> Iterator[dict]:
    while True:
        yield from loader()


def optimizer_of(net: nn.Module) -> torch.optim.Optimizer:
    optimizer = net.configure_optimizers()
    return optimizer["optimizer"] if isinstance(optimizer, dict) else optimizer


def sample(run: Run) -> Any:
    """The VideoMatte240K sample's datamodule, its data generated (once) and set up for test."""
    import hydra

    datamodule = hydra.utils.instantiate(compose(["data=videomatte_sample", *run.data]).data)
    datamodule.prepare_data()
    datamodule.setup("test")
    return datamodule


def test_batches(run: Run) -> list[dict]:
    batches = list(sample(run).test_dataloader())[: 1 if run.tiny else None]
    return [{k: v.to(run.device) if isinstance(v, Tensor) else v for k, v in b.items()}
            for b in batches]  # fmt: skip


@contextlib.contextmanager
def no_tf32() -> Iterator[None]:
    """True fp32 for the reference: convolutions and matmuls on CUDA default to TF32 here."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def precision(run: Run) -> None:
    batches = test_batches(run)
    frames = sum(len(b["image"]) for b in batches)
    for name in PRECISION_METHODS:
        try:
            net = method(name, run, run.fit_steps).eval()
            with torch.no_grad(), no_tf32():
                reference = [net.infer(b)["alpha"].float() for b in batches]
        except Exception as error:  # this method's fit or reference failed: the next one runs
            failed = {
                "dtype": "-",
                "how": "-",
                "fit_steps": run.fit_steps,
                "error": describe(error),
            }
            run.add("precision", {"method": name, "frames": frames, **failed})
            continue
        for dtype, how in (("fp32", "tf32"), ("fp16", "autocast"), ("bf16", "autocast"),
                           ("fp16", "cast"), ("bf16", "cast")):  # fmt: skip
            row = {"method": name, "frames": frames, "dtype": dtype, "how": how,
                   "fit_steps": run.fit_steps}  # fmt: skip
            try:
                alphas = infer_all(net, batches, dtype, how, run.device)
                diff = torch.cat(
                    [(a - r).abs().flatten() for a, r in zip(alphas, reference, strict=True)]
                )
                row |= {"max_abs": diff.max().item(), "mean_abs": diff.mean().item(),
                        "over_1_255": (diff > 1 / 255).float().mean().item()}  # fmt: skip
            except Exception as error:
                row["error"] = describe(error)
            run.add("precision", row)
        del net


def infer_all(net: nn.Module, batches: list[dict], dtype: str, how: str, device: torch.device
              ) -> list[Tensor]:  # fmt: skip
    """Alphas of `net.infer` in fp32 with TF32 (`how` "tf32", PyTorch's default for convolutions),
    under autocast, or with a copy of the network and the inputs cast to `dtype`."""
    autocast = torch.autocast(device.type, dtype=DTYPES[dtype], enabled=how == "autocast")
    if how == "cast":
        net = copy.deepcopy(net).to(DTYPES[dtype])
        batches = [{k: v.to(DTYPES[dtype]) if isinstance(v, Tensor) else v for k, v in b.items()}
                   for b in batches]  # fmt: skip
    with torch.no_grad(), autocast:
        return [net.infer(b)["alpha"].float() for b in batches]


# --- 4. HDMatt --------------------------------------------------------------------------------


def hdmatt(run: Run) -> None:
    from benchmarks.hdmatt_speed import run_one

    device = run.device.type
    run_one(256, 320, 32, 8, 40, device)  # warm-up: cuDNN set-up is not the stitching's
    for size in (512, 1024) if run.tiny else (2048, 5000):
        try:  # twice: the first call at a size also autotunes cuDNN for its patch batches
            first = run_one(size, 320, 32, 8, 40, device)
            row = run_one(size, 320, 32, 8, 40, device) | {"first_s": first["seconds"]}
        except Exception as error:
            row = {"size": size, "error": describe(error)}
        run.add("hdmatt", row)
        if device == "cuda":
            torch.cuda.empty_cache()


# --- 5. training steps ------------------------------------------------------------------------


def training_batch(size: int, batch: int, device: torch.device) -> dict[str, Tensor]:
    """Random inputs with every key a method trains on; the trimap has the three levels."""
    g = torch.Generator(device="cpu").manual_seed(0)
    alpha = torch.rand(batch, 1, size, size, generator=g)
    out = {key: torch.rand(batch, 3, size, size, generator=g) for key in ("image", "fgr", "bgr")}
    out |= {"alpha": alpha, "trimap": quantise_trimap(alpha), "prev_alpha": alpha.flip(-1)}
    return {k: v.to(device) for k, v in out.items()}


def train_row(run: Run, name: str, size: int, precision_: str, batch: int) -> dict:
    row: dict[str, Any] = {"method": name, "size": size, "batch": batch, "precision": precision_}
    net = method(name, run).train()
    optimizer = optimizer_of(net)
    dtype = {"16-mixed": torch.float16, "bf16-mixed": torch.bfloat16}.get(precision_)
    scaler = torch.amp.GradScaler(run.device.type, enabled=dtype is torch.float16)
    data = training_batch(size, batch, run.device)

    def step() -> None:
        with torch.autocast(run.device.type, dtype=dtype or torch.float32, enabled=bool(dtype)):
            loss = net.training_loss(data)["loss"]
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    try:
        with PeakMemory(run.device) as memory:
            milliseconds = time_runs(step, run.device, 1 if run.tiny else 3, 2 if run.tiny else 10)
        row |= {"step_ms": milliseconds, "steps_s": 1e3 / milliseconds,
                "images_s": batch * 1e3 / milliseconds, "peak_mib": memory.peak}  # fmt: skip
    except Exception as error:
        row["error"] = describe(error)
    return row


def train(run: Run) -> None:
    batch = 2 if run.tiny else 8
    precisions = ("32", "16-mixed", "bf16-mixed") if run.device.type == "cuda" else ("32",)
    for name, size in (case for case in TRAIN_CASES if run.wanted(case[0])):
        for precision_ in precisions:
            run.add("train", train_row(run, name, 64 if run.tiny else size, precision_, batch))
            release(run)


# --- 6. fast-dev-runs -------------------------------------------------------------------------


def fdr(run: Run) -> None:
    """`train.py` fast-dev-run of each method with `trainer=gpu` (16-mixed), in parallel."""
    accelerator = "gpu" if run.device.type == "cuda" else "cpu"
    methods = [name for name in FDR_METHODS[: 2 if run.tiny else None] if run.wanted(name)]
    sample(run)  # generated here once, not by every job at the same time
    jobs = {}
    for name in methods:
        log = run.fdr_dir / f"{name}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        overrides = [f"model={name}", "data=videomatte_sample", "trainer=gpu", "debug=fdr",
                     f"trainer.accelerator={accelerator}", f"paths.root_dir={ROOT}",
                     f"hydra.run.dir={run.fdr_dir / name}", *run.data]  # fmt: skip
        if accelerator == "cpu":
            overrides += ["trainer.precision=32", "data.size=64", "data.batch_size=2"]
        jobs[name] = (subprocess.Popen([sys.executable, str(ROOT / "train.py"), *overrides],
                                       cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
                                       env=os.environ.copy()), log, time.monotonic())  # fmt: skip
    for name, (process, log, started) in jobs.items():
        try:
            rc = process.wait(timeout=max(10.0, run.left() - 30))
        except subprocess.TimeoutExpired:
            process.kill()
            rc = "timeout"
        text = log.read_text(errors="replace")
        amp = "16bit Automatic Mixed Precision" in text or "precision=16-mixed" in text
        tail = [line for line in text.splitlines() if line.strip()][-3:]
        run.add("fdr", {"method": name, "rc": rc, "seconds": round(time.monotonic() - started),
                        "amp_16_mixed": amp, "gpu_used": "used: True" in text,
                        "tail": tail})  # fmt: skip


# --- tables -----------------------------------------------------------------------------------


def num(value: Any, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


# What identifies a row of each part; rows of the "refiner" part are all kept.
KEYS = {
    "speed": ("method", "size", "batch", "dtype", "channels_last", "mode", "patches"),
    "syncs": ("patches",), "precision": ("method", "dtype", "how", "fit_steps"),
    "hdmatt": ("size",), "train": ("method", "size", "batch", "precision"), "fdr": ("method",),
}  # fmt: skip


def merge(runs: list[dict]) -> dict:
    """Several runs' results as one: the first run's meta, rows in order, later ones replacing
    earlier ones with the same key (a part re-run after a fix)."""
    merged: dict[str, Any] = {"meta": runs[0]["meta"] | {"runs": [r["meta"]["time"] for r in runs]}}
    for results in runs:
        for part, rows in results.items():
            if part == "meta":
                continue
            kept = merged.setdefault(part, [])
            for row in rows:
                key = [k for k in KEYS.get(part, ()) if k in row]
                same = [i for i, old in enumerate(kept)
                        if key and all(old.get(k) == row[k] for k in key)]  # fmt: skip
                if same:
                    kept[same[0]] = row
                else:
                    kept.append(row)
    return merged


def tables(results: dict) -> str:
    m = results["meta"]
    lines = [f"{m.get('gpu', 'cpu')}, torch {m['torch']} (CUDA {m.get('cuda')}), cuDNN benchmark "
             f"{'on' if m['cudnn_benchmark'] else 'off'}, fp32 convolutions in TF32 "
             f"{'on' if m['conv_tf32'] else 'off'}; random weights, batch 1, median of 50 runs "
             "after 10 warm-up (CUDA events).", "",
             "| network | size | dtype | channels_last | mode | BGMv2 patches (refined) | "
             "latency ms | FPS | peak MiB |", "|---|---|---|---|---|---|--:|--:|--:|"]  # fmt: skip
    for r in results.get("speed", []):
        patches = f"{r['patches']} ({r.get('refined', '-')})" if "patches" in r else "-"
        timing = [num(r.get("latency_ms"), 2), num(r.get("fps"), 0), num(r.get("peak_mib"), 0)]
        if "error" in r:
            timing = [r["error"][:80], "-", "-"]
        lines.append(
            "| "
            + " | ".join(
                [
                    r["method"],
                    r["size"],
                    r["dtype"],
                    "on" if r["channels_last"] else "off",
                    r["mode"],
                    patches,
                    *timing,
                ]
            )
            + " |"
        )
    lines += ["", "| BGMv2-R50 HD forward | host syncs |", "|---|--:|"]
    lines += [f"| {r['patches']} | {r['syncs']} |" for r in results.get("syncs", [])]
    lines += ["", "| BGMv2-R50 1920x1080 fp16 channels_last | patches | latency ms |",
              "|---|---|--:|"]  # fmt: skip
    for r in results.get("refiner", []):
        timing = r["error"][:80] if "error" in r else num(r.get("latency_ms"), 2)
        lines.append(f"| {r['mode']} | {r['patches']} | {timing} |")
    lines += ["", "| method | vs fp32 (TF32 off) | max abs | mean abs | pixels > 1/255 |",
              "|---|---|--:|--:|--:|"]  # fmt: skip
    for r in results.get("precision", []):
        label = f"{r['dtype']} {r['how']}" if r["how"] != "tf32" else "fp32 with TF32 (default)"
        cells = [
            num(r.get("max_abs"), 4),
            num(r.get("mean_abs"), 5),
            f"{100 * r['over_1_255']:.2f}%" if "over_1_255" in r else r.get("error", "-"),
        ]
        weights = f"{r['fit_steps']} steps trained" if r.get("fit_steps") else "random weights"
        lines.append(f"| {r['method']} ({weights}, {r['frames']} frames) | {label} | "
                     + " | ".join(cells) + " |")  # fmt: skip
    lines += ["", "| HDMatt crop-and-stitch | query patches run / grid | s (first call) | "
              "peak GiB |", "|---|--:|--:|--:|"]  # fmt: skip
    for r in results.get("hdmatt", []):
        lines.append(
            f"| {r['size']}² | {r.get('queries', '-')} / {r.get('grid', '-')} | "
            f"{num(r.get('seconds'), 2)} ({num(r.get('first_s'), 2)}) | "
            f"{num(r.get('peak_gib'), 2)} |"
        )
    lines += ["", "| training step, batch 8 | crop | precision | ms/step | images/s | peak MiB |",
              "|---|--:|---|--:|--:|--:|"]  # fmt: skip
    for r in results.get("train", []):
        cells = [num(r.get("step_ms"), 1), num(r.get("images_s"), 1), num(r.get("peak_mib"), 0)]
        if "error" in r:
            cells = [r["error"][:80], "-", "-"]
        lines.append(f"| {r['method']} | {r['size']}² | {r['precision']} | " + " | ".join(cells)
                     + " |")  # fmt: skip
    if results.get("fdr"):
        lines += ["", "| `train.py trainer=gpu debug=fdr` | exit | s |", "|---|--:|--:|"]
        lines += [f"| {r['method']} | {r['rc']} | {r['seconds']} |" for r in results["fdr"]]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("logs/gpu"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--budget", type=float, default=420, help="seconds for the whole run")
    parser.add_argument("--parts", nargs="+", default=list(PARTS), choices=list(PARTS))
    parser.add_argument("--tiny", action="store_true", help="tiny sizes: checks the script")
    parser.add_argument("--data-dir", type=Path, help="where the sample is made (paths.data_dir)")
    parser.add_argument("--fdr-dir", type=Path, default=Path("logs/gpu_fdr"), help="fdr logs")
    parser.add_argument("--only", nargs="+", help="train / fdr / compile only these names")
    parser.add_argument("--fit-steps", type=int, default=0, help="precision: train briefly first")
    parser.add_argument(
        "--tables",
        type=Path,
        nargs="+",
        help="print the tables of gpu.json "
        "files (a later run's row replaces an earlier one with the same key)",
    )
    return parser.parse_args(argv)


# name: (seconds a part needs at least to start, the part)
PARTS: dict[str, tuple[float, Callable[[Run], None]]] = {
    "speed": (60, speed), "syncs": (20, syncs), "precision": (30, precision),
    "hdmatt": (40, hdmatt), "train": (40, train), "fdr": (90, fdr), "refiner": (60, refiner),
    "compile": (60, compiled),
}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.tables:
        print(tables(merge([json.loads(path.read_text()) for path in args.tables])))
        return
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = device.type == "cuda"  # fixed sizes: pick the fastest conv
    run = Run(args, device)
    print(json.dumps(run.results["meta"]), flush=True)
    for name in args.parts:
        needs, fn = PARTS[name]
        run.part(name, needs * (0.1 if args.tiny else 1), fn)
    text = tables(run.results)
    (args.out / "gpu.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
