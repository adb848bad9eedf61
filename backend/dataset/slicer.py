"""Streaming silence slicer.

Works on RMS frames (one every ``hop`` samples, centred windows of ``win``
samples, see ``dsp.RmsFramer``) and emits clip boundaries in samples as soon
as they are known, so the caller only buffers the audio of the open clip.

Semantics (RVC-like, documented in docs/preparation.md):

- A *silence* is a run of frames with RMS below the threshold. Its edges in
  samples are estimated from the first/last silent frame: ``A = i0*hop - win/2
  - hop/2`` and ``B = i1*hop + win/2 + hop/2`` (the window must clear the
  sound before a frame reads silent).
- A silence cuts the recording when it lasts at least ``min_interval`` and the
  clip so far (up to the end of the silence) is at least ``min_length`` long;
  shorter silences stay inside the clip.
- Each side of a cut keeps at most ``max_kept`` of silence: a silence no longer
  than ``2*max_kept`` is cut at its midpoint ``(A+B)/2``; a longer one ends the
  clip before it at ``A + max_kept`` and starts the next at ``B - max_kept``.
- Leading silence is trimmed to ``max_kept`` before the first sound; trailing
  silence (if at least ``min_interval``) to ``max_kept`` after the last sound.
- A clip that reaches ``max_clip`` without a usable silence is force-cut at
  its quietest frame in the last third, which bounds memory for any input.
"""

from __future__ import annotations

import numpy as np


class SilenceSlicer:
    def __init__(self, *, threshold: float, hop: int, win: int, min_length: int,
                 min_interval: int, max_kept: int, max_clip: int):
        self.threshold = threshold
        self.hop, self.win = hop, win
        self.min_length, self.min_interval = min_length, min_interval
        self.max_kept, self.max_clip = max_kept, max_clip
        self._frame = 0  # index of the next frame
        self._open: int | None = None  # start sample of the open clip
        self._sil: int | None = None  # first silent frame of the current run
        self._rms: list[float] = []  # RMS of frames since the open clip began
        self._rms_from = 0  # frame index of _rms[0]

    # geometry ------------------------------------------------------------
    def _sil_start(self) -> int:
        assert self._sil is not None
        return max(0, self._sil * self.hop - self.win // 2 - self.hop // 2)

    def _sil_end(self, last_silent: int) -> int:
        return last_silent * self.hop + self.win // 2 + self.hop // 2

    @property
    def keep_from(self) -> int:
        """Earliest sample a future clip can include; audio before it can be freed."""
        if self._open is not None:
            return self._open
        return max(0, self._frame * self.hop - self.max_kept - self.win)

    # feeding -------------------------------------------------------------
    def feed(self, rms: np.ndarray) -> list[tuple[int, int]]:
        """Consume RMS frames; return finished clips as ``(start, end)`` samples."""
        out: list[tuple[int, int]] = []
        silent = rms < self.threshold
        for value, quiet in zip(rms.tolist(), silent.tolist(), strict=True):
            i = self._frame
            self._frame += 1
            if self._open is not None:
                self._rms.append(value)
            if quiet:
                if self._sil is None:
                    self._sil = i
                self._on_silent(i, out)
            else:
                self._on_sound(i, out)
        return out

    def _eligible(self, end: int) -> bool:
        return self._open is not None and end - self._open >= self.min_length

    def _on_silent(self, i: int, out: list[tuple[int, int]]) -> None:
        if self._open is None:
            return
        a, b = self._sil_start(), self._sil_end(i)
        if b - a > 2 * self.max_kept and b - a >= self.min_interval and self._eligible(b):
            self._close(min(a + self.max_kept, b), out)

    def _on_sound(self, i: int, out: list[tuple[int, int]]) -> None:
        if self._sil is not None:
            a, b = self._sil_start(), self._sil_end(i - 1)
            self._sil = None
            if self._open is None:
                self._start(max(0, b - self.max_kept), i)
            elif b - a >= self.min_interval and self._eligible(b):
                mid = (a + b) // 2
                self._close(mid, out)
                self._start(mid, i)
            return
        if self._open is None:
            self._start(0, i)
        elif i * self.hop - self._open >= self.max_clip:
            self._force_cut(i, out)

    def _start(self, sample: int, frame: int) -> None:
        self._open = sample
        self._rms_from = min(frame, sample // self.hop)
        self._rms = [0.0] * (frame - self._rms_from + 1)

    def _close(self, end: int, out: list[tuple[int, int]]) -> None:
        assert self._open is not None
        if end > self._open:
            out.append((self._open, end))
        self._open = None
        self._rms = []

    def _force_cut(self, i: int, out: list[tuple[int, int]]) -> None:
        assert self._open is not None
        lo = len(self._rms) * 2 // 3
        pos = (self._rms_from + lo + int(np.argmin(self._rms[lo:]))) * self.hop
        pos = max(pos, self._open + self.hop)
        keep = self._rms[pos // self.hop - self._rms_from:]
        self._close(pos, out)
        self._open, self._rms_from, self._rms = pos, pos // self.hop, keep

    def finish(self, total: int) -> list[tuple[int, int]]:
        """Close the last clip once the signal (``total`` samples) has ended."""
        out: list[tuple[int, int]] = []
        if self._open is None:
            return out
        end = total
        if self._sil is not None:
            a = self._sil_start()
            if total - a >= self.min_interval:
                end = min(total, a + self.max_kept)
        if end > self._open:
            out.append((self._open, end))
        self._open = None
        return out
