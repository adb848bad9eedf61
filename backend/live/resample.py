"""A streaming resampler with a fixed, known delay, for the engine's worker thread.

``soxr.ResampleStream`` works in internal blocks: at 16 -> 48 kHz it hands out bursts
that vary by ~30 ms from call to call, and its delay changes with them, which would eat
the output's safety margin. This one resamples in whole 10 ms units: each call resamples
the new units with ``HISTORY`` of past input before them and ``GUARD`` of input after
them (soxr, HQ, on the finite segment), and keeps only the new units, which lie farther
than the filter's length from the segment's edges. Output unit k is input unit k, exactly,
so the delay is what it holds back (``held``): the guard plus less than one unit.

Rates that are not a whole number of samples per 10 ms (22050, 11025 Hz) fall back to
``soxr.ResampleStream``.
"""

from __future__ import annotations

import numpy as np
import soxr

UNITS_PER_SECOND = 100
HISTORY_UNITS = 4  # 40 ms of input before the new units (soxr needs 30 to match exactly)
GUARD_UNITS = 1  # 10 ms after them: the HQ filter reaches about 8 ms


class UnitResampler:
    def __init__(self, rate_in: int, rate_out: int):
        self.rate_in, self.rate_out = int(rate_in), int(rate_out)
        self.exact = self.rate_in % UNITS_PER_SECOND == 0 and \
            self.rate_out % UNITS_PER_SECOND == 0
        self.u_in = self.rate_in // UNITS_PER_SECOND
        self.u_out = self.rate_out // UNITS_PER_SECOND
        keep = (HISTORY_UNITS + GUARD_UNITS + 1) * self.u_in
        self._buf = np.zeros(keep, np.float32)  # the last input, newest at the end
        self._n = 0  # input samples received
        self._done = 0  # whole input units already resampled
        self._stream = None if self.exact else soxr.ResampleStream(
            self.rate_in, self.rate_out, 1, dtype="float32", quality="HQ")

    def held(self) -> float:
        """Input samples received but not yet handed out (the current delay, in input samples)."""
        if self._stream is not None:
            return float(self._stream.delay()) * self.rate_in / self.rate_out
        return float(self._n - self._done * self.u_in)

    def process(self, x: np.ndarray) -> np.ndarray:
        if self._stream is not None:
            return self._stream.resample_chunk(np.asarray(x, np.float32))
        x = np.asarray(x, np.float32)
        if len(x) >= len(self._buf):
            self._buf = np.concatenate([self._buf, x])
        else:
            self._buf = np.concatenate([self._buf[len(x):], x])
        self._n += len(x)
        ready = self._n // self.u_in - GUARD_UNITS  # units with their guard received
        new = ready - self._done
        if new <= 0:
            return np.zeros(0, np.float32)
        # segment: HISTORY units before the new ones, the new ones, then the guard
        seg_units = HISTORY_UNITS + new + GUARD_UNITS
        seg_end = len(self._buf) - (self._n - (ready + GUARD_UNITS) * self.u_in)
        seg = self._buf[max(0, seg_end - seg_units * self.u_in):seg_end]
        if len(seg) < seg_units * self.u_in:  # the first calls: silence before the start
            seg = np.concatenate([np.zeros(seg_units * self.u_in - len(seg), np.float32), seg])
        y = soxr.resample(seg, self.rate_in, self.rate_out, quality="HQ")
        self._done = ready
        keep = (HISTORY_UNITS + GUARD_UNITS + 1) * self.u_in
        if len(self._buf) > keep:
            self._buf = self._buf[-keep:].copy()
        lo = HISTORY_UNITS * self.u_out
        return np.ascontiguousarray(y[lo:lo + new * self.u_out], dtype=np.float32)
