"""Classical (non-learned) trimap-based matting from pymatting, compared on the same footing as
the networks: closed-form (Levin et al. 2008), KNN (Chen et al. 2013), large-kernel (He et al.
2010), random-walk (Grady et al. 2005), learning-based (Zheng & Kambhamettu 2009) and shared
matting (Gastal & Oliveira 2010).

Nothing is fitted (`trainable = False`: train.py only tests it); `predict` solves each image on
CPU workers. The solvers cost seconds to minutes per image at full resolution, so they run at a
working resolution (`max_side`), in parallel processes, each under a time limit: an image over
the limit is killed and scored on the trimap alone (unknown = 0.5), counted in `test/timeouts`
and named in a warning, so a sweep never hangs on one image (a solver error, such as conjugate
gradients not converging, falls back the same way and counts in `test/failures`). The working
resolution is the method's `InferencePolicy`: the platform downscales image and trimap (a cell
that mixes labels becomes unknown, so the band only grows), upsamples the alpha and foreground,
and copies the known trimap pixels at full resolution.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any, ClassVar

import numba
import numpy as np
import torch
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor, nn

from mattebench.data.trimap import (
    is_background,
    is_foreground,
    quantise_trimap,
    unknown_mask,
)
from mattebench.methods.base import Batch, MattingMethod, Prediction
from mattebench.methods.foreground import estimate_foreground
from mattebench.methods.policy import InferencePolicy, working_size

# Solver processes fork from a server that has imported pymatting, which starts numba's threads;
# GNU OpenMP (numba's default layer on Linux) kills a child forked after that. TBB or numba's
# workqueue survive a fork: "forksafe" picks one (set before any numba threads start).
numba.config.THREADING_LAYER = "forksafe"

#: `algorithm` -> pymatting alpha solver.
SOLVERS = {
    "cf": "estimate_alpha_cf",
    "knn": "estimate_alpha_knn",
    "lkm": "estimate_alpha_lkm",
    "rw": "estimate_alpha_rw",
    "lbdm": "estimate_alpha_lbdm",
    "sm": "estimate_alpha_sm",
}


class ClassicalMatting(MattingMethod):
    """Args:
    algorithm: one of `SOLVERS` (cf, knn, lkm, rw, lbdm, sm).
    max_side: working resolution: images whose longer side exceeds it are solved downscaled,
        the alpha upsampled (bilinear) and the known trimap regions copied; None = full.
    workers: solver processes run at once (None = one per CPU core); numba threads are
        shared out between them.
    time_limit_s: seconds one image may take before it falls back to the trimap; None = no
        limit.
    solver_kwargs: passed to the pymatting solver (e.g. `laplacian_kwargs: {epsilon: 1e-7}`).
    foreground_kwargs: passed to `pymatting.estimate_foreground_ml`.
    **kwargs: `MattingMethod` evaluation arguments (eval_regions, panels, clip_eval).
    """

    required_keys: ClassVar[tuple[str, ...]] = ("image", "trimap")
    trainable: ClassVar[bool] = False

    def __init__(
        self,
        algorithm: str = "cf",
        max_side: int | None = 512,
        workers: int | None = None,
        time_limit_s: float | None = 120.0,
        solver_kwargs: dict[str, Any] | None = None,
        foreground_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if algorithm not in SOLVERS:
            raise ValueError(f"algorithm={algorithm!r} is not one of {sorted(SOLVERS)}.")
        # Nothing to optimise: an empty net, and no optimizer (fit is refused below).
        super().__init__(net=nn.Identity(), optimizer=None, **kwargs)
        self.algorithm = algorithm
        self.max_side = max_side
        self.workers = workers or os.cpu_count() or 1
        self.time_limit_s = time_limit_s
        self.solver_kwargs = solver_kwargs or {}
        self.foreground_kwargs = foreground_kwargs or {}

    def configure_optimizers(self) -> Any:
        raise RuntimeError(
            f"{type(self).__name__} ({self.algorithm}) has nothing to train (trainable = "
            "False: train.py only tests it)."
        )

    def inference_policy(self) -> InferencePolicy:
        return InferencePolicy(size=working_size(self.max_side))

    def predict(self, batch: Batch) -> Prediction:
        self.check_batch(batch)
        image, trimap = batch["image"].float(), quantise_trimap(batch["trimap"].float())
        solved = solve_all(
            [(self.algorithm, _hwc(i), _hwc(t)[..., 0], self.solver_kwargs)
             for i, t in zip(image, trimap, strict=True)],
            self.workers,
            self.time_limit_s,
        )  # fmt: skip
        alpha = trimap.clone().cpu()
        for n, result in enumerate(solved):
            if result.alpha is not None:
                alpha[n, 0] = torch.from_numpy(result.alpha)
                continue
            why = result.error or f"passed time_limit_s={self.time_limit_s}"
            rank_zero_warn(
                f"{self.algorithm} matting of {_sample_name(batch, n)} {why}: scored on its "
                "trimap (unknown = 0.5)."
            )
        alpha = alpha.to(image).clamp(0, 1)
        start = time.perf_counter()
        fgr = estimate_foreground(image, alpha, **self.foreground_kwargs)
        foreground_s = (time.perf_counter() - start) / len(image)
        self._log_costs([r.seconds + foreground_s for r in solved], solved)
        return {"alpha": alpha, "fgr": fgr}

    def training_loss(self, batch: Batch) -> dict[str, Tensor]:
        raise RuntimeError(f"{type(self).__name__} has no training loss (trainable = False).")

    def _log_costs(self, seconds: list[float], solved: list[Solved]) -> None:
        """`<stage>/seconds_per_image`: the latency of one image (its alpha solve in a worker
        plus its share of the foreground estimate); `<stage>/timeouts` and `<stage>/failures`
        (e.g. CG did not converge): images scored on their trimap instead."""
        trainer = self._trainer
        if trainer is None or not (trainer.testing or trainer.validating):
            return
        stage, n = ("test" if trainer.testing else "val"), len(seconds)
        self.log(f"{stage}/seconds_per_image", sum(seconds) / n, batch_size=n)
        timeouts = sum(r.timed_out for r in solved)
        failures = sum(r.error is not None for r in solved)
        self.log(f"{stage}/timeouts", float(timeouts), reduce_fx="sum", batch_size=n)
        self.log(f"{stage}/failures", float(failures), reduce_fx="sum", batch_size=n)


@dataclass
class Solved:
    """One image's outcome: `alpha` (working resolution), or a timeout, or a solver error."""

    alpha: np.ndarray | None
    seconds: float
    error: str | None = None

    @property
    def timed_out(self) -> bool:
        return self.alpha is None and self.error is None


