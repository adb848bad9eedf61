"""SOLA: join consecutive converted blocks without a seam.

Each converted window is ``block + crossfade + search`` samples long. The previous block
left its ``crossfade`` samples of tail; the new window's head is searched over
``[0, search]`` for the offset where it matches that tail best (normalised
cross-correlation), the two are cross-faded with sin^2 / cos^2 ramps (their sum is 1, so a
steady signal passes unchanged), ``block`` samples go out and the next tail is kept.
"""

from __future__ import annotations

import numpy as np


def best_offset(head: np.ndarray, tail: np.ndarray, search: int) -> int:
    """The offset in ``[0, search]`` maximising the normalised correlation of
    ``head[o:o+len(tail)]`` with ``tail``. ``head`` holds ``len(tail) + search`` samples."""
    n = len(tail)
    if search <= 0 or n == 0:
        return 0
    seg = head[:n + search].astype(np.float64)
    num = np.correlate(seg, tail.astype(np.float64), mode="valid")  # search + 1 values
    sq = np.concatenate(([0.0], np.cumsum(seg * seg)))
    energy = sq[n:n + search + 1] - sq[:search + 1]
    score = num / np.sqrt(np.maximum(energy, 0.0) + 1e-8)
    return int(np.argmax(score))


class Sola:
    """Holds the crossfade tail between blocks; preallocated, sizes fixed at creation."""

    def __init__(self, block: int, crossfade: int, search: int):
        self.block, self.crossfade, self.search = block, crossfade, search
        t = (np.arange(crossfade, dtype=np.float64) + 0.5) / max(crossfade, 1)
        self.fade_in = (np.sin(0.5 * np.pi * t) ** 2).astype(np.float32)
        self.fade_out = (1.0 - self.fade_in).astype(np.float32)
        self.tail = np.zeros(crossfade, np.float32)
        self.out = np.zeros(block, np.float32)
        self.last_offset = 0

    @property
    def window(self) -> int:
        """Samples the converter must return per block."""
        return self.block + self.crossfade + self.search

    def reset(self) -> None:
        self.tail[:] = 0.0
        self.last_offset = 0

    def join(self, infer: np.ndarray, trim: int = 0) -> np.ndarray:
        """Cross-fade ``infer`` (``window`` samples) onto the previous tail; returns the
        ``block - trim`` samples to play (a view of a preallocated buffer, valid until the
        next call). ``trim`` (at most ``block - crossfade``) shortens this block to cut
        queued latency: the next tail is taken where the shortened block ends, so the cut
        is a crossfade too, never a jump."""
        b, c = self.block, self.crossfade
        trim = max(0, min(trim, b - c))
        off = best_offset(infer, self.tail, self.search) if np.any(self.tail) else 0
        self.last_offset = off
        self.out[:] = infer[off:off + b]
        if c:
            head = self.out[:c]
            head *= self.fade_in
            head += self.tail * self.fade_out
            self.tail[:] = infer[off + b - trim:off + b - trim + c]
        return self.out[:b - trim]
