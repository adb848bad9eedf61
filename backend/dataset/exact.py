"""Exact-span mode of the preparation pipeline: the recordings the Labels table cuts.

Each span (``[start, end]`` in seconds of the recording, a row of the table) becomes one clip,
exactly there: no silence slicing and no chunking; high-pass and normalisation as the
project's settings say. The span is decoded with ``PREROLL_S`` before it so the high-pass
filter has settled when the clip starts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from backend.dataset import dsp
from backend.dataset.audio_io import AudioInfo, DecodeStats, iter_blocks


def exact_spans(clips: list[tuple[float, float]], duration: float,
                warnings: list[str]) -> list[tuple[float, float]]:
    """Check exact clip spans (sorted by start, inside the file; overlaps allowed)."""
    out = []
    for n, clip in enumerate(clips):
        a, b = (float(v) for v in clip)
        if not (math.isfinite(a) and math.isfinite(b)) or a < 0 or b <= a:
            raise ValueError(f"clip {n + 1} ({a:g}-{b:g} s) is invalid: it must start at "
                             "0 s or later and end after it starts")
        if a >= duration - 0.01:
            warnings.append(f"clip {n + 1} starts at {a:.2f} s, at or after the end of the "
                            f"recording ({duration:.2f} s); skipped")
            continue
        out.append((a, min(b, duration)))
    return sorted(out)


def clip_warnings(info: AudioInfo, nonfinite: int,
                  spans: list[tuple[float, float]]) -> list[str]:
    name = repr(info.path.name)
    out = []
    if nonfinite:
        out.append(f"{name} contained {nonfinite} invalid samples (NaN or infinity); they "
                   "were replaced with silence. Re-export the file to be safe")
    if not spans:
        out.append(f"{name} produced no clips: the Labels table has no row left for it "
                   "(all were deleted); undo the delete there to use it again")
    return out


PREROLL_S = 0.2  # decoded before an exact span so the high-pass has settled at its start


def process_clips(info: AudioInfo, clips: list[tuple[float, float]], writer: Any,
                  check: Callable[[], None], tick: Callable[[float], None]) -> int:
    """Exact-span mode: decode each span (with a little before it for the filter) and write
    it as one clip. Returns the count of non-finite samples replaced."""
    sr, nonfinite, done = writer.sr, 0, 0.0
    for a, b in clips:
        check()
        a0 = max(0.0, a - PREROLL_S)
        stats = DecodeStats(clip_bins={})
        hp = dsp.Highpass(sr, writer.s.highpass_hz)
        parts = [hp.process(block) for block in iter_blocks(
            info.path, 1 << 16, sr=sr, start=a0, stop=min(b, info.duration),
            nonfinite="zero", stats=stats, info=info)]
        audio = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        first = round((a - a0) * sr)
        writer.clip_bins = stats.clip_bins  # times from the start of the decoded region
        writer.whole(audio[first:first + round((b - a) * sr)], a, b, a - a0)
        nonfinite += stats.nonfinite
        done += b - a
        tick(done)
    return nonfinite
