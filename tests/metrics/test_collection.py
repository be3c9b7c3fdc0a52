"""MattingMetrics: stable names, regions, and DDP state synchronisation."""

import os
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mattebench.metrics import DtSSD, MattingMetrics
from tests import mattes


def batch(seeds, size=(40, 56)):
    cases = [mattes.portrait_case(*size, seed=s) for s in seeds]
    return mattes.stack_cases(cases)


def test_names_for_one_and_for_several_regions():
    assert set(MattingMetrics().keys()) == {"sad", "mse", "grad", "conn", "mad", "iou"}
    both = MattingMetrics(regions=("unknown", "image"), prefix="test/")
    assert set(both.keys(keep_base=False)) == {"test/iou"} | {
        f"test/{m}_{r}" for m in ("sad", "mse", "grad", "conn", "mad") for r in ("unknown", "image")
    }
    mmagic = MattingMetrics(convention="mmagic", iou=False)
    assert set(mmagic.keys()) == {"sad", "mse", "grad", "conn"}


def test_iou_is_the_foreground_iou_of_the_masks_summed_over_images():
    target = torch.zeros(2, 1, 4, 4)
    target[0, :, :2] = 1.0  # 8 foreground pixels
    pred = torch.zeros(2, 1, 4, 4)
    pred[0, :, 1:3] = 0.9  # 4 of them found, 4 false positives
    pred[1, :, 0, 0] = 0.5  # not above the threshold: background
    metrics = MattingMetrics(regions=("unknown", "image"), metrics=("sad",))
    metrics.update(pred, target, trimap=torch.full_like(target, 0.5))
    assert metrics.compute()["iou"].item() == pytest.approx(4 / 12)
    metrics.update((pred * 255).to(torch.uint8), (target * 255).to(torch.uint8),
                   trimap=torch.full_like(target, 0.5))  # fmt: skip
    assert metrics.compute()["iou"].item() == pytest.approx(8 / 24)


def test_iou_of_empty_masks_is_one_and_bad_inputs_are_clear_errors():
    metrics = MattingMetrics(regions="image", metrics=("mse",))
    metrics.update(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4))
    assert metrics.compute()["iou"].item() == 1.0
    with pytest.raises(ValueError, match="must lie in"):
        metrics.update(torch.full((1, 1, 4, 4), 2.0), torch.zeros(1, 1, 4, 4))


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


@pytest.mark.slow  # multi-process
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