def solve_all(jobs: list[tuple], workers: int, time_limit_s: float | None) -> list[Solved]:
    """Run `solve(*job)` for every job, `workers` processes at a time, killing any that runs
    past `time_limit_s`. Trivial trimaps are answered here without a process.

    Processes come from a forkserver whose server preloads this module and pymatting: forking
    from it is cheap, and unlike a plain fork it is safe after the parent has used numba's or
    torch's OpenMP threads."""
    results: list[Solved | None] = [None] * len(jobs)
    pending = []
    for n, (_, _, trimap, _) in enumerate(jobs):
        constant = constant_solution(trimap)
        if constant is None:
            pending.append(n)
        else:
            results[n] = Solved(constant, 0.0)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", __name__, "pymatting"])
    threads = max(1, (os.cpu_count() or 1) // min(workers, max(1, len(pending))))
    running: dict[Connection, tuple[int, multiprocessing.Process, float]] = {}
    while pending or running:
        while pending and len(running) < workers:
            n = pending.pop(0)
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_child, args=(sender, threads, *jobs[n]), daemon=True)
            process.start()
            sender.close()
            running[receiver] = (n, process, time.perf_counter())
        timeout = None
        if time_limit_s is not None:
            first = min(start for _, _, start in running.values())
            timeout = max(0.0, first + time_limit_s - time.perf_counter())
        for receiver in wait(list(running), timeout):
            n, process, start = running.pop(receiver)
            try:
                alpha, error = receiver.recv()
            except EOFError:
                alpha, error = None, "the worker died"
            process.join()
            results[n] = Solved(alpha, time.perf_counter() - start, error)
        for receiver, (n, process, start) in list(running.items()):
            if time_limit_s is not None and time.perf_counter() - start >= time_limit_s:
                process.kill()
                process.join()
                del running[receiver]
                results[n] = Solved(None, time.perf_counter() - start)
    return results


def solve(algorithm: str, image: np.ndarray, trimap: np.ndarray, kwargs: dict) -> np.ndarray:
    """pymatting's alpha (H,W) for an H,W,3 image and an H,W trimap in {0, 0.5, 1}."""
    import pymatting

    return getattr(pymatting, SOLVERS[algorithm])(image, trimap, **kwargs)


def constant_solution(trimap: np.ndarray) -> np.ndarray | None:
    """The answer without a solver, where there is one: no unknown pixels (the trimap itself),
    or one known label only (the solvers' smooth solution is that constant; pymatting refuses
    such trimaps). None where the solver is needed."""
    unknown = unknown_mask(trimap)
    has_fg, has_bg = is_foreground(trimap).any(), is_background(trimap).any()
    if unknown.any() and has_fg and has_bg:
        return None
    fill = 1.0 if has_fg else 0.0 if has_bg else 0.5
    return np.where(unknown, fill, trimap)


def _child(sender: Connection, threads: int, *job: Any) -> None:
    numba.set_num_threads(threads)
    try:
        sender.send((solve(*job), None))
    except Exception as error:  # reported to the parent, which names the sample
        sender.send((None, f"failed ({type(error).__name__}: {error})"))
    sender.close()


def _hwc(x: Tensor) -> np.ndarray:
    return np.ascontiguousarray(x.detach().permute(1, 2, 0).cpu().double().numpy())


def _sample_name(batch: Batch, n: int) -> str:
    meta = batch.get("meta", [])
    if n < len(meta) and "id" in meta[n]:
        return f"{meta[n].get('source', 'sample')}/{meta[n]['id']}"
    return f"batch item {n}"
