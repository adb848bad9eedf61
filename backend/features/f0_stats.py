"""Statistics of a pitch track for the feature viewer (pure numpy).

A pitch track is float Hz per 10 ms frame, 0 = unvoiced (see docs/pitch.md).
An *octave jump* is a step between two neighbouring voiced frames of about
±1200 cents (1000 to 1400 cents): the typical error of a pitch tracker that
locks onto a harmonic or a subharmonic for a while.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

HOP_SECONDS = 0.01
JUMP_MIN_CENTS = 1000.0
JUMP_MAX_CENTS = 1400.0


@dataclass(frozen=True)
class F0Stats:
    frames: int
    voiced_ratio: float  # voiced frames / frames (0 for an empty track)
    median_hz: float | None  # of the voiced frames; None when none is voiced
    octave_jumps: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_track(f0: Any) -> np.ndarray:
    """``f0`` as a 1-D float64 array; ValueError when it is not a pitch track."""
    arr = np.asarray(f0)
    if arr.ndim != 1:
        raise ValueError(f"a pitch track is one value per frame, not an array of shape "
                         f"{arr.shape}")
    if not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"a pitch track holds numbers, not {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("the pitch track has NaN or infinite values")
    if np.any(arr < 0):
        raise ValueError("the pitch track has negative values")
    return arr


def step_cents(f0: Any) -> np.ndarray:
    """Cents from frame i to frame i+1 (len - 1 values); NaN unless both are voiced."""
    arr = check_track(f0)
    steps = np.full(max(len(arr) - 1, 0), np.nan)
    both = (arr[:-1] > 0) & (arr[1:] > 0)
    steps[both] = 1200.0 * np.log2(arr[1:][both] / arr[:-1][both])
    return steps


def octave_jump_frames(f0: Any) -> np.ndarray:
    """Indices of the frames that start a new octave (frame i+1 of each jump)."""
    size = np.abs(step_cents(f0))
    with np.errstate(invalid="ignore"):
        hit = (size >= JUMP_MIN_CENTS) & (size <= JUMP_MAX_CENTS)
    return np.flatnonzero(hit) + 1


def f0_stats(f0: Any) -> F0Stats:
    arr = check_track(f0)
    voiced = arr[arr > 0]
    ratio = float(len(voiced) / len(arr)) if len(arr) else 0.0
    median = float(np.median(voiced)) if len(voiced) else None
    return F0Stats(frames=len(arr), voiced_ratio=round(ratio, 4),
                   median_hz=None if median is None else round(median, 2),
                   octave_jumps=len(octave_jump_frames(arr)))
