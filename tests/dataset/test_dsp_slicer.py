"""Silence slicing: cut points on real speech within 20 ms, and the slicer's rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from backend.dataset.pipeline import PrepareSettings, process_source
from backend.dataset.slicer import SilenceSlicer

TOL = 0.020
KEPT = 0.5  # max_silence_kept_ms default, seconds


def _layout(phrases: list[np.ndarray], sr: int, lead: float, gaps: list[float],
            trail: float) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Concatenate phrases with silences; return audio and each phrase's (start, end)."""
    parts = [np.zeros(int(round(lead * sr)), np.float32)]
    spans, pos = [], len(parts[0])
    for i, ph in enumerate(phrases):
        parts.append(ph)
        spans.append((pos / sr, (pos + len(ph)) / sr))
        pos += len(ph)
        gap = gaps[i] if i < len(gaps) else trail
        parts.append(np.zeros(int(round(gap * sr)), np.float32))
        pos += len(parts[-1])
    return np.concatenate(parts), spans


def _expected(spans: list[tuple[float, float]], total: float) -> list[tuple[float, float]]:
    """Cut points per the documented semantics (see backend/dataset/slicer.py)."""
    starts = [max(0.0, spans[0][0] - KEPT)]
    ends = []
    for (_, a), (b, _) in zip(spans, spans[1:], strict=False):
        if b - a <= 2 * KEPT:
            ends.append((a + b) / 2)
            starts.append((a + b) / 2)
        else:
            ends.append(a + KEPT)
            starts.append(b - KEPT)
    ends.append(min(total, spans[-1][1] + KEPT))
    return list(zip(starts, ends, strict=True))


def _slices(path: Path, tmp: Path, sr: int = 40000, **kw) -> list[tuple[float, float]]:
    settings = PrepareSettings(chunk_seconds=0, overlap_seconds=0, min_chunk_seconds=0, **kw)
    res = process_source(path, settings, sr, tmp / "gt", tmp / "16k", "s")
    return [(s.start, s.end) for s in res.slices]


@pytest.mark.parametrize("target_sr", [40000, 48000])
def test_cut_points_within_20ms(phrases, tmp_path, target_sr):
    audio, sr = phrases
    # 0.4 s and 0.8 s gaps are cut in the middle; the 2.5 s gap keeps 0.5 s each side.
    x, spans = _layout(audio, sr, lead=1.2, gaps=[0.4, 0.8, 2.5], trail=1.5)
    sf.write(str(tmp_path / "speech.wav"), x, sr)
    got = _slices(tmp_path / "speech.wav", tmp_path, target_sr)
    want = _expected(spans, len(x) / sr)
    assert len(got) == len(want), (got, want)
    for (gs, ge), (ws, we) in zip(got, want, strict=True):
        assert abs(gs - ws) <= TOL, (gs, ws)
        assert abs(ge - we) <= TOL, (ge, we)


def test_cut_points_within_20ms_on_festival_voices(festival_phrases, tmp_path):
    audio, sr = festival_phrases
    x, spans = _layout(audio, sr, lead=0.9, gaps=[0.6, 1.8], trail=1.1)
    sf.write(str(tmp_path / "festival speech.wav"), x, sr)
    got = _slices(tmp_path / "festival speech.wav", tmp_path, 40000)
    want = _expected(spans, len(x) / sr)
    assert len(got) == len(want), (got, want)
    for (gs, ge), (ws, we) in zip(got, want, strict=True):
        assert abs(gs - ws) <= TOL and abs(ge - we) <= TOL, ((gs, ge), (ws, we))


def test_short_gap_below_min_interval_is_kept(phrases, tmp_path):
    audio, sr = phrases
    x, spans = _layout(audio[:2], sr, lead=0.0, gaps=[0.2], trail=0.0)
    sf.write(str(tmp_path / "speech.wav"), x, sr)
    got = _slices(tmp_path / "speech.wav", tmp_path)
    assert len(got) == 1
    assert got[0][0] == pytest.approx(0.0, abs=TOL)
    assert got[0][1] == pytest.approx(len(x) / sr, abs=TOL)


def test_all_silence_gives_no_clips_and_a_warning(tmp_path):
    sf.write(str(tmp_path / "quiet.wav"), np.full(48000, 1e-4, np.float32), 48000)
    res = process_source(tmp_path / "quiet.wav", PrepareSettings(), 40000, tmp_path / "g",
                         tmp_path / "k", "q")
    assert res.slices == []
    assert any("no clips" in w and "threshold_db" in w for w in res.warnings)


def _run(rms: list[float], total: int, **kw) -> list[tuple[int, int]]:
    params = {"threshold": 0.5, "hop": 10, "win": 40, "min_length": 300, "min_interval": 100,
              "max_kept": 100, "max_clip": 10_000}
    params.update(kw)
    sl = SilenceSlicer(**params)
    return sl.feed(np.array(rms, np.float32)) + sl.finish(total)


def test_slicer_min_length_absorbs_silence_after_a_short_clip():
    # 10 loud frames, 12 quiet (120 samples >= min_interval), 40 loud: the clip before
    # the silence would be 100 + 120 < min_length 300, so there is no cut.
    rms = [1.0] * 10 + [0.0] * 12 + [1.0] * 40
    assert _run(rms, 620) == [(0, 620)]
    # with a lower min_length the same silence cuts in its middle
    (a, b), (c, d) = _run(rms, 620, min_length=100)
    assert a == 0 and b == c and d == 620
    assert 100 < b < 220


def test_slicer_long_silence_keeps_max_kept_each_side():
    rms = [1.0] * 40 + [0.0] * 100 + [1.0] * 40
    first, second = _run(rms, 1800)
    # silence edges: A = 40*10 - 20 - 5 = 375, B = 139*10 + 20 + 5 = 1415
    assert first == (0, 375 + 100)
    assert second == (1415 - 100, 1800)


def test_slicer_force_cuts_long_clips_at_quietest_frame():
    rms = [1.0] * 300
    rms[250] = 0.6  # the quietest frame in the last third, still above threshold
    clips = _run(rms, 3000, max_clip=2900)
    assert clips[0] == (0, 2500)
    assert clips[-1][1] == 3000
    assert all(b - a <= 2900 for a, b in clips)


def test_slicer_keep_from_bounds_the_buffer():
    sl = SilenceSlicer(threshold=0.5, hop=10, win=40, min_length=300, min_interval=100,
                       max_kept=100, max_clip=10_000)
    sl.feed(np.array([1.0] * 40 + [0.0] * 1000, np.float32))
    # in a long silence after the clip closed, only ~max_kept + win is retained
    assert 1040 * 10 - sl.keep_from <= 100 + 40 + 10
