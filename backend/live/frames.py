"""Per-frame caches of a stream (features, pitch, sine phase) indexed by absolute frame.

Frame ``k`` of a stream covers 16 kHz samples ``[160 k, 160 k + 160)`` counted from the
first sample the converter saw after its last reset. Values are written at the tail (the
newest frames, recomputed every block) and read back for the frames of the next blocks'
context; the oldest are dropped beyond ``capacity`` frames.
"""

from __future__ import annotations

import numpy as np


class FrameCache:
    def __init__(self, capacity: int) -> None:
        self.capacity = int(capacity)
        self.start = 0
        self.data: np.ndarray | None = None

    def clear(self) -> None:
        self.start, self.data = 0, None

    @property
    def stop(self) -> int:
        return self.start + (0 if self.data is None else len(self.data))

    def has(self, a: int, b: int) -> bool:
        """Whether every frame of ``[a, b)`` is held."""
        return self.data is not None and self.start <= a and b <= self.stop

    def put(self, a: int, values: np.ndarray) -> None:
        """Store ``values`` for frames ``[a, a + len(values))``; frames from ``a`` on that were
        held before are replaced, older ones kept when they join up with ``a``."""
        values = np.asarray(values)
        if self.data is None or a > self.stop or a < self.start:
            self.start, self.data = a, values.copy()
        else:
            self.data = np.concatenate([self.data[: a - self.start], values])
        extra = len(self.data) - self.capacity
        if extra > 0:
            self.data = self.data[extra:]
            self.start += extra

    def get(self, a: int, b: int) -> np.ndarray:
        if not self.has(a, b):
            raise KeyError(f"frames [{a}, {b}) are not all cached ([{self.start}, {self.stop}))")
        assert self.data is not None
        return self.data[a - self.start: b - self.start]
