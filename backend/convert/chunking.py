"""Cutting long inputs into pieces at their quietest points, and joining without a seam.

RVC's figures (16 kHz input): files longer than ``max`` seconds are cut near every
``center`` seconds, at the quietest point within ``query`` seconds of it; every piece is
converted with ``pad`` seconds of the neighbouring audio on each side (reflected at the file's
ends) and that context is dropped from its output, so the pieces join sample for sample.
fp32 runs use 1 / 6 / 38 / 41 s, fp16 runs 3 / 10 / 60 / 65 s.

"Quietest" is the smallest moving sum of the absolute amplitude over a 10 ms window
(RVC sums the signed samples, which also finds loud points where a low tone crosses zero).
Every cut and every piece boundary lies on the 10 ms frame grid (160 samples at 16 kHz),
so frame ``j`` of a piece is frame ``a / 160 + j`` of the whole file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SR16K = 16000
FRAME = 160  # 16 kHz samples per 100 fps frame


@dataclass(frozen=True)
class ChunkTimes:
    pad: float  # context on each side of a piece, seconds
    query: float  # search half-width around each centre
    center: float  # distance between cuts
    max: float  # inputs up to this long are converted in one piece

    def samples(self, name: str) -> int:
        """A figure in 16 kHz samples, on the frame grid."""
        return int(round(getattr(self, name) * SR16K / FRAME)) * FRAME


FP32 = ChunkTimes(pad=1.0, query=6.0, center=38.0, max=41.0)
FP16 = ChunkTimes(pad=3.0, query=10.0, center=60.0, max=65.0)
WHOLE = ChunkTimes(pad=1.0, query=0.0, center=float("inf"), max=float("inf"))  # never cut


def times_for(half: bool) -> ChunkTimes:
    return FP16 if half else FP32


def loudness(wav16k: np.ndarray, window: int = FRAME) -> np.ndarray:
    """Moving sum of ``|x|`` over ``window`` samples centred on each sample."""
    x = np.abs(np.asarray(wav16k, dtype=np.float64))
    if x.size == 0:
        return x
    padded = np.pad(x, (window // 2, window - window // 2), mode="reflect" if x.size > window
                    else "edge")
    csum = np.concatenate([[0.0], np.cumsum(padded)])
    return csum[window:window + x.size] - csum[:x.size]


def find_cuts(wav16k: np.ndarray, times: ChunkTimes = FP32) -> list[int]:
    """Cut positions (16 kHz samples, multiples of 160, strictly increasing, inside the
    input): none for inputs up to ``times.max`` seconds."""
    n = int(np.asarray(wav16k).shape[0])
    if n + FRAME <= times.max * SR16K:
        return []
    level = loudness(wav16k)
    query, center = times.samples("query"), times.samples("center")
    cuts: list[int] = []
    for t in range(center, n, center):
        lo, hi = max(0, t - query), min(n, t + query + 1)
        cut = (lo + int(np.argmin(level[lo:hi]))) // FRAME * FRAME
        if FRAME <= cut < n - FRAME and (not cuts or cut > cuts[-1]):
            cuts.append(cut)
    return cuts


def pieces(n_frames: int, cuts: list[int]) -> list[tuple[int, int]]:
    """``[(first, end), ...]`` frame ranges covering ``0..n_frames`` split at ``cuts``."""
    edges = [0] + [c // FRAME for c in cuts if 0 < c // FRAME < n_frames] + [n_frames]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def pad_for_pieces(wav16k: np.ndarray, pad: int) -> tuple[np.ndarray, int]:
    """(``pad`` samples reflected on each side plus the end rounded up to the frame grid,
    number of frames of the input). Frame ``j`` of the input starts at sample
    ``pad + 160 * j`` of the result; a piece of frames ``a..b`` with its context is
    ``result[160 * a : 160 * b + 2 * pad]``."""
    x = np.asarray(wav16k, dtype=np.float32)
    n_frames = -(-x.shape[0] // FRAME)
    tail = n_frames * FRAME - x.shape[0]
    mode = "reflect" if x.shape[0] > 1 else "edge"
    return np.pad(x, (pad, pad + tail), mode=mode).astype(np.float32), n_frames
