"""RollingPitch: the real-time pitch cache agrees with one pass over the window, and runs
the pitch method only over the new samples plus a bounded context.

Speech is espeak-ng; rmvpe uses the random-weight full-size model of tiny_models (one per
module: it holds about 180 MB).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

from backend.features.f0 import F0Error, F0Extractor
from backend.live.pitch_cache import CONTEXT, RollingPitch
from tests.conftest import espeak_wav
from tests.features.tiny_models import save_tiny_rmvpe

SR = 16000
WINDOW = SR  # 1 s window (left context + block), as the engine hands it over
EDGE = 10  # frames at the window's left edge not compared: a pass over the window sees the
# edge there, while the cache computed them earlier with the audio before it


class CountingExtractor(F0Extractor):
    """Records how many frames each call asked the method for."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)
        self.frames: list[int] = []

    def extract(self, wav16k: np.ndarray, method: str, **kw: object) -> np.ndarray:
        self.frames.append(len(wav16k) // 160 + 1)
        return super().extract(wav16k, method, **kw)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    path = espeak_wav(tmp_path_factory.mktemp("speech") / "s.wav",
                      "The quick brown fox jumps over the lazy dog in the evening light.",
                      voice="en+f3")
    audio, rate = sf.read(path, dtype="float32")
    return soxr.resample(audio, rate, SR).astype(np.float32)[:2 * SR]


@pytest.fixture(scope="module")
def rmvpe_extractor(tmp_path_factory: pytest.TempPathFactory) -> CountingExtractor:
    return CountingExtractor(rmvpe_path=save_tiny_rmvpe(tmp_path_factory.mktemp("m") /
                                                        "rmvpe.pt"))


def glide(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    phase = 2 * np.pi * np.cumsum(140.0 + 60.0 * t) / SR
    return (0.3 * sum(np.sin(k * phase) / k for k in range(1, 5))).astype(np.float32)


def stream(audio: np.ndarray, n_new: int, size: int = WINDOW) -> Iterator[np.ndarray]:
    """The engine's windows: start silent, shift left by n_new, new samples at the end."""
    window = np.zeros(size, np.float32)
    for pos in range(0, audio.size - n_new + 1, n_new):
        window = np.concatenate([window[n_new:], audio[pos:pos + n_new]])
        yield window


def disagreement(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(voicing differs, share of both-voiced frames off by > 50 cents, mean |cents|)."""
    both = (a > 0) & (b > 0)
    cents = np.abs(1200 * np.log2(a[both] / b[both])) if both.any() else np.zeros(1)
    return float(np.mean((a > 0) != (b > 0))), float(np.mean(cents > 50)), float(cents.mean())


def compare_with_window(extractor: F0Extractor, method: str, audio: np.ndarray,
                        n_new: int) -> tuple[float, float, float]:
    rolling = RollingPitch(extractor, method, context_s=0.0)
    scores = []
    for window in stream(audio, n_new):
        got = rolling.update(window, n_new)
        want = extractor.extract(window, method)
        assert got.shape == want.shape == (WINDOW // 160 + 1,) and got.dtype == np.float32
        scores.append(disagreement(got[EDGE:], want[EDGE:]))
    return tuple(float(x) for x in np.mean(scores, axis=0))  # type: ignore[return-value]


@pytest.mark.parametrize(("method", "voicing", "off"), [
    ("crepe-tiny", 0.002, 0.002), ("pm", 0.005, 0.005), ("dio", 0.02, 0.002),
    ("harvest", 0.01, 0.01)])
def test_rolling_agrees_with_one_pass_over_the_window(speech: np.ndarray, method: str,
                                                      voicing: float, off: float) -> None:
    v, o, c = compare_with_window(F0Extractor(), method, speech, 4000)
    print(f"\n{method} on speech, 0.25 s steps: voicing differs on {v:.2%} of frames, "
          f"{o:.2%} off by > 50 cents, mean {c:.2f} cents")
    assert v <= voicing and o <= off and c < 5.0


@pytest.mark.parametrize("n_new", [4003, 1234])
def test_steps_off_the_frame_grid(n_new: int) -> None:
    # the window's frames fall between the cached ones: read off by interpolation; a
    # smooth glide stays within a few cents of a pass over the window
    v, o, c = compare_with_window(F0Extractor(), "dio", glide(3.0), n_new)
    print(f"\ndio on a glide, steps of {n_new} samples: voicing {v:.2%}, > 50 cents {o:.2%}, "
          f"mean {c:.2f} cents")
    assert v <= 0.01 and o <= 0.02 and c < 5.0


def test_rmvpe_rolling_equals_one_pass_over_the_stream(speech: np.ndarray,
                                                       rmvpe_extractor: CountingExtractor
                                                       ) -> None:
    # random weights are not shift-invariant (a pass over each window differs from the
    # last by semitones), so the cache is held to the offline pass over the whole stream
    # on the frames it has finished (all but the last `revise` ones)
    audio = speech
    full = rmvpe_extractor.extract(np.concatenate([np.zeros(WINDOW, np.float32), audio]),
                                   "rmvpe")
    rolling = RollingPitch(rmvpe_extractor, "rmvpe", context_s=0.0)
    done = CONTEXT["rmvpe"].revise
    shares = []
    for step, window in enumerate(stream(audio, 4000), start=1):
        got = rolling.update(window, 4000)
        first = step * 4000 // 160
        want = full[first:first + got.size]
        shares.append(np.mean(np.isclose(got[:-done], want[:-done], rtol=1e-3)))
    print(f"\nrmvpe (random weights): finished frames equal to the offline pass: "
          f"{min(shares):.1%} (worst window) to {max(shares):.1%}")
    assert min(shares) > 0.9


def test_frames_computed_are_bounded_by_new_plus_context(speech: np.ndarray) -> None:
    extractor = CountingExtractor()
    rolling = RollingPitch(extractor, "pm", context_s=0.1)
    need = CONTEXT["pm"]
    for n_new in (4000, 4003, 160, 1):
        extractor.frames.clear()
        rolling.reset()
        audio = np.resize(speech, 30 * n_new)  # 30 updates (speech repeated if short)
        for window in stream(audio, n_new):
            rolling.update(window, n_new)
        assert extractor.frames[0] == WINDOW // 160 + 1  # the first window is analysed whole
        bound = math.ceil(n_new / 160) + need.revise + max(need.left, 10) + 2
        assert max(extractor.frames[1:]) <= bound, (n_new, max(extractor.frames[1:]), bound)
        assert len(extractor.frames) == 30


def test_rmvpe_cost_is_bounded_too(rmvpe_extractor: CountingExtractor) -> None:
    rolling = RollingPitch(rmvpe_extractor, "rmvpe", context_s=0.0)
    need = CONTEXT["rmvpe"]
    rmvpe_extractor.frames.clear()
    for window in stream(glide(1.0), 4000, size=2 * WINDOW):
        rolling.update(window, 4000)
    bound = 25 + need.revise + need.left + need.align + 1
    assert max(rmvpe_extractor.frames[1:]) <= bound < 2 * WINDOW // 160


def test_new_window_size_or_reset_starts_over() -> None:
    extractor = CountingExtractor()
    rolling = RollingPitch(extractor, "dio", context_s=0.0)
    audio = glide(2.0)
    windows = list(stream(audio, 4000))
    rolling.update(windows[0], 4000)
    rolling.update(windows[1], 4000)
    bigger = np.concatenate([np.zeros(800, np.float32), windows[2]])  # the block grew
    got = rolling.update(bigger, 4000)
    assert extractor.frames[-1] == bigger.size // 160 + 1
    np.testing.assert_array_equal(got, extractor.extract(bigger, "dio"))
    rolling.reset()
    got = rolling.update(windows[3], 4000)
    np.testing.assert_array_equal(got, extractor.extract(windows[3], "dio"))
    again = rolling.update(windows[3], 0)  # nothing new: nothing computed
    np.testing.assert_array_equal(again, got)
    assert rolling.frames_computed == 0
    whole = rolling.update(windows[4], WINDOW + 1)  # more new samples than the window
    np.testing.assert_array_equal(whole, extractor.extract(windows[4], "dio"))


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    rolling = RollingPitch(F0Extractor(), "crepe-full", context_s=0.0)
    assert rolling.method == "crepe"
    with pytest.raises(F0Error, match="whole number"):
        rolling.update(np.zeros(1600, np.float32), -1)
    with pytest.raises(F0Error, match="mono"):
        rolling.update(np.zeros((1600, 2), np.float32), 160)
    with pytest.raises(F0Error, match="Unknown pitch method"):
        RollingPitch(F0Extractor(), "yin", context_s=0.0)
    with pytest.raises(F0Error, match="context_s"):
        RollingPitch(F0Extractor(), "pm", context_s=-1.0)
