"""Helpers for the dataset tests: generated tones, noise and espeak-ng speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import espeak_wav, festival_wav

PHRASES = [
    "Please call Stella and ask her to bring these things",
    "The quick brown fox jumps over the lazy dog",
    "Six spoons of fresh snow peas and five thick slabs",
    "We also need a small plastic snake and a big toy frog",
]
# festival phrases without inner pauses (the diphone voice pauses inside longer ones)
FESTIVAL_PHRASES = [
    "A voice model learns from clean speech",
    "Seven silver swans swam seaward",
    "Bring me the green cup",
]
THRESHOLD_DB = -42.0


def tone(freq: float, seconds: float, sr: int, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def noise(seconds: float, sr: int, amp: float = 0.1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (amp * rng.standard_normal(int(round(seconds * sr)))).astype(np.float32)


def write(path: Path, audio: np.ndarray, sr: int, subtype: str = "FLOAT") -> Path:
    sf.write(str(path), audio, sr, subtype=subtype)
    return path


def trim_loud(x: np.ndarray, sr: int, level_db: float = THRESHOLD_DB + 12) -> np.ndarray:
    """Cut a phrase to the span whose 10 ms RMS exceeds ``level_db``, so that
    inserted silence has sharp, known edges."""
    hop = int(0.01 * sr)
    n = len(x) // hop
    rms = np.sqrt(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1))
    loud = np.flatnonzero(rms > 10 ** (level_db / 20))
    return x[loud[0] * hop:(loud[-1] + 1) * hop].copy()


@pytest.fixture(scope="session")
def phrases(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[np.ndarray], int]:
    """Four espeak-ng phrases (22.05 kHz), trimmed to their loud part."""
    d = tmp_path_factory.mktemp("speech")
    out, sr = [], 0
    for i, text in enumerate(PHRASES):
        x, sr = sf.read(str(espeak_wav(d / f"p{i}.wav", text)), dtype="float32")
        out.append(trim_loud(x, sr))
    return out, sr


@pytest.fixture(scope="session", params=["voice_cmu_us_slt_arctic_hts", "voice_kal_diphone"])
def festival_phrases(request: pytest.FixtureRequest,
                     tmp_path_factory: pytest.TempPathFactory) -> tuple[list[np.ndarray], int]:
    """Three festival phrases (a female HTS voice and a male diphone voice), trimmed."""
    d = tmp_path_factory.mktemp("festival")
    out, sr = [], 0
    for i, text in enumerate(FESTIVAL_PHRASES):
        path = festival_wav(d / f"{request.param}_{i}.wav", text, voice=request.param)
        x, sr = sf.read(str(path), dtype="float32")
        out.append(trim_loud(x, sr))
    return out, sr
