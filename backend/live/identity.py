"""The identity converter: the input, resampled to the output rate.

It is what bypass plays (the engine's "hear yourself" path goes through the same
window, SOLA and latency as a conversion) and what drives the engine in tests.
"""

from __future__ import annotations

import numpy as np
import soxr

from backend.convert.settings import ConvertSettings

IN_RATE = 16000
EDGE = 160  # extra input samples on the left so the resampler's edge stays outside n_out


class IdentityConverter:
    """A ``BlockConverter`` returning the window's last ``n_out`` samples at ``output_rate``."""

    lookahead_s = 0.0

    def __init__(self, output_rate: int = 48000):
        self.output_rate = int(output_rate)
        self.calls = 0

    def reset(self) -> None:
        pass

    def convert(self, window: np.ndarray, n_new: int, n_out: int,
                settings: ConvertSettings) -> np.ndarray:
        self.calls += 1
        if self.output_rate == IN_RATE:
            seg = window[-n_out:]
        else:
            n_in = -(-n_out * IN_RATE // self.output_rate) + EDGE
            seg = soxr.resample(window[-n_in:], IN_RATE, self.output_rate, quality="HQ")
            seg = seg[-n_out:]
        if len(seg) < n_out:
            seg = np.concatenate([np.zeros(n_out - len(seg), np.float32), seg])
        return np.ascontiguousarray(seg, dtype=np.float32)
