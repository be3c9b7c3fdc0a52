"""MattingMetrics: stable names, regions, and DDP state synchronisation."""

import os
import socket

import pytest
import torch.distributed as dist
import torch.multiprocessing as mp

from mattebench.metrics import DtSSD, MattingMetrics
from tests import mattes


def batch(seeds, size=(40, 56)):
    cases = [mattes.portrait_case(*size, seed=s) for s in seeds]
    return mattes.stack_cases(cases)


def test_names_for_one_and_for_several_regions():
    assert set(MattingMetrics().keys()) == {"sad", "mse", "grad", "conn", "mad"}
    both = MattingMetrics(regions=("unknown", "image"), prefix="test/")
    assert set(both.keys(keep_base=False)) == {
        f"test/{m}_{r}" for m in ("sad", "mse", "grad", "conn", "mad") for r in ("unknown", "image")
    }
    assert set(MattingMetrics(convention="mmagic").keys()) == {"sad", "mse", "grad", "conn"}


def test_regions_score_different_pixels():
    pred, target, trimap = batch([0, 1])
    metrics = MattingMetrics(regions=("unknown", "image"))
    metrics.update(pred, target, trimap=trimap)
    values = metrics.compute()
    # every unknown pixel is also an image pixel, and errors outside it are zero here
    assert values["sad_unknown"] == pytest.approx(values["sad_image"].item())
    assert values["mse_unknown"] > values["mse_image"]  # same error, more pixels to average


def _ddp_worker(rank: int, world_size: int, port: int, queue) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        pred, target, trimap = batch(range(rank * 3, rank * 3 + 3))
        metrics = MattingMetrics(regions=("unknown", "image"))
        metrics.update(pred, target, trimap=trimap)
        video = DtSSD()
        video.update(pred, target, clip_ids=f"clip-{rank}")
        result = {k: v.item() for k, v in metrics.compute().items()}
        result["dtssd"] = video.compute().item()
        queue.put((rank, result))
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_process_ddp_equals_one_process_over_all_images():
    context = mp.get_context("spawn")
    queue = context.SimpleQueue()
    mp.start_processes(_ddp_worker, args=(2, _free_port(), queue), nprocs=2, start_method="spawn")
    results = dict(queue.get() for _ in range(2))

    pred, target, trimap = batch(range(6))
    single = MattingMetrics(regions=("unknown", "image"))
    single.update(pred, target, trimap=trimap)
    expected = {k: v.item() for k, v in single.compute().items()}
    video = DtSSD()
    video.update(pred[:3], target[:3], clip_ids="clip-0")
    video.update(pred[3:], target[3:], clip_ids="clip-1")
    expected["dtssd"] = video.compute().item()

    for rank in (0, 1):
        assert results[rank] == pytest.approx(expected, rel=1e-12)
