"""A source that gives no clip is told why: too short, sound in short pieces, or too quiet."""

from __future__ import annotations

import numpy as np

from backend.dataset.pipeline import PrepareSettings, process_source
from tests.dataset.conftest import tone, write


def _warnings(src, tmp, **kw) -> list[str]:
    res = process_source(src, PrepareSettings(**kw), 40000, tmp / "gt", tmp / "16k", "s")
    assert res.slices == []
    return res.warnings


def test_a_short_loud_file_is_too_short_not_too_quiet(tmp_path) -> None:
    src = write(tmp_path / "blip é.wav", tone(300, 0.05, 44100, 0.8), 44100)
    (msg,) = _warnings(src, tmp_path)
    assert msg == ("'blip é.wav' produced no clips: it is only 0.05 s long, shorter than "
                   "min_chunk_seconds (1 s). Use a longer recording (clips of 1-4 s train "
                   "best) or lower min_chunk_seconds")
    assert "threshold" not in msg


def test_sound_only_in_short_pieces_names_min_chunk_seconds(tmp_path) -> None:
    sr = 44100
    burst, gap = tone(220, 0.6, sr, 0.5), np.zeros(2 * sr, np.float32)
    src = write(tmp_path / "bursts.wav", np.concatenate([burst, gap] * 3), sr)
    (msg,) = _warnings(src, tmp_path, min_chunk_seconds=3.0)
    assert msg.startswith("'bursts.wav' produced no clips: its sound (")
    assert "came in pieces shorter than min_chunk_seconds (3 s)" in msg


def test_a_quiet_file_still_points_at_the_threshold(tmp_path) -> None:
    src = write(tmp_path / "hiss.wav", tone(300, 3.0, 44100, 0.001), 44100)
    (msg,) = _warnings(src, tmp_path)
    assert "nothing was louder than threshold_db (-42 dB)" in msg
    assert "Lower the threshold" in msg
