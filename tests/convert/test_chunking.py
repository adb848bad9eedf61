"""Long inputs are cut at their quietest points near every 38 s and joined without a seam."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backend.convert import chunking, steps
from backend.convert.pipeline import Converter
from backend.convert.settings import ConvertSettings
from backend.features.f0 import F0Extractor
from tests.conftest import espeak_wav
from tests.convert.tiny_voice import LocalEncoder, tiny_voice

SR = 16000
SMALL = chunking.ChunkTimes(pad=0.5, query=0.5, center=2.0, max=2.5)  # fast test figures


def _noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (0.3 * np.random.default_rng(seed).standard_normal(int(seconds * SR))).astype(
        np.float32)


def test_cuts_land_in_the_silences_near_every_38_seconds() -> None:
    x = _noise(90.0)
    silences = [(35.5, 35.8), (79.1, 79.3)]  # within 6 s of 38 and 76
    for a, b in silences:
        x[int(a * SR):int(b * SR)] *= 0.001
    cuts = chunking.find_cuts(x, chunking.FP32)
    assert len(cuts) == 2
    for cut, (a, b) in zip(cuts, silences, strict=True):
        assert cut % 160 == 0 and a * SR <= cut <= b * SR


def test_the_search_stays_within_six_seconds_of_the_centre() -> None:
    x = _noise(60.0, seed=1)
    x[int(30 * SR):int(30.5 * SR)] = 0  # quieter, but 8 s before the centre
    x[int(42.5 * SR):int(42.6 * SR)] *= 0.1
    (cut,) = chunking.find_cuts(x, chunking.FP32)
    assert 42.5 * SR <= cut <= 42.6 * SR


def test_inputs_up_to_41_seconds_are_one_piece() -> None:
    assert chunking.find_cuts(_noise(40.9), chunking.FP32) == []
    assert len(chunking.find_cuts(_noise(41.1), chunking.FP32)) == 1
    assert chunking.find_cuts(_noise(200.0), chunking.FP16) != []
    assert chunking.FP16.samples("pad") == 3 * SR and chunking.FP32.samples("center") == 38 * SR


def test_pieces_cover_every_frame_once() -> None:
    assert chunking.pieces(100, [3200, 9600]) == [(0, 20), (20, 60), (60, 100)]
    assert chunking.pieces(10, []) == [(0, 10)]
    padded, frames = chunking.pad_for_pieces(np.arange(1000, dtype=np.float32), 320)
    assert frames == 7 and padded.shape[0] == 7 * 160 + 640
    np.testing.assert_array_equal(padded[320:1320], np.arange(1000))


def _speechlike(seconds: float) -> np.ndarray:
    """A continuous voiced sound (no quiet point): harmonics of a gliding 110-160 Hz pitch."""
    t = np.arange(int(seconds * SR)) / SR
    f0 = 135 + 25 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 12))
    return (0.2 * x * (1.0 + 0.3 * np.sin(2 * np.pi * 3.1 * t))).astype(np.float32)


def _jumps(audio: np.ndarray, cuts: list[int], rate: int) -> tuple[float, float]:
    """(largest sample-to-sample jump within 5 ms of a cut, largest elsewhere)."""
    jump = np.abs(np.diff(audio))
    near = np.zeros(jump.shape[0], bool)
    for c in cuts:
        at = int(c * rate / SR)
        near[max(0, at - rate // 200):at + rate // 200] = True
    return float(jump[near].max()), float(jump[~near].max())


def test_chunked_conversion_equals_unchunked_and_has_no_click() -> None:
    """A model without pitch and no noise (deterministic): the joined pieces are the one-pass
    output, at the cuts too."""
    model = tiny_voice("v2", 32000, f0=False, seed=3)
    audio = _speechlike(5.0)
    cuts = chunking.find_cuts(steps.high_pass_16k(audio), SMALL)
    assert len(cuts) == 2  # cut in the middle of the sound: nowhere is quiet
    settings = ConvertSettings(rms_mix=1.0)
    kw = {"encoder": LocalEncoder(), "f0": None, "noise_scale": 0.0}
    chunked, rate = Converter(model, times=SMALL, **kw).convert(audio, SR, settings)
    whole, _ = Converter(model, times=chunking.WHOLE, **kw).convert(audio, SR, settings)
    assert rate == 32000 and chunked.shape == whole.shape == (160000,)
    peak = np.abs(whole).max()
    assert peak > 1e-3
    np.testing.assert_allclose(chunked, whole, atol=1e-3 * peak)
    at_cut, elsewhere = _jumps(chunked, cuts, rate)
    assert at_cut <= 1.1 * elsewhere


def test_chunked_speech_with_pitch_has_no_click_at_the_cuts(tmp_path: Path) -> None:
    path = espeak_wav(tmp_path / "speech.wav", "Seven silver swans swam silently seaward "
                      "while the morning sun rose over the quiet harbour.")
    from backend.dataset.audio_io import load

    audio, sr = load(path)
    model = tiny_voice("v2", 32000, f0=True, seed=4)
    times = chunking.ChunkTimes(pad=0.5, query=0.01, center=1.7, max=2.0)  # cut anywhere
    cuts = chunking.find_cuts(steps.high_pass_16k(steps.to_16k(audio, sr)), times)
    assert len(cuts) >= 2
    out, rate = Converter(model, encoder=LocalEncoder(), f0=F0Extractor(),
                          times=times).convert(audio, sr, ConvertSettings(f0_method="pm"))
    assert out.shape[0] == pytest.approx(audio.shape[0] * rate / sr, abs=1)
    at_cut, elsewhere = _jumps(out, cuts, rate)
    assert at_cut <= 1.1 * elsewhere
