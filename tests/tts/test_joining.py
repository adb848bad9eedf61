"""Sentences joined without clicks, and the speaking settings' ranges."""

from __future__ import annotations

import numpy as np
import pytest

from backend.kernel import BadArgs
from backend.tts.speak import FADE_S, SpeakSettings, fade_edges, join

RATE = 22050


def _tone(seconds: float, hz: float, phase: float, dc: float = 0.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.8 * np.cos(2 * np.pi * hz * t + phase) + dc).astype(np.float32)


def largest_step(audio: np.ndarray) -> float:
    return float(np.max(np.abs(np.diff(audio.astype(np.float64)))))


def test_joined_pieces_have_no_step_larger_than_inside_the_speech() -> None:
    # pieces that start and end at full amplitude, one with a DC offset: butted together
    # they would jump by more than 1.0 at each join
    parts = [(_tone(0.5, 220, 0.0), 0.3), (_tone(0.4, 330, np.pi, dc=0.15), 0.2),
             (_tone(0.3, 180, 0.0), 0.0)]
    naive = np.concatenate([p for p, _ in parts])
    inner = max(largest_step(p) for p, _ in parts)
    assert largest_step(naive) > 10 * inner  # the test would see a click
    audio, spans = join(parts, RATE)
    assert largest_step(audio) <= inner * 1.01
    assert audio[0] == pytest.approx(0, abs=1e-3) and audio[-1] == pytest.approx(0, abs=1e-3)
    # the pauses are silence of the asked length, and the spans say where the speech is
    assert spans[0] == (0.0, pytest.approx(0.5))
    assert spans[1][0] == pytest.approx(0.8, abs=1 / RATE)
    assert spans[2][0] - spans[1][1] == pytest.approx(0.2, abs=1 / RATE)
    gap = audio[int(spans[0][1] * RATE) + 1:int(spans[1][0] * RATE) - 1]
    assert gap.size > 0.29 * RATE and not np.any(gap)
    assert audio.shape[0] == int(1.2 * RATE) + int(0.5 * RATE)


def test_fades_keep_the_middle_and_remove_the_dc_offset() -> None:
    tone = _tone(0.2, 200, 0.0, dc=0.3)
    faded = fade_edges(tone, RATE)
    n = int(FADE_S * RATE)
    assert np.allclose(faded[n:-n], tone[n:-n] - tone.mean(), atol=1e-6)
    assert abs(faded[0]) < 0.01 and abs(faded[-1]) < 0.01
    assert fade_edges(np.zeros(0, np.float32), RATE).size == 0
    assert fade_edges(np.ones(3, np.float32), RATE).shape == (3,)  # shorter than a fade


def test_settings_take_the_defaults_and_name_a_value_out_of_range() -> None:
    assert SpeakSettings.from_args({}) == SpeakSettings(1.0, 0.667, 0.8)
    assert SpeakSettings.from_args({"length_scale": 2, "noise_scale": None}).length_scale == 2
    with pytest.raises(BadArgs, match=r"length_scale \(speed\) must be a number from 0.25 "
                                      r"to 4, not 5"):
        SpeakSettings.from_args({"length_scale": 5})
    with pytest.raises(BadArgs, match="noise_scale .* from 0 to 2, not 'loud'"):
        SpeakSettings.from_args({"noise_scale": "loud"})
    with pytest.raises(BadArgs, match="noise_scale_w"):
        SpeakSettings.from_args({"noise_scale_w": float("nan")})


def test_a_one_speaker_model_takes_no_speaker_id():
    """The generator has no speaker table for one speaker (as the original): no sid."""
    from backend.tts.speak import speaker_in

    assert speaker_in({"alice": 0}, 1, "m", None) == (None, "alice")
    assert speaker_in({"alice": 0}, 1, "m", "alice") == (None, "alice")
    assert speaker_in({"a": 0, "b": 1}, 2, "m", "b") == (1, "b")
