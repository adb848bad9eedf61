"""Settings of the real-time engine and the sample counts they give."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from backend.kernel import BadArgs

RATE16 = 16000
UNIT = 0.01  # block, crossfade and context are whole multiples of 10 ms
SEARCH = 0.01  # SOLA search range
SILENT_DB = -120.0


@dataclass(frozen=True)
class EngineConfig:
    block: float = 0.25  # seconds per block
    crossfade: float = 0.05
    extra: float = 1.0  # left context the converter sees before the crossfade region
    gate_db: float = -50.0  # input RMS below this (per block, after the hold) is silenced
    gate_hold: float = 0.3  # seconds of quiet before the gate closes
    monitor: bool = True  # False: the output plays silence (the engine keeps running)
    bypass: bool = False  # True: play the input through the same path, unconverted
    margin: float = 0.02  # output safety buffer (seconds) beyond the compute time

    def check(self) -> EngineConfig:
        """Validated, rounded to 10 ms; BadArgs names the setting and its range."""
        def num(name: str, lo: float, hi: float) -> float:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not lo <= value <= hi:
                raise BadArgs(f"{name} must be a number of seconds from {lo:g} to {hi:g}, "
                              f"not {value!r}")
            return round(value / UNIT) * UNIT

        block = max(num("block", 0.02, 2.0), 0.02)
        crossfade = num("crossfade", 0.0, 2.0)
        if crossfade > block:
            raise BadArgs(f"crossfade ({crossfade:g} s) cannot be longer than the block "
                          f"({block:g} s)")
        extra = num("extra", 0.0, 10.0)
        gate = self.gate_db
        if isinstance(gate, bool) or not isinstance(gate, int | float) or not -120 <= gate <= 0:
            raise BadArgs(f"gate_db must be a level in dBFS from -120 (off) to 0, not {gate!r}")
        for name in ("monitor", "bypass"):
            if not isinstance(getattr(self, name), bool):
                raise BadArgs(f"{name} must be true or false")
        return dataclasses.replace(self, block=block, crossfade=crossfade, extra=extra,
                                   gate_db=float(gate))


def level_db(x: np.ndarray) -> float:
    if len(x) == 0:
        return SILENT_DB
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    return max(SILENT_DB, 20.0 * math.log10(rms + 1e-12))


class Sizes:
    """Sample counts of one configuration."""

    def __init__(self, cfg: EngineConfig, model_rate: int):
        def n(seconds: float, rate: int) -> int:
            return int(round(seconds * rate))

        self.b16, self.c16, self.s16 = n(cfg.block, RATE16), n(cfg.crossfade, RATE16), \
            n(SEARCH, RATE16)
        self.window16 = n(cfg.extra, RATE16) + self.c16 + self.s16 + self.b16
        self.block = n(cfg.block, model_rate)
        self.crossfade = n(cfg.crossfade, model_rate)
        self.search = n(SEARCH, model_rate)
        self.n_out = self.block + self.crossfade + self.search
