"""harvest and dio run long inputs in segments (flat memory): the result must match one pass.

Frames are compared in cents; a frame "differs" when the voicing decision differs or both are
voiced and they are more than 1 cent apart. The signal has tones, glides and vibrato, with
notes running across the segment borders.
"""

from __future__ import annotations

import numpy as np
import pytest

from backend.features.f0 import (
    WORLD_CHUNK_FRAMES,
    WORLD_CONTEXT_FRAMES,
    F0Extractor,
    frame_chunks,
    n_frames_for,
    postprocess,
    world_f0,
)

SR = 16000
ONE_PASS = 10**9  # chunk_frames larger than any input: a single segment


def tones_with_glides(seconds: float, seed: int = 0) -> np.ndarray:
    """Harmonic notes (steady, exponential glide or vibrato, 80-600 Hz) with short pauses."""
    rng = np.random.default_rng(seed)
    parts, n, total = [], 0, int(seconds * SR)
    while n < total:
        dur = rng.uniform(0.8, 3.5)
        t = np.arange(int(dur * SR)) / SR
        a, b = np.exp(rng.uniform(np.log(80), np.log(600), 2))
        shape = rng.integers(3)
        if shape == 0:
            freq = np.full(t.size, a)
        elif shape == 1:
            freq = a * (b / a) ** (t / dur)
        else:
            freq = a * 2 ** (0.5 / 12 * np.sin(2 * np.pi * 5.5 * t))
        phase = 2 * np.pi * np.cumsum(freq) / SR
        note = sum(0.25 / k * np.sin(k * phase) for k in range(1, 6) if k * freq.max() < SR / 2)
        parts.append(note * np.minimum(1, np.minimum(t, dur - t) / 0.03))
        gap = int(rng.uniform(0.05, 0.4) * SR)
        parts.append(0.003 * rng.standard_normal(gap))
        n += t.size + gap
    audio = np.concatenate(parts)[:total] + 0.002 * rng.standard_normal(total)
    return audio.astype(np.float32)


def differing(a: np.ndarray, b: np.ndarray, cents: float = 1.0) -> np.ndarray:
    va, vb = a > 0, b > 0
    both = va & vb
    off = np.zeros(a.shape[0])
    off[both] = np.abs(1200 * np.log2(a[both] / b[both]))
    return (va != vb) | (off > cents)


@pytest.fixture(scope="module")
def minute() -> np.ndarray:
    return tones_with_glides(60.0)


@pytest.mark.parametrize("n_frames", [1, 50, 2200, 2201, 6001, 12345])
def test_frame_chunks_cover_every_frame_once(n_frames: int) -> None:
    chunks = list(frame_chunks(n_frames, 2000, 100))
    kept = np.concatenate([np.arange(f + k0, f + k1) for f, _, k0, k1 in chunks])
    assert np.array_equal(kept, np.arange(n_frames))
    sizes = [k1 - k0 for _, _, k0, k1 in chunks]
    assert max(sizes) - min(sizes) <= 1  # no tiny last segment
    assert len(chunks) == 1 or max(sizes) <= 2000
    if len(chunks) > 1:  # full context on each side wherever the input has it
        for first, stop, k0, k1 in chunks:
            assert first == max(0, first + k0 - 100) and stop == min(n_frames, first + k1 + 100)
    assert len(chunks) == (1 if n_frames <= 2200 else -(-n_frames // 2000))


def test_dio_minute_in_segments_equals_one_pass(minute: np.ndarray) -> None:
    n = n_frames_for(minute.size)
    assert n > WORLD_CHUNK_FRAMES + 2 * WORLD_CONTEXT_FRAMES  # the default path chunks it
    one = postprocess(world_f0(minute, "dio", 50, 1100, chunk_frames=ONE_PASS), n, "dio")
    assert np.mean(one > 0) > 0.8
    chunked = F0Extractor().extract(minute, "dio")  # 20 s segments, 1 s of context
    assert chunked.shape == (n,)
    assert np.mean(differing(chunked, one)) < 0.005
    # many borders (3 s segments) still match; without context they do not, so the
    # comparison can fail
    raw = world_f0(minute, "dio", 50, 1100, chunk_frames=ONE_PASS)
    small = world_f0(minute, "dio", 50, 1100, chunk_frames=300)
    assert np.mean(differing(small, raw)) < 0.005
    bare = world_f0(minute, "dio", 50, 1100, chunk_frames=300, context_frames=0)
    assert differing(bare, raw).sum() > 0


def test_harvest_in_segments_equals_one_pass() -> None:
    # harvest runs at a few x real time: 15 s in 4 segments of about 3.75 s (more borders per
    # second than the default 20 s segments give), with the default 1 s of context
    audio = tones_with_glides(15.0, seed=3)
    raw = world_f0(audio, "harvest", 50, 1100, chunk_frames=ONE_PASS)
    chunked = world_f0(audio, "harvest", 50, 1100, chunk_frames=400)
    assert chunked.shape == raw.shape == (n_frames_for(audio.size),)
    assert np.mean(raw > 0) > 0.8
    assert np.mean(differing(chunked, raw)) < 0.005


def test_segments_need_a_sensible_size() -> None:
    with pytest.raises(ValueError, match="chunk_frames"):
        world_f0(np.zeros(SR, np.float32), "dio", 50, 1100, chunk_frames=10)
    with pytest.raises(ValueError):
        list(frame_chunks(100, 0, 10))
