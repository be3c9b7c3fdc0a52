"""The training stream is a function of (seed, epoch, index): the same with any number of
workers, and after a resume (issue 15, defects 4 and 5)."""

from __future__ import annotations

import pytest
import torch

from mattebench.data.datasets import collate
from mattebench.data.sampling import EpochSampler
from tests.data.test_datamodule import FakeTrainer, datamodule


def test_the_order_of_an_epoch_depends_only_on_seed_and_epoch():
    sampler = EpochSampler(10, seed=3)
    sampler.set_epoch(1)
    first = list(sampler)
    sampler.set_epoch(0)
    list(sampler)  # drawing another epoch in between changes nothing
    sampler.set_epoch(1)
    assert list(sampler) == first and {e for e, _ in first} == {1}
    assert sorted(k for _, k in first) == list(range(10))
    resumed = EpochSampler(10, seed=3)  # a new process after a resume
    resumed.set_epoch(1)
    assert list(resumed) == first


def test_ranks_share_an_epoch_without_overlap_and_epoch_images_repeats_passes():
    shares = [list(EpochSampler(10, seed=0, num_replicas=2, rank=r)) for r in (0, 1)]
    assert not {k for _, k in shares[0]} & {k for _, k in shares[1]}
    assert len(shares[0]) == len(shares[1]) == 5
    long = [k for _, k in EpochSampler(4, seed=0, num_samples=10)]
    assert len(long) == 10 and sorted(long[:4]) == [0, 1, 2, 3]


def _epoch_batches(dm, epochs: int) -> list[dict]:
    """The augmented training batches of `epochs` epochs, as the fit loop produces them."""
    loader, out = dm.train_dataloader(), []
    dm.trainer = FakeTrainer(training=True)
    for epoch in range(epochs):
        loader.sampler.set_epoch(epoch)  # what Lightning does at every epoch start
        dm.trainer.current_epoch = epoch
        out += [dm.on_after_batch_transfer(batch, 0) for batch in loader]
    dm.trainer = None
    return out


def _assert_same(a: list[dict], b: list[dict]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert [m["index"] for m in x["meta"]] == [m["index"] for m in y["meta"]]
        for key in ("image", "alpha", "bgr"):
            torch.testing.assert_close(x[key], y[key], rtol=0, atol=0)


def test_an_item_is_the_same_whenever_it_is_drawn(sources):
    dm = datamodule(sources, size=64)
    dm.setup("fit")
    train = dm.datasets["train"]
    later = collate([train[(1, 3)], train[(0, 3)]])
    first = collate([train[(0, 3)]])
    torch.testing.assert_close(later["fgr"][1], first["fgr"][0], rtol=0, atol=0)
    assert not torch.equal(later["fgr"][0], later["fgr"][1])  # another epoch, other draws


def test_a_resumed_stream_continues_the_uninterrupted_one(sources):
    """A new datamodule (a new process) at epoch 1 produces exactly epoch 1 of a run that never
    stopped: no generator state is lost with the process."""
    dm = datamodule(sources, size=64, batch_size=8)
    dm.setup("fit")
    uninterrupted = _epoch_batches(dm, 2)
    resumed = datamodule(sources, size=64, batch_size=8)
    resumed.setup("fit")
    resumed.load_state_dict(dm.state_dict())
    loader = resumed.train_dataloader()
    loader.sampler.set_epoch(1)
    resumed.trainer = FakeTrainer(training=True)
    resumed.trainer.current_epoch = 1
    second = [resumed.on_after_batch_transfer(batch, 0) for batch in loader]
    _assert_same(second, uninterrupted[len(second) :])


def test_a_resume_with_another_data_seed_is_flagged(sources):
    dm = datamodule(sources, seed=1)
    with pytest.warns(UserWarning, match="data.seed=1.*trained with 2"):
        dm.load_state_dict({"seed": 2, "epoch_images": None, "skipped": {"bad.jpg": 2}})
    assert dm.skipped == {"bad.jpg": 2}


@pytest.mark.slow
def test_the_stream_does_not_depend_on_the_number_of_workers(sources):
    def stream(workers: int) -> list[dict]:
        dm = datamodule(sources, size=64, batch_size=8, num_workers=workers)
        dm.setup("fit")
        return _epoch_batches(dm, 2)

    _assert_same(stream(0), stream(2))
