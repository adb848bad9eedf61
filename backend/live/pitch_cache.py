"""Rolling pitch for real-time conversion: f0 computed only for the frames that are new.

The engine hands the converter a sliding 16 kHz window (left context, then the newest
samples). :class:`RollingPitch` returns the f0 of every 10 ms frame of that window, on the
same grid as :meth:`F0Extractor.extract` over the whole window (``len // 160 + 1`` frames,
frame ``i`` centred on sample ``160 i``) and with the same per-method rules, but each update
runs the pitch method only over

- the new samples,
- the last ``revise`` frames of the previous update (they were computed next to the end of
  the audio and now have audio to their right), and
- ``context`` frames of audio to the left of those (analysis windows, harvest's and Praat's
  few periods of the lowest pitch, RMVPE's 32-frame blocks and recurrent layer).

Frames are kept on a grid that is fixed to the stream (absolute frame ``k`` is centred on
stream sample ``160 k``, counted from the last reset), so they stay valid while the window
slides, whatever ``n_new`` is. When the window's start is not on that grid (``n_new`` not a
multiple of 160), the window's frames are read off the stream grid by linear interpolation
(nearest frame next to unvoiced ones). A window of another length (the block size changed)
or an update with more new samples than the window holds starts over (:meth:`reset`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from backend.features.f0 import F0_MAX, F0_MIN, HOP, F0Error, F0Extractor, method_info


@dataclass(frozen=True)
class _Context:
    left: int  # frames of audio the method needs before the first frame it recomputes
    revise: int  # frames at the end of the previous update computed again
    align: int = 1  # the analysed audio starts on a stream frame that is a multiple of this


# Measured with tests/live/test_pitch_cache.py (rolling vs one pass over the window).
CONTEXT = {
    "harvest": _Context(left=30, revise=20),
    "dio": _Context(left=10, revise=20),
    "pm": _Context(left=30, revise=20),
    "crepe": _Context(left=6, revise=4),
    "crepe-tiny": _Context(left=6, revise=4),
    # RMVPE's U-Net pools 2x2 five times: its output depends on where its 32-frame blocks
    # start, so segments start on the stream's 32-frame grid, as a one-pass run over the
    # whole stream does (its chunks start there too)
    "rmvpe": _Context(left=64, revise=32, align=32),
}


class RollingPitch:
    """f0 (Hz, 0 = unvoiced) of a sliding 16 kHz window, recomputing only new frames.

    ``context_s`` is the audio given to the method to the left of the frames it recomputes
    (at least the method's own need, :data:`CONTEXT`). Not thread-safe: one per stream.
    """

    def __init__(self, extractor: F0Extractor, method: str, *, context_s: float,
                 filter_radius: int = 3, f0_min: float = F0_MIN,
                 f0_max: float = F0_MAX) -> None:
        if not context_s >= 0:
            raise F0Error(f"context_s must be 0 or more seconds, not {context_s!r}")
        self.extractor = extractor
        self.method = method_info(method).name
        need = CONTEXT[self.method]
        self.context_frames = max(need.left, math.ceil(context_s * 100))
        self.revise_frames = need.revise
        self.align = need.align
        self.filter_radius = filter_radius
        self.f0_min, self.f0_max = f0_min, f0_max
        self.frames_computed = 0  # frames the method produced in the last update
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next window is analysed whole."""
        self._size: int | None = None  # window length in samples
        self._end = 0  # stream samples up to the window's end
        self._k0 = 0  # stream frame of self._f0[0]
        self._f0 = np.zeros(0, np.float32)
        self._final = 0  # stream frames below this are not computed again

    def update(self, window16k: np.ndarray, n_new: int) -> np.ndarray:
        """f0 of every frame of ``window16k`` (float32, ``len // 160 + 1`` frames); its last
        ``n_new`` samples arrived since the previous call, the rest is the previous window
        shifted left by ``n_new``."""
        window = np.asarray(window16k)
        if window.ndim != 1:
            raise F0Error(f"RollingPitch needs a mono window (1-D); got shape {window.shape}")
        if isinstance(n_new, bool) or int(n_new) != n_new or n_new < 0:
            raise F0Error(f"n_new must be a whole number of samples >= 0, not {n_new!r}")
        n_new = int(n_new)
        size = window.shape[0]
        if self._size != size or n_new > size:
            self.reset()
            self._size, self._end = size, size
            self._compute(window, 0)
            return self._frames_of_window(size)
        if n_new:
            self._end += n_new
            start = self._end - size
            first = max(self._final, -(-start // HOP))  # first stream frame to recompute
            self._compute(window, first)
        else:
            self.frames_computed = 0
        return self._frames_of_window(size)

    def _compute(self, window: np.ndarray, first: int) -> None:
        """Run the method from ``context`` frames before stream frame ``first`` to the end
        of ``window`` and store frames ``first``.. in the cache."""
        start = self._end - window.shape[0]
        w0 = -(-start // HOP)  # the window's first frame on the stream grid
        seg_first = (first - self.context_frames) // self.align * self.align
        if seg_first < w0:  # not that much audio in the window: the first grid frame in it
            up = -(-w0 // self.align) * self.align
            seg_first = up if up <= first else w0
        segment = window[seg_first * HOP - start:]
        f0 = self.extractor.extract(segment, self.method, filter_radius=self.filter_radius,
                                    f0_min=self.f0_min, f0_max=self.f0_max)
        self.frames_computed = int(f0.shape[0])
        new = f0[first - seg_first:]
        keep_from = max(self._k0, start // HOP - 1)  # one frame left of the window: interp.
        old = self._f0[keep_from - self._k0:max(keep_from, first) - self._k0]
        gap = np.zeros(max(0, first - (keep_from + old.shape[0])), np.float32)
        self._f0 = np.concatenate([old, gap, new]).astype(np.float32, copy=False)
        self._k0 = keep_from if old.shape[0] or gap.shape[0] else first
        self._final = seg_first + f0.shape[0] - self.revise_frames

    def _frames_of_window(self, size: int) -> np.ndarray:
        """The cache read at the window's frame centres ``start + 160 i``."""
        start = self._end - size
        count = size // HOP + 1
        pos = (start + HOP * np.arange(count)) / HOP - self._k0  # in cache frames
        last = self._f0.shape[0] - 1
        lo = np.clip(np.floor(pos).astype(np.int64), 0, last)
        hi = np.clip(lo + 1, 0, last)
        frac = np.clip(pos - lo, 0.0, 1.0)
        a, b = self._f0[lo], self._f0[hi]
        if start % HOP == 0:
            return a.copy()
        both = (a > 0) & (b > 0)
        nearest = np.where(frac < 0.5, a, b)
        return np.where(both, a * (1 - frac) + b * frac, nearest).astype(np.float32)
