"""The training order and every training draw as functions of `(seed, epoch, index)` alone.

A shuffle generator that lives in the loader, or per-worker streams seeded from it, make the
data depend on how many workers there are and on when the run started: resuming from a
checkpoint re-seeds them, so a killed-and-resumed run trains on other samples than an
uninterrupted one (issue 15). `EpochSampler` instead draws the order of epoch `e` from
`(seed, e)` and hands each item its epoch, so the dataset seeds the item's draws from
`(seed, epoch, index)`: nothing to save, the same stream with 0 or 8 workers, and a resumed run
(Lightning calls `set_epoch` with the restored epoch) continues exactly.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from torch.utils.data import DistributedSampler


class EpochSampler(DistributedSampler):
    """Yields `(epoch, k)` pairs: a permutation of `range(length)` drawn from `(seed, epoch)`
    (several concatenated when `num_samples` exceeds `length`), this rank's share of it.

    A `DistributedSampler` so that Lightning keeps it under DDP (it shards itself by `rank`)
    and calls `set_epoch` on it every epoch, also after a resume.
    """

    def __init__(
        self,
        length: int,
        seed: int,
        num_samples: int | None = None,
        num_replicas: int = 1,
        rank: int = 0,
    ) -> None:
        if length < 1:
            raise ValueError("EpochSampler needs at least one training item")
        self.length, self.seed = length, seed
        self.total = length if num_samples is None else num_samples
        self.num_replicas, self.rank = num_replicas, rank
        self.num_samples = -(-self.total // num_replicas)  # per rank, padded like PyTorch's
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[tuple[int, int]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        passes = -(-self.num_samples * self.num_replicas // self.length)
        order = np.concatenate([rng.permutation(self.length) for _ in range(passes)])
        share = order[: self.num_samples * self.num_replicas][self.rank :: self.num_replicas]
        return ((self.epoch, int(k)) for k in share)
