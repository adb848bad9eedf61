"""The pitch (f0) curve drawn over the editor's spectrogram, without Qt.

Input: an f0 track as extracted (``features/f0/<clip>.npy``: float Hz per 10 ms
frame, 0 = unvoiced) and the time in the displayed file where frame 0 lies
(0 when the clip itself is shown). Output: x (seconds) and y (Hz) arrays with
NaN at unvoiced frames, so a curve drawn with ``connect="finite"`` has gaps
there, and the frames that start an octave jump: a step of 1000 to 1400 cents
between voiced neighbours, the same rule as ``features.f0`` counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

HOP_SECONDS = 0.01
JUMP_MIN_CENTS = 1000.0
JUMP_MAX_CENTS = 1400.0
MIN_VIEW_HZ = 1000.0  # the spectrogram shows at least 0..1 kHz with the pitch


class F0FileError(ValueError):
    """The f0 file cannot be read or is not a pitch track."""


@dataclass
class F0Curve:
    x: np.ndarray  # seconds in the displayed file, one per frame
    y: np.ndarray  # Hz; NaN at unvoiced frames
    jump_frames: np.ndarray  # frame indices that start an octave jump
    median_hz: float | None

    @property
    def jump_x(self) -> np.ndarray:
        return np.asarray(self.x[self.jump_frames])

    @property
    def jump_y(self) -> np.ndarray:
        return np.asarray(self.y[self.jump_frames])

    @property
    def voiced(self) -> int:
        return int(np.count_nonzero(np.isfinite(self.y)))

    def view_top_hz(self, fmax: float) -> float:
        """Top of a frequency range that shows the curve with room for the octave above."""
        if self.voiced == 0:
            return min(MIN_VIEW_HZ, fmax)
        high = float(np.nanmax(self.y))
        return float(min(fmax, max(MIN_VIEW_HZ, 2.2 * high)))


def load_f0(path: str | Path) -> np.ndarray:
    """The f0 track in a .npy file as float64; F0FileError names the file."""
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise F0FileError(f"cannot read the pitch file {path}: {exc}") from exc
    if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.number):
        raise F0FileError(f"{path} is not a pitch track (shape {arr.shape}, {arr.dtype})")
    return np.asarray(arr, dtype=np.float64)


def octave_jump_frames(f0: np.ndarray) -> np.ndarray:
    f = np.asarray(f0, dtype=np.float64)
    if len(f) < 2:
        return np.zeros(0, dtype=np.int64)
    a, b = f[:-1], f[1:]
    both = (a > 0) & (b > 0) & np.isfinite(a) & np.isfinite(b)
    cents = np.zeros(len(a))
    cents[both] = np.abs(1200.0 * np.log2(b[both] / a[both]))
    hit = both & (cents >= JUMP_MIN_CENTS) & (cents <= JUMP_MAX_CENTS)
    return np.flatnonzero(hit) + 1


def f0_curve(f0: np.ndarray, offset: float = 0.0, hop: float = HOP_SECONDS) -> F0Curve:
    f = np.asarray(f0, dtype=np.float64)
    x = offset + np.arange(len(f)) * hop
    voiced = np.isfinite(f) & (f > 0)
    y = np.where(voiced, f, np.nan)
    median = float(np.median(f[voiced])) if voiced.any() else None
    return F0Curve(x=x, y=y, jump_frames=octave_jump_frames(f), median_hz=median)


def summary(info: dict[str, Any], curve: F0Curve) -> str:
    """One line for the legend: method, median and octave jumps."""
    method = info.get("method") or "unknown method"
    median = f"median {curve.median_hz:.0f} Hz" if curve.median_hz is not None else "unvoiced"
    n = len(curve.jump_frames)
    return f"pitch ({method}), {median}, {n} octave jump{'' if n == 1 else 's'}"
