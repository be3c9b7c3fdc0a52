"""Parts 3-6, which build methods from the Hydra configs: precision through `infer`, HDMatt's
crop-and-stitch, training steps, and `train.py` fast-dev-runs."""

from __future__ import annotations

import contextlib
import copy
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import Tensor, nn

from benchmarks.gpu.core import ROOT, Run, describe, release
from mattebench.bench.timing import DTYPES, PeakMemory, time_runs
from mattebench.data.trimap import quantise_trimap

FDR_METHODS = (
    "bgmv2_base", "bgmv2", "bgmv2_mobilenetv2", "modnet", "modnet_temporal", "modnet_soc",
    "hdmatt", "tiramisu",
)  # fmt: skip
PRECISION_METHODS = ("bgmv2", "bgmv2_mobilenetv2", "modnet")
# (config, crop size): BGMv2's base recipe crops 256-512, its refine recipe 1024-2048; MODNet 512.
TRAIN_CASES = (("bgmv2_base", 512), ("bgmv2", 1024), ("bgmv2", 2048), ("modnet", 512))


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
