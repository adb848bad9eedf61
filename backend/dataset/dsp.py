"""Signal processing building blocks for dataset preparation (all streaming-safe)."""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

# BS.1770 K-weighting as analog prototypes (shelf + high-pass). These parameters
# reproduce the standard's 48 kHz coefficient table and extend it to any rate.
_SHELF_HZ, _SHELF_Q, _SHELF_DB = 1681.974450955533, 0.7071752369554196, 3.999843853973347
_HP_HZ, _HP_Q = 38.13547087602444, 0.5003270373238773


class Highpass:
    """Butterworth high-pass whose state carries across blocks (causal, streaming)."""

    def __init__(self, sample_rate: int, cutoff_hz: float, order: int = 5):
        self.enabled = cutoff_hz > 0
        if self.enabled:
            self._sos = signal.butter(order, cutoff_hz, btype="highpass", fs=sample_rate,
                                      output="sos")
            self._zi = np.zeros((self._sos.shape[0], 2))

    def process(self, block: np.ndarray) -> np.ndarray:
        if not self.enabled or len(block) == 0:
            return block
        out, self._zi = signal.sosfilt(self._sos, block, zi=self._zi)
        return out.astype(np.float32, copy=False)


class RmsFramer:
    """RMS of centred windows every ``hop`` samples, fed block by block.

    Frame ``i`` covers samples ``[i*hop - win/2, i*hop + win/2)`` with zeros
    outside the signal, so ``finish`` yields ``1 + n // hop`` frames in total.
    """

    def __init__(self, hop: int, win: int):
        self.hop, self.win = hop, win
        self._tail = np.zeros(win // 2, np.float64)
        self.samples = 0
        self.frames = 0

    def _frames(self, data: np.ndarray) -> np.ndarray:
        count = max(0, (len(data) - self.win) // self.hop + 1)
        if count == 0:
            return np.zeros(0, np.float32)
        csum = np.concatenate(([0.0], np.cumsum(data * data)))
        starts = np.arange(count) * self.hop
        energy = (csum[starts + self.win] - csum[starts]) / self.win
        self._tail = data[count * self.hop:]
        return np.sqrt(np.maximum(energy, 0.0)).astype(np.float32)

    def feed(self, block: np.ndarray) -> np.ndarray:
        self.samples += len(block)
        rms = self._frames(np.concatenate((self._tail, block.astype(np.float64))))
        self.frames += len(rms)
        return rms

    def finish(self) -> np.ndarray:
        total = 1 + self.samples // self.hop
        padded = np.concatenate((self._tail, np.zeros(self.win, np.float64)))
        rms = self._frames(padded)[: max(0, total - self.frames)]
        self.frames += len(rms)
        return rms


def _biquad_highshelf(fs: float) -> tuple[np.ndarray, np.ndarray]:
    k = math.tan(math.pi * _SHELF_HZ / fs)
    vh = 10 ** (_SHELF_DB / 20)
    vb = vh ** 0.4996667741545416
    a0 = 1 + k / _SHELF_Q + k * k
    b = np.array([vh + vb * k / _SHELF_Q + k * k, 2 * (k * k - vh),
                  vh - vb * k / _SHELF_Q + k * k]) / a0
    a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / _SHELF_Q + k * k) / a0])
    return b, a


def _biquad_highpass(fs: float) -> tuple[np.ndarray, np.ndarray]:
    k = math.tan(math.pi * _HP_HZ / fs)
    a0 = 1 + k / _HP_Q + k * k
    b = np.array([1.0, -2.0, 1.0])
    a = np.array([1.0, 2 * (k * k - 1) / a0, (1 - k / _HP_Q + k * k) / a0])
    return b, a


def k_weighting_sos(sample_rate: int) -> np.ndarray:
    """Second-order sections of the BS.1770 K-weighting filter at ``sample_rate``."""
    b1, a1 = _biquad_highshelf(sample_rate)
    b2, a2 = _biquad_highpass(sample_rate)
    return np.array([np.concatenate((b1, a1)), np.concatenate((b2, a2))])


def integrated_loudness(x: np.ndarray, sample_rate: int) -> float:
    """BS.1770-4 gated integrated loudness of a mono signal in LUFS (-inf if undefined)."""
    block, step = int(round(0.4 * sample_rate)), int(round(0.1 * sample_rate))
    if len(x) < block:
        return -math.inf
    y = signal.sosfilt(k_weighting_sos(sample_rate), x.astype(np.float64))
    csum = np.concatenate(([0.0], np.cumsum(y * y)))
    starts = np.arange(0, len(y) - block + 1, step)
    z = (csum[starts + block] - csum[starts]) / block
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10 * np.log10(z)
    z = z[levels > -70.0]
    if len(z) == 0:
        return -math.inf
    relative = -0.691 + 10 * math.log10(z.mean()) - 10.0
    with np.errstate(divide="ignore"):
        z = z[-0.691 + 10 * np.log10(z) > relative]
    return -0.691 + 10 * math.log10(z.mean()) if len(z) else -math.inf


def normalize_peak(x: np.ndarray, target: float, alpha: float) -> np.ndarray:
    """RVC-style mix: ``x / peak * target * alpha + (1 - alpha) * x``."""
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak <= 1e-9:
        return x
    return (x * np.float32(target * alpha / peak + (1.0 - alpha))).astype(np.float32)


def normalize_lufs(x: np.ndarray, sample_rate: int, target_lufs: float,
                   peak_limit: float) -> tuple[np.ndarray, float]:
    """Gain to ``target_lufs``, never pushing the peak above ``peak_limit``.

    Returns ``(audio, loudness_before)``. Clips too short for a gated
    measurement (< 0.4 s) or silent ones are peak-normalised to ``peak_limit``.
    """
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak <= 1e-9:
        return x, -math.inf
    loud = integrated_loudness(x, sample_rate)
    gain = peak_limit / peak if not math.isfinite(loud) else 10 ** ((target_lufs - loud) / 20)
    gain = min(gain, peak_limit / peak)
    return (x * np.float32(gain)).astype(np.float32), loud


def chunk_spans(n: int, sample_rate: int, chunk_s: float, overlap_s: float,
                min_s: float) -> list[tuple[int, int]]:
    """Split ``n`` samples into chunks of ``chunk_s`` overlapping by ``overlap_s``.

    Chunks start every ``chunk_s - overlap_s`` seconds and are exactly
    ``chunk_s`` long while more than ``chunk_s + overlap_s`` remains; the rest
    (at most ``chunk_s + overlap_s``) becomes the last chunk, as RVC does.
    Pieces shorter than ``min_s`` are dropped. ``chunk_s <= 0`` disables chunking.
    """
    min_n = int(round(min_s * sample_rate))
    if chunk_s <= 0:
        return [(0, n)] if n >= max(min_n, 1) else []
    size = int(round(chunk_s * sample_rate))
    step = size - int(round(overlap_s * sample_rate))
    spans = []
    start = 0
    while n - start > size + (size - step):
        spans.append((start, start + size))
        start += step
    spans.append((start, n))
    return [(a, b) for a, b in spans if b - a >= max(min_n, 1)]
