"""The editor's view of an ``audio.analyze`` result (.npz), without Qt.

Picks the envelope level for the visible time range and the plot's width in
pixels, so zooming costs only a slice of a precomputed array.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class WaveformData:
    sample_rate: int
    duration: float
    hops: list[int]
    mins: list[np.ndarray]
    maxs: list[np.ndarray]
    spec: np.ndarray  # uint8 (frames, bins)
    spec_hop: float  # seconds per spectrogram frame
    spec_fmax: float  # Hz of the last bin

    @classmethod
    def load(cls, path: str | Path) -> WaveformData:
        with np.load(path) as npz:
            hops = [int(h) for h in npz["env_hops"]]
            return cls(sample_rate=int(npz["sample_rate"]), duration=float(npz["duration"]),
                       hops=hops,
                       mins=[npz[f"env_min_{i}"] for i in range(len(hops))],
                       maxs=[npz[f"env_max_{i}"] for i in range(len(hops))],
                       spec=npz["spec"], spec_hop=float(npz["spec_hop"]),
                       spec_fmax=float(npz["spec_fmax"]))

    def level_for(self, t0: float, t1: float, width_px: int) -> int:
        """The coarsest level that still has at least one bin per pixel."""
        samples = max(t1 - t0, 0.0) * self.sample_rate
        width = max(int(width_px), 1)
        best = 0
        for i, hop in enumerate(self.hops):
            if samples / hop >= width:
                best = i
        return best

    def envelope(self, t0: float, t1: float, width_px: int) -> tuple[np.ndarray, ...]:
        """(times, mins, maxs) of the bins covering [t0, t1] at a fitting level."""
        level = self.level_for(t0, t1, width_px)
        hop = self.hops[level]
        lo, hi = self.mins[level], self.maxs[level]
        bin_s = hop / self.sample_rate
        first = max(int(np.floor(t0 / bin_s)) - 1, 0)
        last = min(int(np.ceil(t1 / bin_s)) + 1, len(lo))
        if last <= first:
            empty = np.zeros(0)
            return empty, empty, empty
        times = (np.arange(first, last) + 0.5) * bin_s
        return times, lo[first:last], hi[first:last]

    @staticmethod
    def pairs(times: np.ndarray, mins: np.ndarray, maxs: np.ndarray) -> tuple[np.ndarray, ...]:
        """x, y for a curve drawn with ``connect="pairs"``: one vertical line per bin."""
        x = np.repeat(times, 2)
        y = np.empty(2 * len(mins), dtype=np.float32)
        y[0::2] = mins
        y[1::2] = maxs
        return x, y
