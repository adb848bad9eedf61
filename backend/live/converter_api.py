"""The contract between the real-time engine and whatever converts its blocks.

The engine owns timing, buffers, SOLA and crossfades; a ``BlockConverter`` turns the most
recent input window into output audio. An identity converter (resampling only) drives the
engine in tests; ``backend.live.converter`` is the voice-model converter.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from backend.convert.settings import ConvertSettings


class BlockConverter(Protocol):
    output_rate: int  # Hz of the audio ``convert`` returns

    def reset(self) -> None:
        """Forget cached state (pitch, features): the next window is unrelated to the last."""

    def convert(self, window: np.ndarray, n_new: int, n_out: int,
                settings: ConvertSettings) -> np.ndarray:
        """``window``: float32 mono 16 kHz, the most recent input (left context, then the
        new samples); its last ``n_new`` samples arrived since the previous call. Returns
        exactly ``n_out`` float32 samples at ``output_rate``: the converted audio that ends
        where ``window`` ends. Called from the engine's worker thread only."""
        ...
