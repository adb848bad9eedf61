"""A length-bucketed, resumable batch order.

Each epoch has a fixed order of sample indices derived from (seed, epoch):
samples are shuffled, grouped into buckets of similar length, each bucket is cut
into blocks of ``block`` samples and the blocks are shuffled. Batches are
consecutive runs of that order, so the order never depends on the batch size. The position inside an
epoch is counted in *samples*, not batches, so a run resumed with another batch
size continues from the same sample and the sample count stays continuous.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np


class BucketSampler:
    def __init__(self, lengths: Sequence[int], batch_size: int, *, seed: int = 1234,
                 n_buckets: int = 8, block: int = 32):
        if len(lengths) == 0:
            raise ValueError("the dataset is empty")
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.seed = seed
        self.n_buckets = max(1, min(n_buckets, len(lengths)))
        self.block = block
        self.epoch = 0
        self.position = 0  # samples of this epoch already consumed

    def epoch_order(self, epoch: int) -> np.ndarray:
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self.lengths))
        order = order[np.argsort(self.lengths[order], kind="stable")]
        buckets = np.array_split(order, self.n_buckets)
        blocks = []
        for bucket in buckets:
            bucket = rng.permutation(bucket)
            blocks += [bucket[i:i + self.block] for i in range(0, len(bucket), self.block)]
        perm = rng.permutation(len(blocks))
        return np.concatenate([blocks[i] for i in perm])

    def batches(self) -> Iterator[list[int]]:
        """Batches from the current position to the end of the epoch."""
        order = self.epoch_order(self.epoch)
        while self.position < len(order):
            batch = order[self.position:self.position + self.batch_size]
            yield [int(i) for i in batch]

    def advance(self, n_samples: int) -> None:
        self.position += n_samples

    def next_epoch(self) -> None:
        self.epoch += 1
        self.position = 0

    def __len__(self) -> int:
        return int(np.ceil(len(self.lengths) / self.batch_size))

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "position": self.position, "seed": self.seed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch = int(state["epoch"])
        self.position = int(state["position"])
        self.seed = int(state.get("seed", self.seed))
