"""Lock-free single-producer single-consumer rings of float32 samples.

One thread writes, one thread reads; each side only ever assigns its own integer counter
(``w`` for the producer, ``r`` for the consumer), and publishes it after the samples are in
place, so neither side needs a lock. Counters grow without bound (Python ints); the slot of
sample ``n`` is ``n % capacity``.

The audio callbacks use :meth:`Ring.push_from` (input) and :meth:`Ring.pop_into` (output):
both copy between preallocated arrays and allocate no buffers.

On the output ring the callback reads with ``timeline=True``: when it needs more than is
there it plays silence and still advances ``r``, so ``w - r`` goes negative and the
producer sees at once that its block came late (:meth:`Ring.pad_to` restarts the queue).
"""

from __future__ import annotations

import numpy as np


class Ring:
    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError("a ring needs a capacity of at least one sample")
        self.buf = np.zeros(capacity, dtype=np.float32)
        self.capacity = capacity
        self.w = 0  # written by the producer only
        self.r = 0  # written by the consumer only

    # both sides --------------------------------------------------------------
    def available(self) -> int:
        return self.w - self.r

    # producer ----------------------------------------------------------------
    def push_from(self, src: np.ndarray, n: int) -> int:
        """Append ``src[:n]``; returns how many fitted (the rest is dropped). Real-time safe."""
        free = self.capacity - (self.w - self.r)
        if n > free:
            n = free
        if n <= 0:
            return 0
        w = self.w
        i = w % self.capacity
        first = self.capacity - i
        if first >= n:
            self.buf[i:i + n] = src[:n]
        else:
            self.buf[i:] = src[:first]
            self.buf[:n - first] = src[first:n]
        self.w = w + n
        return n

    def pad_to(self, level: int) -> None:
        """Producer: append zeros until ``level`` samples are queued (after skipping what
        the consumer ran ahead)."""
        r = self.r
        if r > self.w:
            self.w = r
        missing = level - (self.w - r)
        if missing > 0:
            zeros = np.zeros(missing, np.float32)
            self.push_from(zeros, missing)

    # consumer ----------------------------------------------------------------
    def pop_into(self, dst: np.ndarray, n: int, *, timeline: bool = False) -> int:
        """Copy up to ``n`` samples into ``dst[:n]``; returns how many were there (the rest
        of ``dst[:n]`` is zeroed). With ``timeline`` the read counter advances by ``n``
        whatever was there. Real-time safe."""
        r = self.r
        got = self.w - r
        if got > n:
            got = n
        if got < 0:
            got = 0
        if got:
            i = r % self.capacity
            first = self.capacity - i
            if first >= got:
                dst[:got] = self.buf[i:i + got]
            else:
                dst[:first] = self.buf[i:]
                dst[first:got] = self.buf[:got - first]
        if got < n:
            dst[got:n] = 0.0
        self.r = r + (n if timeline else got)
        return got

    def discard(self, n: int) -> None:
        """Consumer: forget the ``n`` oldest samples (stale input)."""
        self.r += max(0, min(n, self.w - self.r))
