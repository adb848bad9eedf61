"""Waveform envelope and spectrogram of an audio file for the editor.

The file is decoded block by block by ``backend.dataset.audio_io`` (mixed to
mono, as the prepare pipeline sees it), so memory stays bounded for hour-long recordings:
the finest envelope level has at most ``MAX_ENV_BINS`` bins and the
spectrogram at most ``MAX_SPEC_FRAMES`` frames. The result is one ``.npz``:

- ``sample_rate``, ``channels``, ``frames``, ``duration``
- ``env_hops``: samples per bin of each level (finest first, 4x coarser each)
- ``env_min_<i>``, ``env_max_<i>``: float32 min/max of the mono mix per bin
- ``spec``: uint8 (frames, N_FFT // 2 + 1) log power, 0 -> ``spec_db[0]`` dB,
  255 -> ``spec_db[1]`` dB; ``spec_hop`` seconds per frame; ``spec_fmax`` Hz
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from backend.dataset.audio_io import AudioInfo, AudioLoadError, iter_blocks, probe
from backend.fsutil import create_temp_file

ANALYSIS_VERSION = 1
MAX_ENV_BINS = 1 << 20
MIN_ENV_HOP = 64
COARSEST_BINS = 2048
MAX_SPEC_FRAMES = 4000
N_FFT = 512
MAX_SUBFRAMES = 8
DB_RANGE = 80.0
READ_BLOCK = 1 << 17


def cache_file(path: str | Path, cache_dir: str | Path) -> Path:
    """The cache entry for ``path``: keyed by absolute path, mtime and size."""
    p = Path(path).resolve()
    st = p.stat()
    key = f"{ANALYSIS_VERSION}|{p}|{st.st_mtime_ns}|{st.st_size}"
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]
    return Path(cache_dir) / f"wave-{digest}.npz"


class _Envelope:
    """Min/max per ``hop`` samples, fed block by block."""

    def __init__(self, hop: int):
        self.hop = hop
        self._mins: list[np.ndarray] = []
        self._maxs: list[np.ndarray] = []
        self._rest = np.zeros(0, dtype=np.float32)

    def feed(self, mono: np.ndarray) -> None:
        data = np.concatenate([self._rest, mono]) if len(self._rest) else mono
        whole = len(data) // self.hop * self.hop
        if whole:
            bins = data[:whole].reshape(-1, self.hop)
            self._mins.append(bins.min(axis=1))
            self._maxs.append(bins.max(axis=1))
        self._rest = data[whole:].copy()

    def levels(self) -> list[tuple[int, np.ndarray, np.ndarray]]:
        mins, maxs = list(self._mins), list(self._maxs)
        if len(self._rest):
            mins.append(self._rest.min(keepdims=True))
            maxs.append(self._rest.max(keepdims=True))
        lo = np.concatenate(mins) if mins else np.zeros(1, np.float32)
        hi = np.concatenate(maxs) if maxs else np.zeros(1, np.float32)
        out = [(self.hop, lo.astype(np.float32), hi.astype(np.float32))]
        hop = self.hop
        while len(lo) > COARSEST_BINS:
            pad = (-len(lo)) % 4
            lo = np.concatenate([lo, np.repeat(lo[-1:], pad)]).reshape(-1, 4).min(axis=1)
            hi = np.concatenate([hi, np.repeat(hi[-1:], pad)]).reshape(-1, 4).max(axis=1)
            hop *= 4
            out.append((hop, lo, hi))
        return out


class _Spectrogram:
    """Power spectrogram with at most MAX_SPEC_FRAMES frames.

    Each output frame averages ``sub`` windows spaced ``step`` samples apart,
    so long files are summarised rather than sampled at a single point.
    """

    def __init__(self, total_frames: int):
        hop = max(N_FFT // 4, math.ceil(max(total_frames, 1) / MAX_SPEC_FRAMES))
        self.sub = max(1, min(MAX_SUBFRAMES, hop // (N_FFT // 4)))
        self.step = hop // self.sub
        self.hop = self.step * self.sub
        self._window = np.hanning(N_FFT).astype(np.float32)
        self._buf = np.zeros(0, dtype=np.float32)
        self._powers: list[np.ndarray] = []
        self._pending = np.zeros((0, N_FFT // 2 + 1), dtype=np.float32)

    def feed(self, mono: np.ndarray) -> None:
        data = np.concatenate([self._buf, mono]) if len(self._buf) else mono
        n_win = (len(data) - N_FFT) // self.step + 1 if len(data) >= N_FFT else 0
        if n_win > 0:
            frames = sliding_window_view(data, N_FFT)[: (n_win - 1) * self.step + 1: self.step]
            spec = np.fft.rfft(frames * self._window, axis=1)
            self._collect((spec.real ** 2 + spec.imag ** 2).astype(np.float32))
        self._buf = data[n_win * self.step:].copy()

    def _collect(self, power: np.ndarray) -> None:
        power = np.concatenate([self._pending, power]) if len(self._pending) else power
        whole = len(power) // self.sub * self.sub
        if whole:
            self._powers.append(power[:whole].reshape(-1, self.sub, power.shape[1]).mean(axis=1))
        self._pending = power[whole:]

    def finish(self) -> tuple[np.ndarray, tuple[float, float]]:
        if len(self._buf):  # the tail: zero-padded last window
            tail = np.zeros(N_FFT, dtype=np.float32)
            tail[: min(N_FFT, len(self._buf))] = self._buf[:N_FFT]
            spec = np.fft.rfft(tail * self._window)
            self._collect((np.abs(spec) ** 2).astype(np.float32)[None, :])
        if len(self._pending):
            self._powers.append(self._pending.mean(axis=0, keepdims=True))
        power = np.concatenate(self._powers) if self._powers else np.zeros((1, N_FFT // 2 + 1))
        db = 10.0 * np.log10(power + 1e-12)
        hi = float(db.max())
        lo = hi - DB_RANGE
        scaled = np.clip((db - lo) / DB_RANGE * 255.0, 0, 255)
        return np.round(scaled).astype(np.uint8), (lo, hi)


def _env_hop(frames: int) -> int:
    hop = MIN_ENV_HOP
    while frames / hop > MAX_ENV_BINS:
        hop *= 4
    return hop


def compute(path: str | Path, info: AudioInfo | None = None) -> dict[str, np.ndarray]:
    """Envelope levels and spectrogram of a file, as arrays for ``np.savez``."""
    info = info or probe(path)
    env = _Envelope(_env_hop(info.frames))
    spec = _Spectrogram(info.frames)
    frames = 0
    for mono in iter_blocks(path, READ_BLOCK, info=info, nonfinite="zero"):
        env.feed(mono)
        spec.feed(mono)
        frames += len(mono)
    if frames == 0:
        raise AudioLoadError(path, f"'{Path(path).name}' contains no audio samples: "
                                   "remove it or re-export it")
    levels = env.levels()
    image, (lo, hi) = spec.finish()
    sr = info.sample_rate
    out: dict[str, np.ndarray] = {
        "version": np.array(ANALYSIS_VERSION),
        "sample_rate": np.array(sr),
        "channels": np.array(info.channels),
        "frames": np.array(frames),
        "duration": np.array(frames / sr),
        "env_hops": np.array([hop for hop, _, _ in levels], dtype=np.int64),
        "spec": image,
        "spec_hop": np.array(spec.hop / sr),
        "spec_fmax": np.array(sr / 2.0),
        "spec_db": np.array([lo, hi]),
    }
    for i, (_, lo_arr, hi_arr) in enumerate(levels):
        out[f"env_min_{i}"] = lo_arr
        out[f"env_max_{i}"] = hi_arr
    return out


def _summary(npz: Path, data) -> dict:
    return {"data": str(npz), "duration": float(data["duration"]),
            "sample_rate": int(data["sample_rate"]), "channels": int(data["channels"])}


def _load_cached(npz: Path) -> dict | None:
    try:
        with np.load(npz) as data:
            if int(data["version"]) != ANALYSIS_VERSION:
                return None
            return _summary(npz, data)
    except (OSError, ValueError, KeyError):
        return None


def analyze(path: str | Path, cache_dir: str | Path) -> dict:
    """Analyse ``path`` (or reuse the cache); return the editor's summary dict."""
    src = Path(path)
    cache = Path(cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    npz = cache_file(src, cache)
    cached = _load_cached(npz) if npz.exists() else None
    if cached is not None:
        return {**cached, "cached": True}
    arrays = compute(src)  # raises AudioLoadError naming the file
    fd, tmp = create_temp_file(cache, ".wave-", ".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, npz)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return {**_summary(npz, arrays), "cached": False}
